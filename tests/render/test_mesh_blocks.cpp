// Slab-wise marching cubes (render/mesh_blocks.h): the same mesh as marching cubes on the whole
// grid, for every block size; bounded field calls; closing at the border; progress and cancelling.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <vector>

#include "render/marching_cubes.h"
#include "render/mesh.h"
#include "render/mesh_blocks.h"

namespace {

at::Tensor lo3() { return at::tensor({-1.0f, -0.9f, -1.1f}); }
at::Tensor hi3() { return at::tensor({1.0f, 1.2f, 0.95f}); }

// Two blobs: a torus (genus 1) and a ball, as a density (inside > 1).
at::Tensor blobs(const at::Tensor& p) {  // [N, 3] -> [N]
  const at::Tensor x = p.select(1, 0), y = p.select(1, 1), z = p.select(1, 2);
  const at::Tensor q = at::stack({(x + 0.35).mul(x + 0.35).add(y * y).sqrt() - 0.4, z}, 1).norm(2, {1});
  const at::Tensor torus = 2.0 - q / 0.15;  // > 1 within 0.15 of the ring
  const at::Tensor ball = 2.0 - (p - at::tensor({0.6f, 0.3f, 0.2f})).norm(2, {1}) / 0.25;
  return at::maximum(torus, ball);
}

nf::Mesh blockwise(int64_t R, int64_t block, bool greater = true, bool close = false, double level = 1.0) {
  nf::BlockMeshOptions o;
  o.resolution = R;
  o.block = block;
  o.level = level;
  o.inside_is_greater = greater;
  o.close_border = close;
  return nf::extract_mesh_blockwise(blobs, lo3(), hi3(), o);
}

}  // namespace

TEST(MeshBlocks, EqualsWholeGridMarchingCubesForEveryBlock) {
  const int64_t R = 41;
  const nf::Mesh full = nf::extract_mesh(blobs, R, 1.0, lo3(), hi3(), R, true);
  ASSERT_GT(full.num_faces(), 500);
  EXPECT_EQ(nf::count_boundary_edges(full), 0);
  EXPECT_EQ(nf::euler_characteristic(full), 2);  // sphere (2) + torus (0)
  for (int64_t block : {3, 7, 16, 40, 64}) {
    const nf::Mesh m = blockwise(R, block);
    ASSERT_EQ(m.num_vertices(), full.num_vertices()) << "block " << block;
    EXPECT_TRUE(at::equal(m.vertices, full.vertices)) << "block " << block;
    EXPECT_TRUE(at::equal(m.faces, full.faces)) << "block " << block;
    EXPECT_TRUE(at::allclose(m.normals, full.normals, 1e-5, 1e-6)) << "block " << block;
  }
  // Blocks of one and two node layers (slabs without cells, shared layers everywhere).
  const nf::Mesh small = nf::extract_mesh(blobs, 12, 1.0, lo3(), hi3(), 12, true);
  ASSERT_GT(small.num_faces(), 0);
  for (int64_t block : {1, 2}) {
    const nf::Mesh m = blockwise(12, block);
    EXPECT_TRUE(at::equal(m.vertices, small.vertices)) << "block " << block;
    EXPECT_TRUE(at::equal(m.faces, small.faces)) << "block " << block;
  }
  // An SDF (inside < level) too.
  const nf::FieldFn neg = [](const at::Tensor& p) { return -blobs(p); };
  const nf::Mesh sdf_full = nf::extract_mesh(neg, R, -1.0, lo3(), hi3(), 64, false);
  nf::BlockMeshOptions o;
  o.resolution = R;
  o.block = 5;
  o.level = -1.0;
  o.inside_is_greater = false;
  const nf::Mesh sdf = nf::extract_mesh_blockwise(neg, lo3(), hi3(), o);
  EXPECT_TRUE(at::equal(sdf.vertices, sdf_full.vertices));
  EXPECT_TRUE(at::equal(sdf.faces, sdf_full.faces));
}

TEST(MeshBlocks, FieldCallsAreBoundedAndProgressRuns) {
  int64_t max_points = 0, points = 0;
  nf::FieldFn fn = [&](const at::Tensor& p) {
    max_points = std::max(max_points, p.size(0));
    points += p.size(0);
    return blobs(p);
  };
  nf::BlockMeshOptions o;
  o.resolution = 33;
  o.block = 8;
  o.level = 1.0;
  std::vector<double> fractions;
  o.progress = [&](double f) {
    fractions.push_back(f);
    return true;
  };
  const nf::Mesh m = nf::extract_mesh_blockwise(fn, lo3(), hi3(), o);
  EXPECT_GT(m.num_faces(), 0);
  EXPECT_LE(max_points, 8 * 8 * 8);
  // 33 node layers: 5 slabs of 8 sampled layers (the last has 1); every node is evaluated once
  // (a slab's first layer is the previous slab's last one).
  ASSERT_EQ(fractions.size(), 5u);
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  for (size_t i = 1; i < fractions.size(); ++i) EXPECT_GT(fractions[i], fractions[i - 1]);
  EXPECT_EQ(points, 33 * 33 * 33);
}

TEST(MeshBlocks, CancelThrows) {
  nf::BlockMeshOptions o;
  o.resolution = 33;
  o.block = 8;
  o.level = 1.0;
  int seen = 0;
  o.progress = [&](double) { return ++seen < 2; };
  EXPECT_THROW(nf::extract_mesh_blockwise(blobs, lo3(), hi3(), o), nf::MeshCancelled);
  EXPECT_EQ(seen, 2);
}

TEST(MeshBlocks, CloseBorderGivesAClosedMeshWhereTheSurfaceLeavesTheBox) {
  // A slab density inside for |z| < 0.5 crosses the whole box: open without closing, closed with.
  const nf::FieldFn slab = [](const at::Tensor& p) { return 1.0 - p.select(1, 2).abs(); };  // inside > 0.5
  nf::BlockMeshOptions o;
  o.resolution = 24;
  o.block = 5;
  o.level = 0.5;
  const nf::Mesh open = nf::extract_mesh_blockwise(slab, lo3(), hi3(), o);
  EXPECT_GT(nf::count_boundary_edges(open), 0);
  o.close_border = true;
  const nf::Mesh closed = nf::extract_mesh_blockwise(slab, lo3(), hi3(), o);
  EXPECT_EQ(nf::count_boundary_edges(closed), 0);
  EXPECT_EQ(nf::count_nonmanifold_edges(closed), 0);
  EXPECT_EQ(nf::euler_characteristic(closed), 2);
  EXPECT_GT(nf::signed_volume(closed), 0.0);
  // The same as closing the whole grid by hand.
  at::Tensor g = nf::sample_grid(slab, 24, lo3(), hi3(), 24);
  for (int64_t a = 0; a < 3; ++a) {
    g.select(a, 0).clamp_max_(-0.5);
    g.select(a, 23).clamp_max_(-0.5);
  }
  const nf::Mesh ref = nf::marching_cubes(g, 0.5, lo3(), hi3(), true);
  EXPECT_TRUE(at::equal(closed.vertices, ref.vertices));
  EXPECT_TRUE(at::equal(closed.faces, ref.faces));
}

TEST(MeshBlocks, EmptySurfaceAndBadArguments) {
  nf::BlockMeshOptions o;
  o.resolution = 9;
  o.block = 4;
  o.level = 100.0;
  const nf::Mesh e = nf::extract_mesh_blockwise(blobs, lo3(), hi3(), o);
  EXPECT_EQ(e.num_vertices(), 0);
  EXPECT_EQ(e.num_faces(), 0);
  o.resolution = 1;
  EXPECT_THROW(nf::extract_mesh_blockwise(blobs, lo3(), hi3(), o), std::runtime_error);
  o.resolution = 9;
  o.block = 0;
  EXPECT_THROW(nf::extract_mesh_blockwise(blobs, lo3(), hi3(), o), std::runtime_error);
}
