// Radon projector, FBP baseline and CT problem loading.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "datasets/ct_data.h"
#include "datasets/radon.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

// Constant-1 disc of radius r (pixels) at the centre of an S x S image, 4x4 supersampled.
at::Tensor disc(int64_t S, double r) {
  const int64_t k = 4, n = S * k;
  auto u = (at::arange(n, at::kDouble) + 0.5) / k - S / 2.0;
  auto r2 = u.reshape({n, 1}).pow(2) + u.reshape({1, n}).pow(2);
  auto img = (r2 <= r * r).to(at::kDouble).reshape({1, 1, n, n});
  return at::avg_pool2d(img, {k, k}).reshape({S, S}).to(at::kFloat);
}

double psnr(const at::Tensor& a, const at::Tensor& b) {
  const double mse = (a.to(at::kDouble) - b.to(at::kDouble)).pow(2).mean().item<double>();
  return 10.0 * std::log10(1.0 / mse);
}

}  // namespace

TEST(Radon, AnglesSpanHalfTurn) {
  auto a = nf::ct_angles(100, 180);
  ASSERT_EQ(a.size(0), 100);
  EXPECT_NEAR(a[0].item<double>(), 0.0, 1e-7);
  EXPECT_NEAR(a[1].item<double>(), kPi / 100, 1e-6);
  EXPECT_LT(a[99].item<double>(), kPi);
}

TEST(Radon, DiscMatchesChordLengths) {
  const int64_t S = 96;
  const double r = 36.0;
  auto angles = at::tensor({0.0, 0.4, 1.1, kPi / 2, 2.5}, at::kFloat);
  auto sino = nf::radon(disc(S, r), angles);  // [5, 96]
  ASSERT_EQ(sino.sizes(), (std::vector<int64_t>{5, S}));
  for (int64_t a = 0; a < 5; ++a) {
    for (int64_t j = 0; j < S; ++j) {
      const double s = j - (S - 1) / 2.0;
      if (std::abs(s) > r - 3) continue;  // away from the rim
      const double chord = 2.0 * std::sqrt(r * r - s * s);
      EXPECT_NEAR(sino[a][j].item<double>(), chord, 0.02 * chord) << "angle " << a << " s " << s;
    }
    // Rays that miss the disc see nothing.
    EXPECT_NEAR(sino[a][0].item<double>(), 0.0, 1e-6);
  }
}

TEST(Radon, AngleZeroSumsColumns) {
  // An off-centre bright pixel lands on the detector of its column at θ = 0 and its (flipped) row
  // at θ = 90°, with its full value times 1 pixel.
  auto img = at::zeros({32, 32});
  img[10][20] = 1.0;
  auto sino = nf::radon(img, at::tensor({0.0, kPi / 2}, at::kFloat));
  EXPECT_NEAR(sino[0][20].item<double>(), 1.0, 1e-4);
  EXPECT_NEAR(sino[0].sum().item<double>(), 1.0, 1e-4);
  EXPECT_NEAR(sino[1][31 - 10].item<double>(), 1.0, 1e-4);  // y up: row 10 -> s = 5.5
}

TEST(Radon, IsLinearAndBatched) {
  auto a = at::rand({24, 24}), b = at::rand({24, 24});
  auto angles = nf::ct_angles(12);
  auto lhs = nf::radon(a + 2.0 * b, angles);
  auto rhs = nf::radon(a, angles) + 2.0 * nf::radon(b, angles);
  EXPECT_TRUE(at::allclose(lhs, rhs, 1e-4, 1e-4));
  auto both = nf::radon(at::stack({a, b}), angles);  // [2, 12, 24]
  ASSERT_EQ(both.sizes(), (std::vector<int64_t>{2, 12, 24}));
  EXPECT_TRUE(at::allclose(both[1], nf::radon(b, angles), 1e-5, 1e-5));
  EXPECT_EQ(nf::radon(a, angles, 40).sizes(), (std::vector<int64_t>{12, 40}));
}

TEST(Radon, GradientFlowsAndMatchesFiniteDifferences) {
  auto opts = at::TensorOptions().dtype(at::kDouble);
  auto x = at::rand({8, 8}, opts).requires_grad_(true);
  auto angles = nf::ct_angles(7).to(at::kDouble);
  auto w = at::rand({7, 8}, opts);
  auto loss = (nf::radon(x, angles) * w).sum();
  loss.backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_GT(x.grad().abs().sum().item<double>(), 0.0);
  // Central differences on every pixel (the map is linear, so they are exact up to rounding).
  auto x0 = x.detach().clone();
  const double h = 1e-4;
  for (int64_t i = 0; i < 64; ++i) {
    auto xp = x0.clone(), xm = x0.clone();
    xp.view({-1})[i] += h;
    xm.view({-1})[i] -= h;
    const double fd = ((nf::radon(xp, angles) * w).sum().item<double>() -
                       (nf::radon(xm, angles) * w).sum().item<double>()) / (2 * h);
    EXPECT_NEAR(x.grad().view({-1})[i].item<double>(), fd, 1e-6) << "pixel " << i;
  }
  // The exact adjoint gives the same gradient.
  EXPECT_TRUE(at::allclose(nf::radon_adjoint(w, angles, 8, 8), x.grad(), 1e-9, 1e-9));
}

TEST(Radon, AdjointIdentity) {
  auto opts = at::TensorOptions().dtype(at::kDouble);
  auto x = at::randn({20, 28}, opts);
  auto angles = nf::ct_angles(9).to(at::kDouble);
  auto y = at::randn({9, 30}, opts);
  const double lhs = (nf::radon(x, angles, 30) * y).sum().item<double>();
  const double rhs = (x * nf::radon_adjoint(y, angles, 20, 28)).sum().item<double>();
  EXPECT_NEAR(lhs, rhs, 1e-9 * std::abs(lhs) + 1e-9);
  // The pixel-driven backprojector approximates the adjoint for smooth inputs (ds = 1 here).
  auto xs = disc(32, 12).to(at::kDouble), ys = nf::radon(disc(32, 8), nf::ct_angles(30)).to(at::kDouble);
  const double a = (nf::radon(xs, nf::ct_angles(30).to(at::kDouble)) * ys).sum().item<double>();
  const double b = (xs * nf::backproject(ys, nf::ct_angles(30), 32, 32)).sum().item<double>();
  EXPECT_NEAR(a, b, 0.02 * a);
}

TEST(Radon, FbpOfSheppLoganBeats20dB) {
  auto img = nf::shepp_logan(128);
  auto angles = nf::ct_angles(180);
  auto rec = nf::fbp(nf::radon(img, angles), angles, 128);
  ASSERT_EQ(rec.sizes(), img.sizes());
  EXPECT_GT(psnr(rec.clamp(0, 1), img), 24.0);  // 27.4 dB measured
  EXPECT_NEAR(rec.mean().item<double>(), img.mean().item<double>(), 0.02);  // right scale
  // The paper's 100 angles: still a sensible baseline (27.2 dB measured).
  auto a100 = nf::ct_angles(100);
  EXPECT_GT(psnr(nf::fbp(nf::radon(img, a100), a100, 128).clamp(0, 1), img), 24.0);
}

TEST(CtData, SheppLoganIsThePhantom) {
  auto p = nf::shepp_logan(64);
  ASSERT_EQ(p.sizes(), (std::vector<int64_t>{64, 64}));
  EXPECT_GE(p.min().item<double>(), 0.0);
  EXPECT_NEAR(p.max().item<double>(), 1.0, 1e-6);                // the skull rim
  EXPECT_NEAR(p[0][0].item<double>(), 0.0, 1e-6);                // outside the head
  EXPECT_NEAR(p[32][32].item<double>(), 0.2, 0.11);              // brain (0.2, ventricles nearby)
  // Close to the skimage phantom shipped as data (400², 8-bit).
  auto file = nf_test::shipped_data() / "ct" / "shepp_logan_phantom_skimage_400.png";
  auto ref = nf::load_ct_image(file, 128), ours = nf::load_ct_image("shepp_logan", 128);
  EXPECT_GT(psnr(ours, ref), 25.0);
}

TEST(CtData, LoadsRealChestSlice) {
  auto file = nf_test::shipped_data() / "ct" / "chest_wire.png";
  auto p = nf::load_ct(file, 96, 50, 0.0, 0);
  ASSERT_EQ(p.image.sizes(), (std::vector<int64_t>{96, 96}));
  ASSERT_EQ(p.angles.size(0), 50);
  ASSERT_EQ(p.sinogram.sizes(), (std::vector<int64_t>{50, 96}));
  EXPECT_GE(p.image.min().item<double>(), 0.0);
  EXPECT_LE(p.image.max().item<double>(), 1.0);
  EXPECT_GT(p.image.max().item<double>(), 0.3);  // bright bone, area-averaged
  EXPECT_GT(p.image.mean().item<double>(), 0.05);  // the body fills much of the frame
  EXPECT_EQ(p.image[0][0].item<double>(), 0.0);    // corners are outside the circle
  EXPECT_TRUE(at::allclose(p.sinogram, nf::radon(p.image, p.angles)));
  // Noise is relative to the sinogram's peak and reproducible from the seed.
  auto n1 = nf::load_ct(file, 96, 50, 0.01, 7), n2 = nf::load_ct(file, 96, 50, 0.01, 7);
  auto n3 = nf::load_ct(file, 96, 50, 0.01, 8);
  EXPECT_TRUE(at::equal(n1.sinogram, n2.sinogram));
  EXPECT_FALSE(at::equal(n1.sinogram, n3.sinogram));
  const double sd = (n1.sinogram - p.sinogram).std().item<double>();
  EXPECT_NEAR(sd, 0.01 * p.sinogram.max().item<double>(), 0.002 * p.sinogram.max().item<double>());
}

TEST(CtData, MissingFileThrowsWithName) {
  try {
    nf::load_ct("/nonexistent/ct.png", 32, 10);
    FAIL() << "no throw";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/ct.png"), std::string::npos) << e.what();
  }
}
