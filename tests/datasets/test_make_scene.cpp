// Embree ray casting and make-scene: hits on known geometry, a rendered mask equals the sphere's
// silhouette, and a written scene loads through load_dtu with cameras that reproject the mesh
// vertices into the masks.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "datasets/dtu.h"
#include "fields/file_io.h"
#include "datasets/make_scene.h"
#include "datasets/ray_caster.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {

constexpr double kPi = 3.14159265358979323846;

#define NEED_EMBREE() \
  if (!nf::RayCaster::available()) GTEST_SKIP() << "built without Embree"

using Tri = nf::Mesh;

// UV sphere of radius r at c: vertices on the sphere, so the mesh lies inside the ball.
Tri sphere(double r, int n_lat, int n_lon, double cx = 0, double cy = 0, double cz = 0) {
  std::vector<float> v;
  std::vector<int64_t> f;
  for (int i = 0; i <= n_lat; ++i)
    for (int j = 0; j < n_lon; ++j) {
      const double th = kPi * i / n_lat, ph = 2 * kPi * j / n_lon;
      v.insert(v.end(), {float(cx + r * std::sin(th) * std::cos(ph)), float(cy + r * std::sin(th) * std::sin(ph)),
                         float(cz + r * std::cos(th))});
    }
  for (int i = 0; i < n_lat; ++i)
    for (int j = 0; j < n_lon; ++j) {
      const int64_t a = i * n_lon + j, b = i * n_lon + (j + 1) % n_lon, c = a + n_lon, d = b + n_lon;
      f.insert(f.end(), {a, c, b, b, c, d});
    }
  return {at::tensor(v).view({-1, 3}), at::tensor(f, at::kLong).view({-1, 3})};
}

void write_obj(const fs::path& p, const Tri& m) {
  std::ofstream o(p);
  const auto v = m.vertices.accessor<float, 2>();
  for (int64_t i = 0; i < m.vertices.size(0); ++i) o << "v " << v[i][0] << " " << v[i][1] << " " << v[i][2] << "\n";
  const auto f = m.faces.accessor<int64_t, 2>();
  for (int64_t i = 0; i < m.faces.size(0); ++i) o << "f " << f[i][0] + 1 << " " << f[i][1] + 1 << " " << f[i][2] + 1 << "\n";
}

}  // namespace

TEST(RayCaster, CountsEachSurfaceCrossingOnce) {
  NEED_EMBREE();
  // A unit square of two triangles sharing the diagonal (0,0)-(1,1) at z = 0.
  const at::Tensor v = at::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 1.f, 1.f, 0.f, 0.f, 1.f, 0.f}).view({4, 3});
  const at::Tensor f = at::tensor({0, 1, 2, 0, 2, 3}, at::kLong).view({2, 3});
  const nf::RayCaster sq(nf::Mesh{v, f});
  // Through the shared edge, through one triangle, beside the square, away from it, zero direction.
  const at::Tensor o = at::tensor({0.5f, 0.5f, 1.f, 0.7f, 0.2f, 1.f, 2.f, 2.f, 1.f, 0.5f, 0.5f, 1.f, 0.5f, 0.5f, 1.f})
                           .view({5, 3});
  const at::Tensor d = at::tensor({0.f, 0.f, -1.f, 0.f, 0.f, -2.f, 0.f, 0.f, -1.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f})
                           .view({5, 3});
  const at::Tensor n = sq.count_hits(o, d);
  ASSERT_EQ(n.sizes(), at::IntArrayRef({5}));
  EXPECT_EQ(n[0].item<int64_t>(), 1);  // a shared edge is one crossing, not two
  EXPECT_EQ(n[1].item<int64_t>(), 1);
  EXPECT_EQ(n[2].item<int64_t>(), 0);
  EXPECT_EQ(n[3].item<int64_t>(), 0);
  EXPECT_EQ(n[4].item<int64_t>(), 0);
  // A closed sphere: lines through it cross twice from outside, once from inside; the same
  // sphere twice (nested shells) doubles that.
  const Tri s = sphere(1.0, 32, 64);
  const nf::RayCaster sc(s);
  at::manual_seed(3);
  const at::Tensor dirs = at::randn({300, 3});
  const at::Tensor unit = dirs / dirs.norm(2, 1, true);
  EXPECT_TRUE(sc.count_hits(-3 * unit, unit).eq(2).all().item<bool>());
  EXPECT_TRUE(sc.count_hits(at::zeros({300, 3}), unit).eq(1).all().item<bool>());
  EXPECT_TRUE(sc.count_hits(3 * unit, unit).eq(0).all().item<bool>());
  const Tri inner = sphere(0.5, 32, 64);
  const nf::RayCaster nested(nf::Mesh{at::cat({s.vertices, inner.vertices}),
                                      at::cat({s.faces, inner.faces + s.vertices.size(0)})});
  EXPECT_TRUE(nested.count_hits(-3 * unit, unit).eq(4).all().item<bool>());
}

TEST(RayCaster, HitsATriangleAndASphere) {
  NEED_EMBREE();
  const at::Tensor v = at::tensor({0.f, 0.f, 0.f, 1.f, 0.f, 0.f, 0.f, 1.f, 0.f}).view({3, 3});
  const at::Tensor f = at::tensor({0, 1, 2}, at::kLong).view({1, 3});
  const nf::RayCaster rc(nf::Mesh{v, f});
  const at::Tensor o = at::tensor({0.2f, 0.2f, 2.f, 0.8f, 0.8f, 2.f, 0.2f, 0.2f, -3.f, 0.2f, 0.2f, 2.f}).view({4, 3});
  const at::Tensor d = at::tensor({0.f, 0.f, -1.f, 0.f, 0.f, -1.f, 0.f, 0.f, 2.f, 0.f, 0.f, 1.f}).view({4, 3});
  const nf::RayHits h = rc.intersect(o, d);
  EXPECT_FLOAT_EQ(h.t[0].item<float>(), 2.0f);   // hit from above
  EXPECT_EQ(h.face[0].item<int64_t>(), 0);
  EXPECT_EQ(h.face[1].item<int64_t>(), -1);      // outside the triangle
  EXPECT_TRUE(std::isinf(h.t[1].item<float>()));
  EXPECT_FLOAT_EQ(h.t[2].item<float>(), 1.5f);   // from below, t in units of |dir|
  EXPECT_EQ(h.face[3].item<int64_t>(), -1);      // pointing away
  // A sphere of radius 1: rays from outside towards the centre hit at distance |o| - 1 (up to the
  // tessellation), from the centre outwards at ~1.
  const Tri s = sphere(1.0, 64, 128);
  const nf::RayCaster sc(s);
  const at::Tensor dirs = at::randn({500, 3});
  const at::Tensor unit = dirs / dirs.norm(2, 1, true);
  const nf::RayHits out = sc.intersect(-3 * unit, unit);
  EXPECT_TRUE((out.face >= 0).all().item<bool>());
  EXPECT_LT((out.t - 2.0f).abs().max().item<float>(), 1e-3f);
  const nf::RayHits in = sc.intersect(at::zeros({500, 3}), unit);
  EXPECT_LT((in.t - 1.0f).abs().max().item<float>(), 1e-3f);
}

TEST(MakeScene, MaskIsTheSphereSilhouette) {
  NEED_EMBREE();
  const int n_lat = 48, n_lon = 96;
  const double r = 1.0;
  const Tri s = sphere(r, n_lat, n_lon, 0.3, -0.2, 0.1);
  nf::MakeSceneOptions o;
  o.views = 5;
  o.width = 80;
  o.height = 60;
  const nf::SceneCameras cams = nf::make_scene_cameras(s.vertices, o);
  const nf::RayCaster rc(s);
  // The inscribed tessellation lies between radius r cos(pi / n_lon) (at worst) and r.
  const double r_in = r * std::cos(kPi / n_lon) * std::cos(kPi / n_lat);
  for (int i = 0; i < o.views; ++i) {
    const nf::RenderedView rv = nf::render_scene_view(rc, s, cams.K[i], cams.w2c[i], o.width, o.height,
                                                      cams.centre, cams.radius);
    ASSERT_EQ(rv.mask.sizes(), (std::vector<int64_t>{60, 80}));
    // Analytic: distance from the sphere centre to each pixel-centre ray.
    const at::Tensor R = cams.w2c[i].slice(1, 0, 3), t = cams.w2c[i].select(1, 3);
    const at::Tensor cam = -at::matmul(R.t(), t);
    const auto g = at::meshgrid({at::arange(60, at::kDouble), at::arange(80, at::kDouble)}, "ij");
    const at::Tensor pix = at::stack({g[1].reshape(-1), g[0].reshape(-1), at::ones({4800}, at::kDouble)}, 1);
    at::Tensor dir = at::matmul(at::matmul(pix, at::inverse(cams.K[i]).t()), R);
    dir = dir / dir.norm(2, 1, true);
    const at::Tensor to_c = at::tensor({0.3, -0.2, 0.1}, at::kDouble) - cam;
    const at::Tensor along = at::matmul(dir, to_c);
    const at::Tensor miss_dist = (to_c.view({1, 3}) - along.unsqueeze(1) * dir).norm(2, 1).view({60, 80});
    const at::Tensor m = rv.mask.to(at::kBool);
    EXPECT_FALSE((m & (miss_dist > r + 1e-6)).any().item<bool>()) << "view " << i << ": hit outside the disc";
    EXPECT_FALSE((~m & (miss_dist < r_in - 1e-6)).any().item<bool>()) << "view " << i << ": hole inside the disc";
    const double area = m.sum().item<double>(), disc = (miss_dist < r).sum().item<double>();
    EXPECT_GT(area, 200);
    EXPECT_NEAR(area / disc, 1.0, 0.03) << "view " << i;
    // The whole sphere is in the picture (no hit on the border) and the background is black.
    EXPECT_EQ(m.select(0, 0).sum().item<int64_t>() + m.select(0, 59).sum().item<int64_t>() +
                  m.select(1, 0).sum().item<int64_t>() + m.select(1, 79).sum().item<int64_t>(), 0);
    EXPECT_EQ(rv.image.masked_select(~m.unsqueeze(2).expand({60, 80, 3})).abs().max().item<float>(), 0.0f);
    EXPECT_GT(rv.image.masked_select(m.unsqueeze(2).expand({60, 80, 3})).min().item<float>(), 0.0f);
  }
}

TEST(MakeScene, CamerasLookAtTheObjectWithOffCentreIntrinsics) {
  const Tri s = sphere(2.0, 8, 16, 5, 5, 5);
  nf::MakeSceneOptions o;
  o.views = 12;
  const nf::SceneCameras c = nf::make_scene_cameras(s.vertices, o);
  ASSERT_EQ(c.K.sizes(), (std::vector<int64_t>{12, 3, 3}));
  EXPECT_NEAR(c.radius, 2.0, 1e-5);
  EXPECT_NEAR(c.sphere, 2.2, 1e-5);
  const double fx = c.K[0][0][0].item<double>(), fy = c.K[0][1][1].item<double>();
  EXPECT_GT(std::abs(fx / fy - 1), 0.01);
  EXPECT_GT(std::abs(c.K[0][0][2].item<double>() - 99.5), 2);
  EXPECT_GT(std::abs(c.K[0][1][2].item<double>() - 74.5), 2);
  for (int i = 0; i < 12; ++i) {
    const at::Tensor R = c.w2c[i].slice(1, 0, 3);
    EXPECT_TRUE(at::allclose(at::matmul(R, R.t()), at::eye(3, at::kDouble), 1e-9, 1e-9));
    EXPECT_NEAR(at::det(R).item<double>(), 1.0, 1e-9);
    // The centre projects in front of the camera.
    const at::Tensor pc = at::matmul(R, c.centre) + c.w2c[i].select(1, 3);
    EXPECT_GT(pc[2].item<double>(), 0);
  }
  nf::MakeSceneOptions bad;
  bad.views = 0;
  EXPECT_THROW(nf::make_scene_cameras(s.vertices, bad), std::runtime_error);
}

TEST(MakeScene, WrittenSceneLoadsAndReprojects) {
  NEED_EMBREE();
  const fs::path dir = nf_test::scratch("make_scene");
  const Tri s = sphere(0.5, 16, 32, 1.0, 2.0, -1.0);
  write_obj(dir / "ball.obj", s);
  nf::MakeSceneOptions o;
  o.views = 6;
  o.width = 64;
  o.height = 48;
  nf::make_scene(dir / "ball.obj", dir / "scene", o);
  for (const char* f : {"cameras_sphere.npz", "gt_mesh.obj", "scene.json", "image/000005.png", "mask/005.png"})
    EXPECT_TRUE(fs::exists(dir / "scene" / f)) << f;
  const nf::DtuScene sc = nf::load_dtu(dir / "scene");
  ASSERT_EQ(sc.images.sizes(), (std::vector<int64_t>{6, 48, 64, 3}));
  EXPECT_TRUE(sc.has_masks);
  // Mesh vertices (world) -> normalised frame -> pixels: inside the image, in the mask (1-pixel slack
  // for vertices on the silhouette), and inside the unit sphere.
  const at::Tensor Xw = at::cat({s.vertices.to(at::kDouble), at::ones({s.vertices.size(0), 1}, at::kDouble)}, 1);
  const at::Tensor Xn = at::matmul(Xw, at::inverse(sc.scale_mat).t()).slice(1, 0, 3);
  EXPECT_LT(Xn.norm(2, 1).max().item<double>(), 1.0);
  EXPECT_GT(Xn.norm(2, 1).max().item<double>(), 0.85);
  const at::Tensor dil = at::max_pool2d(sc.masks.unsqueeze(1), {3, 3}, {1, 1}, {1, 1}).squeeze(1);
  for (int i = 0; i < 6; ++i) {
    const at::Tensor R = sc.c2w[i].slice(0, 0, 3).slice(1, 0, 3), c = sc.c2w[i].slice(0, 0, 3).select(1, 3);
    const at::Tensor cam = at::matmul(Xn - c, R);  // rows R^T (X - c)
    const at::Tensor p = at::matmul(cam, sc.intrinsics[i].t());
    const at::Tensor u = (p.select(1, 0) / p.select(1, 2)).round().to(at::kLong);
    const at::Tensor v = (p.select(1, 1) / p.select(1, 2)).round().to(at::kLong);
    ASSERT_TRUE(((u >= 0) & (u < 64) & (v >= 0) & (v < 48)).all().item<bool>()) << "view " << i;
    const at::Tensor inside = dil[i].index({v, u});
    EXPECT_TRUE((inside > 0.5).all().item<bool>()) << "view " << i;
  }
  // Textured: colours vary over the object.
  const at::Tensor fg = sc.images[0].masked_select(sc.masks[0].unsqueeze(2).expand({48, 64, 3}) > 0.5);
  EXPECT_GT(fg.std().item<double>(), 0.05);
  // The copied ground-truth mesh is the input file.
  EXPECT_EQ(nf::read_file_bytes(dir / "ball.obj"), nf::read_file_bytes(dir / "scene" / "gt_mesh.obj"));
  // A missing mesh names the file.
  try {
    nf::make_scene(dir / "nope.obj", dir / "x", o);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nope.obj"), std::string::npos) << e.what();
  }
}
