// Marching cubes (CPU oracle, CUDA equality), mesh utilities and PLY / OBJ export.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "render/marching_cubes.h"
#include "render/mesh.h"
#include "support/test_data.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

at::Tensor bmin3(double v = -1.0) { return at::full({3}, v, at::kFloat); }
at::Tensor bmax3(double v = 1.0) { return at::full({3}, v, at::kFloat); }

// Node positions of an [nx, ny, nz] grid spanning [lo, hi]^3: [nx, ny, nz, 3].
at::Tensor grid_points(int64_t nx, int64_t ny, int64_t nz, double lo = -1.0, double hi = 1.0) {
  auto ax = [&](int64_t n) { return at::linspace(lo, hi, n, at::kFloat); };
  auto m = at::meshgrid({ax(nx), ax(ny), ax(nz)}, "ij");
  return at::stack({m[0], m[1], m[2]}, 3);
}

at::Tensor sphere_sdf(const at::Tensor& p, double r) { return p.norm(2, {-1}) - r; }  // [...]

at::Tensor torus_sdf(const at::Tensor& p, double R, double r) {  // ring in the xy plane
  const at::Tensor q = at::stack({p.select(-1, 0), p.select(-1, 1)}, -1).norm(2, {-1}) - R;
  return at::stack({q, p.select(-1, 2)}, -1).norm(2, {-1}) - r;
}

// Every undirected edge used by exactly two faces, in opposite directions (closed, oriented).
void expect_closed_oriented(const nf::Mesh& m) {
  EXPECT_EQ(nf::count_boundary_edges(m), 0);
  EXPECT_EQ(nf::count_nonmanifold_edges(m), 0);
  const int64_t V = m.num_vertices();
  const at::Tensor f = m.faces;
  const at::Tensor a = at::cat({f.select(1, 0), f.select(1, 1), f.select(1, 2)});
  const at::Tensor b = at::cat({f.select(1, 1), f.select(1, 2), f.select(1, 0)});
  const int64_t directed = std::get<0>(at::_unique(a * V + b)).numel();
  EXPECT_EQ(directed, 3 * m.num_faces()) << "a directed edge repeats: inconsistent winding";
}

TEST(MarchingCubes, SphereSdfIsClosedAccurateAndOutward) {
  const double r = 0.7, cell = 2.0 / 47;
  const at::Tensor grid = sphere_sdf(grid_points(48, 48, 48), r);  // inside < 0
  const nf::Mesh m = nf::marching_cubes(grid, 0.0, bmin3(), bmax3(), /*inside_is_greater=*/false);
  ASSERT_GT(m.num_faces(), 1000);
  EXPECT_EQ(nf::euler_characteristic(m), 2);
  expect_closed_oriented(m);
  const at::Tensor dist = (m.vertices.norm(2, {1}) - r).abs();
  EXPECT_LT(dist.max().item<double>(), cell);
  EXPECT_NEAR(nf::surface_area(m) / (4 * kPi * r * r), 1.0, 0.02);
  EXPECT_NEAR(nf::signed_volume(m) / (4.0 / 3.0 * kPi * r * r * r), 1.0, 0.02);  // > 0: outward
  // Per-vertex normals point away from the centre.
  const at::Tensor radial = m.vertices / m.vertices.norm(2, {1}, true);
  EXPECT_GT((m.normals * radial).sum(1).min().item<double>(), 0.9);
}

TEST(MarchingCubes, SmoothAndBinaryOccupancySpheres) {
  const double r = 0.6, cell = 2.0 / 47;
  const at::Tensor d = sphere_sdf(grid_points(48, 48, 48), r);
  // Smooth occupancy (0.5 exactly on the sphere): accurate area.
  const nf::Mesh smooth = nf::marching_cubes(at::sigmoid(-d / 0.05), 0.5, bmin3(), bmax3(), true);
  EXPECT_EQ(nf::euler_characteristic(smooth), 2);
  expect_closed_oriented(smooth);
  EXPECT_NEAR(nf::surface_area(smooth) / (4 * kPi * r * r), 1.0, 0.03);
  EXPECT_GT(nf::signed_volume(smooth), 0.0);
  // Hard 0/1 labels: still closed, vertices at edge midpoints within a cell of the sphere.
  const nf::Mesh hard = nf::marching_cubes(d.lt(0).to(at::kFloat), 0.5, bmin3(), bmax3(), true);
  EXPECT_EQ(nf::euler_characteristic(hard), 2);
  expect_closed_oriented(hard);
  EXPECT_LT((hard.vertices.norm(2, {1}) - r).abs().max().item<double>(), cell);
  EXPECT_GT(nf::signed_volume(hard), 0.0);
}

TEST(MarchingCubes, NonCubicGridAndBox) {
  // 30 x 40 x 50 nodes over [-1,1] x [-2,2] x [-3,3]: axis 0 is x, 1 is y, 2 is z.
  auto ax = [](int64_t n, double h) { return at::linspace(-h, h, n, at::kFloat); };
  auto g = at::meshgrid({ax(30, 1), ax(40, 2), ax(50, 3)}, "ij");
  const at::Tensor p = at::stack({g[0], g[1] / 2, g[2] / 3}, 3);  // ellipsoid x^2+(y/2)^2+(z/3)^2
  const at::Tensor lo = at::tensor({-1.f, -2.f, -3.f}), hi = at::tensor({1.f, 2.f, 3.f});
  const nf::Mesh m = nf::marching_cubes(sphere_sdf(p, 0.8), 0.0, lo, hi, false);
  EXPECT_EQ(nf::euler_characteristic(m), 2);
  expect_closed_oriented(m);
  const at::Tensor v = m.vertices;
  const at::Tensor q = at::stack({v.select(1, 0), v.select(1, 1) / 2, v.select(1, 2) / 3}, 1);
  EXPECT_LT((q.norm(2, {1}) - 0.8).abs().max().item<double>(), 0.08);
  EXPECT_NEAR(v.select(1, 2).max().item<double>(), 2.4, 0.13);  // z half-axis 3 * 0.8
}

TEST(MarchingCubes, TorusHasEulerCharacteristicZero) {
  const at::Tensor grid = torus_sdf(grid_points(48, 48, 48), 0.6, 0.25);
  const nf::Mesh m = nf::marching_cubes(grid, 0.0, bmin3(), bmax3(), false);
  EXPECT_EQ(nf::euler_characteristic(m), 0);
  expect_closed_oriented(m);
  EXPECT_NEAR(nf::surface_area(m) / (4 * kPi * kPi * 0.6 * 0.25), 1.0, 0.03);
}

TEST(MarchingCubes, RandomFieldsGiveClosedOrientedMeshes) {
  // Every ambiguous face configuration occurs; the border is outside so the surface is closed.
  at::manual_seed(3);
  for (bool greater : {true, false}) {
    at::Tensor g = at::randn({14, 15, 16});
    const float out = greater ? -5.f : 5.f;
    for (int a = 0; a < 3; ++a) {
      g.select(a, 0).fill_(out);
      g.select(a, g.size(a) - 1).fill_(out);
    }
    const nf::Mesh m = nf::marching_cubes(g, 0.0, bmin3(), bmax3(), greater);
    ASSERT_GT(m.num_faces(), 1000);
    expect_closed_oriented(m);
    EXPECT_GT(nf::signed_volume(m), 0.0);
  }
}

TEST(MarchingCubes, SignConventionsAgreeAndEmptyFieldGivesEmptyMesh) {
  const at::Tensor d = torus_sdf(grid_points(20, 21, 22), 0.5, 0.2);
  const nf::Mesh a = nf::marching_cubes(d, 0.0, bmin3(), bmax3(), false);
  const nf::Mesh b = nf::marching_cubes(-d, 0.0, bmin3(), bmax3(), true);
  EXPECT_TRUE(at::equal(a.vertices, b.vertices));
  EXPECT_TRUE(at::equal(a.faces, b.faces));
  const nf::Mesh e = nf::marching_cubes(at::ones({8, 8, 8}), 0.5, bmin3(), bmax3(), false);
  EXPECT_EQ(e.num_vertices(), 0);
  EXPECT_EQ(e.num_faces(), 0);
  EXPECT_THROW(nf::marching_cubes(at::ones({8, 8}), 0.5, bmin3(), bmax3()), std::runtime_error);
}

TEST(MarchingCubes, BlockwiseExtractEqualsFullGrid) {
  const int64_t R = 37, block = 16;
  int64_t max_points = 0, calls = 0;
  nf::FieldFn fn = [&](const at::Tensor& p) {  // [N, 3] -> [N]
    max_points = std::max(max_points, p.size(0));
    ++calls;
    return torus_sdf(p, 0.55, 0.22);
  };
  const nf::Mesh blocked = nf::extract_mesh(fn, R, 0.0, bmin3(), bmax3(), block, false);
  EXPECT_LE(max_points, block * block * block);
  EXPECT_EQ(calls, 27);
  // The full grid in one call, and the same field on linspace nodes.
  const at::Tensor grid = nf::sample_grid(fn, R, bmin3(), bmax3(), R);
  EXPECT_EQ(max_points, R * R * R);
  const nf::Mesh full = nf::marching_cubes(grid, 0.0, bmin3(), bmax3(), false);
  EXPECT_TRUE(at::equal(blocked.vertices, full.vertices));
  EXPECT_TRUE(at::equal(blocked.faces, full.faces));
  EXPECT_TRUE(at::allclose(grid, torus_sdf(grid_points(R, R, R), 0.55, 0.22), 0, 1e-6));
  EXPECT_EQ(nf::euler_characteristic(blocked), 0);
}

TEST(MeshUtils, TetrahedronTopologyAndWelding) {
  nf::Mesh t;
  t.vertices = at::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f}).view({4, 3});
  t.faces = at::tensor({0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3}, at::kLong).view({4, 3});
  EXPECT_EQ(nf::euler_characteristic(t), 2);
  EXPECT_EQ(nf::count_boundary_edges(t), 0);
  EXPECT_NEAR(nf::signed_volume(t), 1.0 / 6.0, 1e-9);
  nf::Mesh open = t;
  open.faces = t.faces.slice(0, 0, 3);
  EXPECT_EQ(nf::count_boundary_edges(open), 3);
  // Triangle soup (12 vertices) welds back to the closed tetrahedron.
  nf::Mesh soup;
  soup.vertices = t.vertices.index_select(0, t.faces.reshape(-1));
  soup.faces = at::arange(12, at::kLong).view({4, 3});
  EXPECT_EQ(nf::count_boundary_edges(soup), 12);
  const nf::Mesh w = nf::weld_vertices(soup);
  EXPECT_EQ(w.num_vertices(), 4);
  EXPECT_EQ(nf::euler_characteristic(w), 2);
  EXPECT_EQ(nf::count_boundary_edges(w), 0);
  EXPECT_NEAR(nf::signed_volume(w), 1.0 / 6.0, 1e-9);
}

// ---- export: write, then parse the files back here
struct PlyData {
  int64_t nv = -1, nf = -1;
  std::vector<std::string> vprops;
  std::vector<float> xyz;
  std::vector<int32_t> faces;
};

PlyData read_ply(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  PlyData d;
  std::string line, elem;
  std::getline(in, line);
  EXPECT_EQ(line, "ply");
  while (std::getline(in, line) && line != "end_header") {
    std::istringstream ls(line);
    std::string w;
    ls >> w;
    if (w == "format") {
      ls >> w;
      EXPECT_EQ(w, "binary_little_endian");
    } else if (w == "element") {
      ls >> elem;
      (elem == "vertex" ? d.nv : d.nf) = [&] { int64_t n; ls >> n; return n; }();
    } else if (w == "property" && elem == "vertex") {
      std::string type, name;
      ls >> type >> name;
      d.vprops.push_back(type + " " + name);
    }
  }
  for (int64_t i = 0; i < d.nv; ++i)
    for (const auto& p : d.vprops) {
      if (p.rfind("float", 0) == 0) {
        float x;
        in.read(reinterpret_cast<char*>(&x), 4);
        if (p == "float x" || p == "float y" || p == "float z") d.xyz.push_back(x);
      } else {
        in.ignore(1);  // uchar colour
      }
    }
  for (int64_t i = 0; i < d.nf; ++i) {
    unsigned char n = 0;
    in.read(reinterpret_cast<char*>(&n), 1);
    EXPECT_EQ(n, 3);
    for (int k = 0; k < 3; ++k) {
      int32_t v;
      in.read(reinterpret_cast<char*>(&v), 4);
      d.faces.push_back(v);
    }
  }
  EXPECT_TRUE(in.good());
  EXPECT_EQ(in.peek(), EOF);  // nothing after the faces
  return d;
}

TEST(MeshExport, PlyAndObjRoundTrip) {
  const auto dir = nf_test::scratch("render_mc_export");
  nf::Mesh m = nf::marching_cubes(sphere_sdf(grid_points(16, 16, 16), 0.6), 0.0, bmin3(), bmax3(),
                                  false);
  m.colors = (m.vertices + 1) / 2;
  const std::string ply = (dir / "sphere.ply").string(), obj = (dir / "sphere.obj").string();
  nf::write_ply(ply, m);
  nf::write_obj(obj, m);
  EXPECT_FALSE(std::filesystem::exists(ply + ".tmp"));

  const PlyData d = read_ply(ply);
  EXPECT_EQ(d.nv, m.num_vertices());
  EXPECT_EQ(d.nf, m.num_faces());
  EXPECT_EQ(d.vprops.size(), 9u);  // xyz, normals, rgb
  const at::Tensor xyz = at::from_blob(const_cast<float*>(d.xyz.data()), {d.nv, 3}).clone();
  EXPECT_TRUE(at::equal(xyz, m.vertices));
  const at::Tensor f = at::from_blob(const_cast<int32_t*>(d.faces.data()), {d.nf, 3}, at::kInt);
  EXPECT_TRUE(at::equal(f.to(at::kLong), m.faces));

  std::ifstream in(obj);
  std::string line;
  int64_t nv = 0, nvn = 0, nf = 0;
  std::vector<float> v;
  std::vector<int64_t> faces;
  while (std::getline(in, line)) {
    std::istringstream ls(line);
    std::string w;
    ls >> w;
    if (w == "v") {
      ++nv;
      for (int k = 0; k < 3; ++k) { float x; ls >> x; v.push_back(x); }
    } else if (w == "vn") {
      ++nvn;
    } else if (w == "f") {
      ++nf;
      for (int k = 0; k < 3; ++k) {
        std::string tok;
        ls >> tok;  // a//a
        faces.push_back(std::stoll(tok.substr(0, tok.find('/'))) - 1);
      }
    }
  }
  EXPECT_EQ(nv, m.num_vertices());
  EXPECT_EQ(nvn, m.num_vertices());
  EXPECT_EQ(nf, m.num_faces());
  EXPECT_TRUE(at::allclose(at::tensor(v).view({-1, 3}), m.vertices, 0, 1e-6));
  EXPECT_TRUE(at::equal(at::tensor(faces, at::kLong).view({-1, 3}), m.faces));

  // Errors name the file (missing folders are created, so write below a regular file instead).
  std::ofstream(dir / "not_a_dir") << "x";
  const std::string bad = (dir / "not_a_dir" / "x.ply").string();
  try {
    nf::write_ply(bad, m);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(bad), std::string::npos) << e.what();
  }
}

// ---- CUDA == CPU (same vertex and face order by construction)
void expect_cuda_equals_cpu(const at::Tensor& grid, bool greater, double level) {
  const at::Tensor lo = at::tensor({-1.f, -0.5f, -2.f}), hi = at::tensor({1.f, 1.5f, 0.f});
  const nf::Mesh c = nf::marching_cubes(grid, level, lo, hi, greater);
  const nf::Mesh g = nf::marching_cubes(grid.cuda(), level, lo, hi, greater);
  ASSERT_TRUE(g.vertices.is_cuda());
  ASSERT_EQ(g.num_vertices(), c.num_vertices());
  ASSERT_EQ(g.num_faces(), c.num_faces());
  if (c.num_vertices() > 0)
    EXPECT_EQ((g.vertices.cpu() - c.vertices).abs().max().item<float>(), 0.f);
  EXPECT_TRUE(at::equal(g.faces.cpu(), c.faces));
  EXPECT_TRUE(at::allclose(g.normals.cpu(), c.normals, 1e-4, 1e-4));
}

TEST(MarchingCubesCuda, EqualsCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  expect_cuda_equals_cpu(sphere_sdf(grid_points(48, 48, 48), 0.7), false, 0.0);
  expect_cuda_equals_cpu(torus_sdf(grid_points(40, 48, 56), 0.6, 0.25), false, 0.0);
  at::manual_seed(5);
  expect_cuda_equals_cpu(at::rand({33, 17, 25}), true, 0.5);  // many ambiguous cells
  expect_cuda_equals_cpu(at::zeros({9, 9, 9}), true, 0.5);    // empty
  // extract_mesh with the points on the GPU.
  nf::FieldFn fn = [](const at::Tensor& p) { return torus_sdf(p, 0.55, 0.22); };
  const nf::Mesh a = nf::extract_mesh(fn, 64, 0.0, bmin3().cuda(), bmax3().cuda(), 24, false);
  const nf::Mesh b = nf::extract_mesh(fn, 64, 0.0, bmin3(), bmax3(), 24, false);
  EXPECT_TRUE(a.vertices.is_cuda());
  EXPECT_TRUE(at::equal(a.faces.cpu(), b.faces));
  EXPECT_TRUE(at::allclose(a.vertices.cpu(), b.vertices, 0, 1e-5));
  EXPECT_EQ(nf::euler_characteristic(a), 0);
}

}  // namespace
