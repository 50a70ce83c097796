// DTU (NeuS layout) loader: projection decomposition, a tiny synthetic scene with known cameras,
// downscale / view options, one-line errors, and the real scan65 at 400x300.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>

#include "datasets/dtu.h"
#include "datasets/image_io.h"
#include "datasets/npz.h"
#include "support/errors.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {

using nf_test::expect_one_line_error;

// Rotation from axis-angle (Rodrigues). -> [3, 3] float64
at::Tensor rodrigues(double ax, double ay, double az) {
  const double th = std::sqrt(ax * ax + ay * ay + az * az);
  const at::Tensor k = at::tensor({ax / th, ay / th, az / th}, at::kDouble);
  at::Tensor Kx = at::zeros({3, 3}, at::kDouble);
  Kx[0][1] = -k[2]; Kx[0][2] = k[1]; Kx[1][0] = k[2]; Kx[1][2] = -k[0]; Kx[2][0] = -k[1]; Kx[2][1] = k[0];
  return at::eye(3, at::kDouble) + std::sin(th) * Kx + (1 - std::cos(th)) * at::matmul(Kx, Kx);
}

// World-to-camera rotation of a camera at `centre` looking at the origin (OpenCV axes, y down).
at::Tensor look_at_origin(const at::Tensor& centre) {
  const at::Tensor z = -centre / centre.norm();
  at::Tensor x = at::cross(at::tensor({0.0, 0.0, 1.0}, at::kDouble), z, 0);
  x = x / x.norm();
  const at::Tensor y = at::cross(z, x, 0);
  return at::stack({x, y, z}, 0);  // rows: camera axes in world coordinates
}

struct Synthetic {
  std::vector<at::Tensor> K, R, centre;  // world frame
  at::Tensor scale_mat;                  // [4, 4]
  int W = 40, H = 30, n = 3;
};

// Writes a tiny scene: n views, W x H images whose pixel (x, y) of view v is (x/W, y/H, v/10),
// masks with a v-dependent box, cameras K [R | -R c] in the world, scale_mat = scale 2.5 + shift.
Synthetic write_scene(const fs::path& dir, bool masks = true) {
  Synthetic s;
  s.scale_mat = at::eye(4, at::kDouble);
  s.scale_mat.slice(0, 0, 3).slice(1, 0, 3) *= 2.5;
  s.scale_mat[0][3] = 0.3;
  s.scale_mat[1][3] = -0.2;
  s.scale_mat[2][3] = 1.0;
  std::map<std::string, at::Tensor> npz;
  for (int v = 0; v < s.n; ++v) {
    at::Tensor K = at::eye(3, at::kDouble);
    K[0][0] = 50.0 + v;
    K[1][1] = 53.0;
    K[0][1] = 0.2;  // a little skew, as DTU's decomposed matrices have
    K[0][2] = 21.3;
    K[1][2] = 13.1;
    const at::Tensor c = at::tensor({6.0 * std::cos(v), 6.0 * std::sin(v), 2.0 + v}, at::kDouble) +
                         s.scale_mat.slice(0, 0, 3).select(1, 3);
    const at::Tensor R = at::matmul(rodrigues(0.01, 0.02, 0.03 * v), look_at_origin(c - s.scale_mat.slice(0, 0, 3).select(1, 3)));
    at::Tensor w = at::eye(4, at::kDouble);
    w.slice(0, 0, 3).slice(1, 0, 3).copy_(at::matmul(K, R));
    w.slice(0, 0, 3).select(1, 3).copy_(-at::matmul(at::matmul(K, R), c));
    npz["world_mat_" + std::to_string(v)] = w * (v == 1 ? -3.0 : 1.0);  // projective scale (negative too)
    npz["world_mat_inv_" + std::to_string(v)] = at::inverse(w);
    npz["scale_mat_" + std::to_string(v)] = s.scale_mat;
    npz["scale_mat_inv_" + std::to_string(v)] = at::inverse(s.scale_mat);
    s.K.push_back(K);
    s.R.push_back(R);
    s.centre.push_back(c);
    const at::Tensor xs = at::arange(s.W, at::kFloat).div(s.W).view({1, s.W}).expand({s.H, s.W});
    const at::Tensor ys = at::arange(s.H, at::kFloat).div(s.H).view({s.H, 1}).expand({s.H, s.W});
    const at::Tensor img = at::stack({xs, ys, at::full({s.H, s.W}, v / 10.0f)}, -1);
    char name[32];
    std::snprintf(name, sizeof name, "%06d.png", v);
    nf::write_png(dir / "image" / name, img);
    if (masks) {
      at::Tensor m = at::zeros({s.H, s.W, 3});
      m.slice(0, 4, 20).slice(1, 2 + v, 30).fill_(1.0f);
      std::snprintf(name, sizeof name, "%03d.png", v);
      nf::write_png(dir / "mask" / name, m);
    }
  }
  nf::save_npz(dir / "cameras_sphere.npz", npz);
  return s;
}

fs::path scan65_dir() { return nf_test::shipped_data() / "dtu" / "dtu_scan65_400x300"; }

}  // namespace

TEST(Dtu, DecomposeProjectionRecoversKAndPose) {
  at::Tensor K = at::eye(3, at::kDouble);
  K[0][0] = 300; K[1][1] = 310; K[0][1] = -0.7; K[0][2] = 190; K[1][2] = 160;
  const at::Tensor R = rodrigues(0.3, -1.1, 0.5);
  const at::Tensor c = at::tensor({1.5, -2.0, 3.0}, at::kDouble);
  at::Tensor P = at::cat({at::matmul(K, R), -at::matmul(at::matmul(K, R), c).view({3, 1})}, 1);
  for (double scale : {1.0, 0.01, -7.0}) {
    const nf::ProjectionDecomposition d = nf::decompose_projection(P * scale, "P");
    EXPECT_TRUE(at::allclose(d.K, K, 1e-9, 1e-9)) << d.K;
    EXPECT_TRUE(at::allclose(d.c2w.slice(0, 0, 3).slice(1, 0, 3), R.t(), 1e-9, 1e-12));
    EXPECT_TRUE(at::allclose(d.c2w.slice(0, 0, 3).select(1, 3), c, 1e-9, 1e-9));
    EXPECT_TRUE(at::equal(d.c2w[3], at::tensor({0.0, 0.0, 0.0, 1.0}, at::kDouble)));
    // Reprojection: world points through K and c2w land where P puts them.
    const at::Tensor X = at::randn({20, 3}, at::kDouble) * 2;
    const at::Tensor x = at::matmul(at::cat({X, at::ones({20, 1}, at::kDouble)}, 1), P.t());
    const at::Tensor px = x.slice(1, 0, 2) / x.slice(1, 2, 3);
    const at::Tensor Rw = d.c2w.slice(0, 0, 3).slice(1, 0, 3), t = d.c2w.slice(0, 0, 3).select(1, 3);
    const at::Tensor cam = at::matmul(X - t, Rw);  // rows: R (X - c)
    const at::Tensor q = at::matmul(cam, d.K.t());
    EXPECT_TRUE(at::allclose(q.slice(1, 0, 2) / q.slice(1, 2, 3), px, 1e-8, 1e-8));
  }
  expect_one_line_error([&] { nf::decompose_projection(at::zeros({3, 4}, at::kDouble), "cam 3"); },
                        {"cam 3", "singular"});
  at::Tensor bad = P.clone();
  bad[1][2] = NAN;
  expect_one_line_error([&] { nf::decompose_projection(bad, "cam 4"); }, {"cam 4", "non-finite"});
}

TEST(Dtu, LoadsSyntheticScene) {
  const fs::path dir = nf_test::scratch("dtu_synth");
  const Synthetic syn = write_scene(dir);
  const nf::DtuScene s = nf::load_dtu(dir);
  ASSERT_EQ(s.images.sizes(), (std::vector<int64_t>{3, 30, 40, 3}));
  ASSERT_EQ(s.masks.sizes(), (std::vector<int64_t>{3, 30, 40}));
  ASSERT_EQ(s.intrinsics.sizes(), (std::vector<int64_t>{3, 3, 3}));
  ASSERT_EQ(s.c2w.sizes(), (std::vector<int64_t>{3, 4, 4}));
  EXPECT_EQ(s.images.scalar_type(), at::kFloat);
  EXPECT_EQ(s.c2w.scalar_type(), at::kDouble);
  EXPECT_EQ(s.H, 30);
  EXPECT_EQ(s.W, 40);
  EXPECT_TRUE(s.has_masks);
  EXPECT_EQ(s.views, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(at::equal(s.scale_mat, syn.scale_mat));
  EXPECT_NEAR(s.images[2][7][9][0].item<float>(), std::round(9.0 / 40 * 255) / 255, 1e-6);
  EXPECT_NEAR(s.images[2][7][9][1].item<float>(), std::round(7.0 / 30 * 255) / 255, 1e-6);
  EXPECT_NEAR(s.images[2][7][9][2].item<float>(), std::round(0.2 * 255) / 255, 1e-6);
  EXPECT_EQ(s.masks[1].sum().item<float>(), 16.0f * 27);
  EXPECT_EQ(s.masks[1][4][3].item<float>(), 1.0f);
  EXPECT_EQ(s.masks[1][4][2].item<float>(), 0.0f);
  const at::Tensor shift = syn.scale_mat.slice(0, 0, 3).select(1, 3);
  for (int v = 0; v < 3; ++v) {
    EXPECT_TRUE(at::allclose(s.intrinsics[v], syn.K[v], 1e-9, 1e-9)) << v;
    EXPECT_TRUE(at::allclose(s.c2w[v].slice(0, 0, 3).slice(1, 0, 3), syn.R[v].t(), 1e-9, 1e-12)) << v;
    // Centres in the normalised frame: scale_mat^{-1} applied to the world centre.
    EXPECT_TRUE(at::allclose(s.c2w[v].slice(0, 0, 3).select(1, 3), (syn.centre[v] - shift) / 2.5, 1e-9, 1e-9)) << v;
  }
  // Downscale 2: area-averaged pixels, K for pixel centres at integer coordinates, view selection.
  nf::DtuOptions o;
  o.downscale = 2;
  o.views = {2, 0};
  const nf::DtuScene h = nf::load_dtu(dir, o);
  ASSERT_EQ(h.images.sizes(), (std::vector<int64_t>{2, 15, 20, 3}));
  EXPECT_EQ(h.views, (std::vector<int>{2, 0}));
  EXPECT_EQ(h.files[0], (dir / "image" / "000002.png").string());
  EXPECT_TRUE(at::allclose(h.images[0], s.images[2].reshape({15, 2, 20, 2, 3}).mean({1, 3}), 1e-6, 1e-6));
  EXPECT_TRUE(at::allclose(h.masks[1], s.masks[0].reshape({15, 2, 20, 2}).mean({1, 3}), 1e-6, 1e-6));
  // The full-resolution pixel (u, v) = (2i + 0.5, 2j + 0.5) is the centre of low-res pixel (i, j).
  const at::Tensor Kh = h.intrinsics[0], Kf = s.intrinsics[2];
  const at::Tensor Xc = at::tensor({0.3, -0.2, 4.0}, at::kDouble);
  const at::Tensor pf = at::matmul(Kf, Xc), ph = at::matmul(Kh, Xc);
  EXPECT_NEAR((ph[0] / ph[2]).item<double>(), ((pf[0] / pf[2]).item<double>() - 0.5) / 2, 1e-9);
  EXPECT_NEAR((ph[1] / ph[2]).item<double>(), ((pf[1] / pf[2]).item<double>() - 0.5) / 2, 1e-9);
  EXPECT_TRUE(at::equal(h.c2w[1], s.c2w[0]));
  o = {};
  o.max_frames = 2;
  EXPECT_EQ(nf::load_dtu(dir, o).images.size(0), 2);
}

TEST(Dtu, WithoutMasksAllOnes) {
  const fs::path dir = nf_test::scratch("dtu_nomask");
  write_scene(dir, /*masks=*/false);
  const nf::DtuScene s = nf::load_dtu(dir);
  EXPECT_FALSE(s.has_masks);
  EXPECT_TRUE(at::equal(s.masks, at::ones({3, 30, 40})));
}

TEST(Dtu, ErrorsNameFileAndKey) {
  const fs::path root = nf_test::scratch("dtu_bad");
  expect_one_line_error([&] { nf::load_dtu(root / "nope"); }, {(root / "nope").string(), "no such"});
  auto fresh = [&](const std::string& name) {
    const fs::path d = root / name;
    write_scene(d);
    return d;
  };
  // A fresh scene `name` whose cameras_sphere.npz lacks `key`.
  auto without_key = [&](const std::string& name, const std::string& key) {
    const fs::path d = fresh(name);
    auto npz = nf::load_npz(d / "cameras_sphere.npz");
    npz.erase(key);
    nf::save_npz(d / "cameras_sphere.npz", npz);
    return d;
  };
  {  // missing npz
    const fs::path d = fresh("no_npz");
    fs::remove(d / "cameras_sphere.npz");
    expect_one_line_error([&] { nf::load_dtu(d); }, {(d / "cameras_sphere.npz").string(), "no such file"});
  }
  {  // missing world_mat_2
    const fs::path d = without_key("no_world_mat", "world_mat_2");
    expect_one_line_error([&] { nf::load_dtu(d); }, {(d / "cameras_sphere.npz").string(), "missing key 'world_mat_2'"});
  }
  {  // missing scale_mat_1
    const fs::path d = without_key("no_scale_mat", "scale_mat_1");
    expect_one_line_error([&] { nf::load_dtu(d); }, {"cameras_sphere.npz", "missing key 'scale_mat_1'"});
  }
  {  // more cameras than images
    const fs::path d = fresh("extra_camera");
    fs::remove(d / "image" / "000002.png");
    fs::remove(d / "mask" / "002.png");
    expect_one_line_error([&] { nf::load_dtu(d); }, {"cameras_sphere.npz", "3 cameras", "2 images"});
  }
  {  // fewer masks than images
    const fs::path d = fresh("few_masks");
    fs::remove(d / "mask" / "001.png");
    expect_one_line_error([&] { nf::load_dtu(d); }, {(d / "mask").string(), "2 masks for 3 images"});
  }
  {  // image size mismatch
    const fs::path d = fresh("size");
    nf::write_png(d / "image" / "000001.png", at::zeros({30, 42, 3}));
    expect_one_line_error([&] { nf::load_dtu(d); }, {(d / "image" / "000001.png").string(), "42x30", "differs"});
  }
  {  // mask size differs from the images
    const fs::path d = fresh("mask_size");
    for (const char* m : {"000.png", "001.png", "002.png"}) nf::write_png(d / "mask" / m, at::zeros({20, 40, 3}));
    expect_one_line_error([&] { nf::load_dtu(d); }, {(d / "mask").string(), "mask size 40x20"});
  }
  {  // undecodable image
    const fs::path d = fresh("corrupt");
    { std::ofstream(d / "image" / "000000.png") << "not a png"; }
    expect_one_line_error([&] { nf::load_dtu(d); }, {(d / "image" / "000000.png").string(), "view 0"});
  }
  {  // non-finite matrix
    const fs::path d = fresh("nan");
    auto npz = nf::load_npz(d / "cameras_sphere.npz");
    npz["world_mat_1"][0][0] = NAN;
    nf::save_npz(d / "cameras_sphere.npz", npz);
    expect_one_line_error([&] { nf::load_dtu(d); }, {"cameras_sphere.npz", "'world_mat_1'", "non-finite"});
  }
  const fs::path d = fresh("options");
  nf::DtuOptions o;
  o.views = {0, 3};
  expect_one_line_error([&] { nf::load_dtu(d, o); }, {d.string(), "view 3 out of range"});
  o = {};
  o.downscale = 3;
  expect_one_line_error([&] { nf::load_dtu(d, o); }, {"000000.png", "downscale 3 does not divide"});
}

// The first views of scan65 shipped in tests/data (the full 49 views: tests/fulldata).
TEST(Dtu, RealScan65) {
  ASSERT_TRUE(fs::exists(scan65_dir())) << scan65_dir() << " missing (tests/data is part of the repository)";
  const nf::DtuScene s = nf::load_dtu(scan65_dir());
  const int64_t n = int64_t(s.files.size());
  ASSERT_GE(n, 4);
  ASSERT_EQ(s.images.sizes(), (std::vector<int64_t>{n, 300, 400, 3}));
  ASSERT_EQ(s.masks.sizes(), (std::vector<int64_t>{n, 300, 400}));
  EXPECT_TRUE(s.has_masks);
  const double fg = s.masks.mean().item<double>();
  EXPECT_GT(fg, 0.05);
  EXPECT_LT(fg, 0.95);
  // Cameras outside the unit sphere that holds the object, looking towards it.
  const at::Tensor centres = s.c2w.slice(1, 0, 3).select(2, 3);  // [n, 3]
  EXPECT_GT(centres.norm(2, -1).min().item<double>(), 1.5);
  const at::Tensor fwd = s.c2w.slice(1, 0, 3).select(2, 2);  // camera z axis in the world
  const at::Tensor cosang = -(fwd * centres).sum(-1) / centres.norm(2, -1);
  EXPECT_GT(cosang.min().item<double>(), 0.9);
  // Rotations orthonormal; intrinsics scaled to 400x300 with the principal point off the centre.
  const at::Tensor R = s.c2w.slice(1, 0, 3).slice(2, 0, 3);
  EXPECT_TRUE(at::allclose(at::matmul(R, R.transpose(1, 2)), at::eye(3, at::kDouble).expand({n, 3, 3}), 1e-6, 1e-6));
  const at::Tensor K = s.intrinsics;
  std::printf("scan65 view 0: fx %.2f fy %.2f skew %.4f cx %.2f cy %.2f; centres |c| in [%.2f, %.2f]\n",
              K[0][0][0].item<double>(), K[0][1][1].item<double>(), K[0][0][1].item<double>(),
              K[0][0][2].item<double>(), K[0][1][2].item<double>(), centres.norm(2, -1).min().item<double>(),
              centres.norm(2, -1).max().item<double>());
  EXPECT_GT(K.select(1, 0).select(1, 0).min().item<double>(), 200);
  EXPECT_LT(K.select(1, 0).select(1, 0).max().item<double>(), 1000);
  EXPECT_GT((K.select(1, 0).select(1, 2) - 199.5).abs().min().item<double>(), 1.0);
  EXPECT_GT(K.select(1, 1).select(1, 2).min().item<double>(), 50);
  EXPECT_LT(K.select(1, 1).select(1, 2).max().item<double>(), 250);
  // The unit sphere's centre projects inside the image and into the mask of every view.
  for (int64_t v = 0; v < n; ++v) {
    const at::Tensor cam = at::matmul(R[v].t(), -centres[v]);
    const at::Tensor p = at::matmul(K[v], cam);
    const double u = (p[0] / p[2]).item<double>(), w = (p[1] / p[2]).item<double>();
    ASSERT_GT(u, 0);
    ASSERT_LT(u, 399);
    ASSERT_GT(w, 0);
    ASSERT_LT(w, 299);
  }
}
