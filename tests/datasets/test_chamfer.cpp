// Surface sampling, radius thinning and chamfer distances on shapes with known answers.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>

#include "datasets/chamfer.h"
#include "fields/mesh.h"
#include "support/test_data.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

using Tri = nf::Mesh;  // vertices [V, 3] float32, faces [F, 3] int64

// Unit cube [0, 1]^3 shifted by `shift` along x, 12 outward triangles.
Tri cube(double shift = 0) {
  at::Tensor v = at::empty({8, 3});
  for (int i = 0; i < 8; ++i) {
    v[i][0] = float((i & 1) + shift);
    v[i][1] = float((i >> 1) & 1);
    v[i][2] = float((i >> 2) & 1);
  }
  const at::Tensor f = at::tensor({0, 2, 1, 1, 2, 3, 4, 5, 6, 5, 7, 6, 0, 1, 4, 1, 5, 4,
                                   2, 6, 3, 3, 6, 7, 0, 4, 2, 2, 4, 6, 1, 3, 5, 3, 7, 5}, at::kLong).view({12, 3});
  return {v, f};
}

// UV sphere of radius r.
Tri sphere(double r, int n_lat = 24, int n_lon = 48) {
  std::vector<float> v;
  std::vector<int64_t> f;
  for (int i = 0; i <= n_lat; ++i)
    for (int j = 0; j < n_lon; ++j) {
      const double th = kPi * i / n_lat, ph = 2 * kPi * j / n_lon;
      v.insert(v.end(), {float(r * std::sin(th) * std::cos(ph)), float(r * std::sin(th) * std::sin(ph)),
                         float(r * std::cos(th))});
    }
  for (int i = 0; i < n_lat; ++i)
    for (int j = 0; j < n_lon; ++j) {
      const int64_t a = i * n_lon + j, b = i * n_lon + (j + 1) % n_lon, c = a + n_lon, d = b + n_lon;
      f.insert(f.end(), {a, c, b, b, c, d});
    }
  return {at::tensor(v).view({-1, 3}), at::tensor(f, at::kLong).view({-1, 3})};
}

// Regular n x n grid on the unit square at height z. -> [n*n, 3]
at::Tensor grid(int n, double z) {
  const at::Tensor t = at::linspace(0, 1, n, at::kDouble);
  const auto g = at::meshgrid({t, t}, "ij");
  return at::stack({g[0].reshape(-1), g[1].reshape(-1), at::full({n * n}, z, at::kDouble)}, 1);
}

}  // namespace

TEST(Chamfer, SampleSurfaceCountPlacementSeed) {
  const Tri c = cube();
  const at::Tensor p = nf::sample_surface(c, 1000.0, 7);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{6000, 3}));  // area 6
  EXPECT_EQ(p.scalar_type(), at::kFloat);
  // Every point on the surface: some coordinate is 0 or 1, all inside [0, 1].
  const at::Tensor on = ((p < 1e-6) | (p > 1 - 1e-6)).any(1);
  EXPECT_TRUE(on.all().item<bool>());
  EXPECT_GE(p.min().item<float>(), -1e-6f);
  EXPECT_LE(p.max().item<float>(), 1 + 1e-6f);
  // Uniform over the area: each of the 6 faces gets ~1/6 of the points (face x = 0 here).
  const double frac_x0 = (p.select(1, 0) < 1e-6).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(frac_x0, 1.0 / 6, 0.02);
  // And within a face: the mean is the face centre.
  EXPECT_NEAR(p.select(1, 1).masked_select(p.select(1, 0) < 1e-6).mean().item<float>(), 0.5f, 0.03f);
  EXPECT_TRUE(at::equal(p, nf::sample_surface(c, 1000.0, 7)));
  EXPECT_FALSE(at::equal(p, nf::sample_surface(c, 1000.0, 8)));
  EXPECT_THROW(nf::sample_surface(c, 0.0), std::runtime_error);
  EXPECT_THROW(nf::sample_surface(nf::Mesh{c.vertices, at::zeros({0, 3}, at::kLong)}, 1.0), std::runtime_error);
}

TEST(Chamfer, RadiusDownsampleGreedy) {
  // Points on a line 0.1 apart; radius 0.25: each kept point removes the next two.
  const at::Tensor line = at::stack({at::arange(10, at::kDouble) * 0.1, at::zeros({10}, at::kDouble),
                                     at::zeros({10}, at::kDouble)}, 1);
  const at::Tensor d = nf::radius_downsample(line, 0.25);
  ASSERT_EQ(d.size(0), 4);
  EXPECT_TRUE(at::allclose(d.select(1, 0), at::tensor({0.0, 0.3, 0.6, 0.9}, at::kDouble)));
  // Duplicates collapse; kept points are at least `radius` apart; nothing is farther than radius
  // from a kept point.
  const Tri s = sphere(1.0);
  const at::Tensor p = nf::sample_surface(s, 2000.0, 1);
  const at::Tensor k = nf::radius_downsample(at::cat({p, p}, 0), 0.1);
  EXPECT_LT(k.size(0), p.size(0));
  EXPECT_GT(k.size(0), 100);
  const at::Tensor dd = at::cdist(k.to(at::kDouble), k.to(at::kDouble)) + at::eye(k.size(0), at::kDouble) * 10;
  EXPECT_GE(dd.min().item<double>(), 0.1 - 1e-6);
  EXPECT_LT(nf::nearest_distances(p, k).max().item<double>(), 0.1);
}

TEST(Chamfer, ParallelSquaresGiveTheirDistance) {
  const double d = 0.1;
  const nf::ChamferResult r = nf::chamfer(grid(50, 0.0), grid(50, d), 1.0);
  EXPECT_NEAR(r.accuracy, d, 1e-12);
  EXPECT_NEAR(r.completeness, d, 1e-12);
  EXPECT_NEAR(r.overall, d, 1e-12);
  EXPECT_EQ(r.n_pred, 2500);
  // Sampled surfaces: d plus a little from the in-plane spacing.
  const at::Tensor sq_v = at::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f, 1.f, 1.f, 0.f}).view({4, 3});
  const at::Tensor sq_f = at::tensor({0, 1, 2, 1, 3, 2}, at::kLong).view({2, 3});
  const at::Tensor shift = at::tensor({0.f, 0.f, float(d)});
  const nf::ChamferResult s = nf::chamfer(nf::sample_surface(nf::Mesh{sq_v, sq_f}, 3e4, 1),
                                          nf::sample_surface(nf::Mesh{sq_v + shift, sq_f}, 3e4, 2), 1.0);
  EXPECT_NEAR(s.overall, d, 2e-3);
  EXPECT_GE(s.overall, d - 1e-6);
}

TEST(Chamfer, SphereAgainstItselfIsZero) {
  const Tri s = sphere(0.8);
  const at::Tensor a = nf::sample_surface(s, 5e3, 1);
  EXPECT_EQ(nf::chamfer(a, a, 1.0).overall, 0.0);
  const nf::ChamferResult r = nf::chamfer(a, nf::sample_surface(s, 5e3, 2), 1.0);
  EXPECT_LT(r.overall, 0.012);  // sample spacing ~ 1 / sqrt(5e3) = 0.014, mean nearest ~ half that
  EXPECT_GT(r.overall, 0.0);
  // A concentric sphere 0.05 larger: ~0.05 both ways.
  const Tri big = sphere(0.85);
  const nf::ChamferResult b = nf::chamfer(a, nf::sample_surface(big, 5e3, 3), 1.0);
  EXPECT_NEAR(b.accuracy, 0.05, 0.005);
  EXPECT_NEAR(b.completeness, 0.05, 0.005);
}

TEST(Chamfer, CubeAgainstShiftedCube) {
  // A = [0,1]^3, B = A + (s, 0, 0). Mean distance from A's surface to B's surface, per face of A:
  // x=0: s; x=1: E min(s, distance to the face's border) = (1 - (1 - 2s)^3) / 6; the four side
  // faces: s^2 / 2 each (only their strip x < s is off B). Both directions are equal by symmetry.
  const double s = 0.1;
  const double expected = (s + (1 - std::pow(1 - 2 * s, 3)) / 6 + 4 * s * s / 2) / 6;
  const Tri a = cube(), b = cube(s);
  // Sampled at 1.5e4 points per unit area: the coincident parts add ~half the sample spacing
  // (~0.004) on 60 % of the area, hence the tolerance (~10 % of the answer).
  const nf::ChamferResult r = nf::chamfer(nf::sample_surface(a, 1.5e4, 1), nf::sample_surface(b, 1.5e4, 2), 1.0);
  std::printf("cube vs shifted cube: accuracy %.5f completeness %.5f (analytic %.5f)\n", r.accuracy, r.completeness, expected);
  EXPECT_NEAR(r.accuracy, expected, 3.5e-3);
  EXPECT_NEAR(r.completeness, expected, 3.5e-3);
  EXPECT_NEAR(r.overall, expected, 3.5e-3);
  EXPECT_GT(r.overall, expected - 1e-3);
}

TEST(Chamfer, MaxDistCapsOrDrops) {
  const at::Tensor gt = grid(20, 0.0);
  const at::Tensor pred = at::cat({gt, at::tensor({0.0, 0.0, 10.0}, at::kDouble).view({1, 3})}, 0);
  const nf::ChamferResult capped = nf::chamfer(pred, gt, 2.0);
  EXPECT_NEAR(capped.accuracy, 2.0 / 401, 1e-12);
  EXPECT_EQ(capped.completeness, 0.0);
  EXPECT_NEAR(capped.overall, 1.0 / 401, 1e-12);
  const nf::ChamferResult uncapped = nf::chamfer(pred, gt, INFINITY);
  EXPECT_NEAR(uncapped.accuracy, 10.0 / 401, 1e-12);
  const nf::ChamferResult dropped = nf::chamfer(pred, gt, 2.0, /*drop_far=*/true);
  EXPECT_EQ(dropped.accuracy, 0.0);
  // Every distance capped: the result is max_dist.
  EXPECT_NEAR(nf::chamfer(gt, gt + 5.0, 0.5).overall, 0.5, 1e-12);
  EXPECT_THROW(nf::chamfer(gt, gt, 0.0), std::runtime_error);
  EXPECT_THROW(nf::chamfer(gt.slice(0, 0, 0), gt, 1.0), std::runtime_error);
}

TEST(Chamfer, LoadPointsFromPlyCloudAndMesh) {
  const auto dir = nf_test::scratch("chamfer_load");
  {
    std::ofstream f(dir / "cloud.ply");
    f << "ply\nformat ascii 1.0\nelement vertex 3\nproperty float x\nproperty float y\nproperty float z\n"
         "end_header\n0 0 0\n1 0 0\n0 2 0.5\n";
  }
  const at::Tensor c = nf::load_points((dir / "cloud.ply").string(), 100.0);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{3, 3}));
  EXPECT_FLOAT_EQ(c[2][1].item<float>(), 2.0f);
  {
    std::ofstream f(dir / "tri.obj");
    f << "v 0 0 0\nv 2 0 0\nv 0 2 0\nf 1 2 3\n";
  }
  const at::Tensor t = nf::load_points((dir / "tri.obj").string(), 50.0);
  ASSERT_EQ(t.size(0), 100);  // area 2
  EXPECT_TRUE((t.select(1, 0) + t.select(1, 1) <= 2 + 1e-5).all().item<bool>());
  EXPECT_TRUE((t.select(1, 2) == 0).all().item<bool>());
  try {
    nf::load_points((dir / "missing.ply").string(), 1.0);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("missing.ply"), std::string::npos) << e.what();
  }
}

TEST(Chamfer, MeshChamferProtocol) {
  // A sphere mesh against points of a sphere 0.05 larger: ~0.05; against itself: ~0.
  const Tri s = sphere(0.8), big = sphere(0.85);
  nf::MeshChamferOptions o;
  o.radius = 0.02;
  const at::Tensor gt_big = nf::sample_surface(big, 1e4, 5);
  const nf::ChamferResult r = nf::mesh_chamfer(s, gt_big, o);
  EXPECT_NEAR(r.overall, 0.05, 0.006);
  EXPECT_LT(r.n_pred, nf::sample_surface(s, 4.0 / (0.02 * 0.02)).size(0));  // thinned
  const nf::ChamferResult self = nf::mesh_chamfer(s, nf::sample_surface(s, 1e4, 6), o);
  EXPECT_LT(self.overall, 0.012);
  o.radius = 0;
  EXPECT_THROW(nf::mesh_chamfer(s, gt_big, o), std::runtime_error);
}
