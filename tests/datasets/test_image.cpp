// Image I/O, figure helpers, PSNR/SSIM (against skimage constants) and synthetic test images.
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "datasets/test_images.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

#include <stb/stb_image_write.h>  // only to make a JPEG fixture (compiled libstb)

namespace fs = std::filesystem;

namespace {
at::Tensor q8(const at::Tensor& x) { return x.clamp(0, 1).mul(255).round().div(255); }

// Expects fn to throw std::runtime_error whose message contains `needle`.
template <class F>
void expect_error_with(F fn, const std::string& needle) {
  try {
    fn();
    ADD_FAILURE() << "no exception; expected one mentioning " << needle;
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

// The shipped tests/data is part of the repository: missing means a broken checkout (FAIL).
#define NF_REQUIRE_DATA(sub) \
  ASSERT_TRUE(fs::exists(nf_test::shipped_data() / (sub))) << "missing " << nf_test::shipped_data() / (sub)
}  // namespace

TEST(ImageIO, RoundTripRgbEqualsQuantisedInput) {
  auto dir = nf_test::scratch("image_roundtrip");
  at::Tensor img = nf::zone_plate(33, 3) * 1.2 - 0.1;  // [33, 33, 3], partly outside [0, 1]
  auto path = dir / "sub" / "zone.png";                 // parent folder created by write_png
  nf::write_png(path, img);
  EXPECT_FALSE(fs::exists(dir / "sub" / "zone.png.tmp"));
  nf::Image back = nf::load_image(path);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.bit_depth, 8);
  EXPECT_EQ(back.path, path.string());
  ASSERT_EQ(back.pixels.sizes(), img.sizes());
  EXPECT_EQ(back.pixels.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(back.pixels, q8(img), 0, 1e-6));
}

TEST(ImageIO, GrayAndRgba) {
  auto dir = nf_test::scratch("image_gray_rgba");
  at::Tensor gray = nf::smooth_pattern(10, 12, 1);  // [10, 12, 1]
  nf::write_png(dir / "g.png", gray.squeeze(2));    // [H, W] accepted
  nf::Image g = nf::load_image(dir / "g.png");
  EXPECT_EQ(g.channels, 1);
  ASSERT_EQ(g.pixels.sizes(), gray.sizes());
  EXPECT_TRUE(at::allclose(g.pixels, q8(gray), 0, 1e-6));
  at::Tensor g_rgb = nf::to_rgb(g.pixels);  // [10, 12, 3], gray replicated
  EXPECT_TRUE(at::equal(g_rgb.select(2, 0), g.pixels.select(2, 0)));
  EXPECT_TRUE(at::equal(g_rgb.select(2, 2), g.pixels.select(2, 0)));

  at::Tensor rgba = at::cat({nf::smooth_pattern(10, 12, 3), nf::checkerboard(10, 12, 3, 1)}, 2);  // [10, 12, 4]
  nf::write_png(dir / "a.png", rgba);
  nf::Image a = nf::load_image(dir / "a.png");
  EXPECT_EQ(a.channels, 4);
  EXPECT_TRUE(at::allclose(a.pixels, q8(rgba), 0, 1e-6));
  at::Tensor white = nf::to_rgb(a.pixels, true);   // alpha 0 -> white, alpha 1 -> colour
  at::Tensor drop = nf::to_rgb(a.pixels, false);
  at::Tensor alpha = a.pixels.narrow(2, 3, 1);
  at::Tensor rgb = a.pixels.narrow(2, 0, 3);
  EXPECT_TRUE(at::allclose(white, rgb * alpha + (1 - alpha)));
  EXPECT_FLOAT_EQ(white[0][0][1].item<float>(), 1.0f);  // cell (0,0) of the checkerboard: alpha 0
  EXPECT_TRUE(at::equal(drop, rgb));
  // gray + alpha composites too
  at::Tensor ga = at::stack({at::full({2, 2}, 0.2), at::full({2, 2}, 0.5)}, 2);  // [2, 2, 2]
  EXPECT_NEAR(nf::to_rgb(ga)[1][1][2].item<float>(), 0.2 * 0.5 + 0.5, 1e-6);
}

TEST(ImageIO, LoadsJpeg) {
  auto dir = nf_test::scratch("image_jpeg");
  at::Tensor img = nf::smooth_pattern(16, 24, 3);  // [16, 24, 3], smooth: JPEG keeps it close
  at::Tensor u8 = q8(img).mul(255).to(at::kByte).contiguous();
  auto path = dir / "s.jpg";
  ASSERT_TRUE(stbi_write_jpg(path.c_str(), 24, 16, 3, u8.data_ptr<uint8_t>(), 95));
  nf::Image back = nf::load_image(path);
  EXPECT_EQ(back.channels, 3);
  EXPECT_EQ(back.bit_depth, 8);
  ASSERT_EQ(back.pixels.sizes(), img.sizes());
  EXPECT_LT((back.pixels - img).abs().mean().item<float>(), 0.02f);
}

TEST(ImageIO, ErrorsNameTheFile) {
  auto dir = nf_test::scratch("image_errors");
  auto missing = dir / "nope.png";
  expect_error_with([&] { nf::load_image(missing); }, missing.string() + ": no such file");
  auto bad = dir / "garbage.png";
  { std::ofstream(bad, std::ios::binary) << "this is not a png at all \x01\x02\x03"; }
  expect_error_with([&] { nf::load_image(bad); }, bad.string() + ": not a PNG/JPEG image or corrupt (");
  auto empty = dir / "empty.png";
  { std::ofstream(empty, std::ios::binary); }
  expect_error_with([&] { nf::load_image(empty); }, empty.string() + ": ");
  auto two = dir / "two.png";
  expect_error_with([&] { nf::write_png(two, at::zeros({4, 4, 2})); }, two.string());
}

TEST(ImageIO, SideBySideAndErrorMap) {
  at::Tensor a = nf::smooth_pattern(8, 5), b = nf::checkerboard(8, 6, 2, 1);
  at::Tensor s = nf::side_by_side({a, b}, 3);  // [8, 5 + 3 + 6, 3]
  ASSERT_EQ(s.sizes(), (at::IntArrayRef{8, 14, 3}));
  EXPECT_TRUE(at::equal(s.narrow(1, 0, 5), a));
  EXPECT_TRUE(at::equal(s.narrow(1, 5, 3), at::ones({8, 3, 3})));
  EXPECT_TRUE(at::equal(s.narrow(1, 8, 6), nf::to_rgb(b)));
  EXPECT_THROW(nf::side_by_side({a, nf::smooth_pattern(7, 5)}), std::runtime_error);

  at::Tensor t = at::zeros({2, 2, 3});
  at::Tensor p = t.clone();
  p[0][1].fill_(0.05);  // error 0.5 of max_err 0.1
  p[1][1].fill_(1.0);   // saturates
  at::Tensor m = nf::error_map(p, t, 0.1);  // [2, 2, 3]
  ASSERT_EQ(m.sizes(), (at::IntArrayRef{2, 2, 3}));
  EXPECT_TRUE(at::equal(m[0][0], at::zeros({3})));  // no error: black
  EXPECT_TRUE(at::equal(m[1][1], at::ones({3})));   // saturated: white
  EXPECT_NEAR(m[0][1][0].item<float>(), 1.0, 1e-6);  // mid: red full, green half, no blue
  EXPECT_NEAR(m[0][1][1].item<float>(), 0.5, 1e-5);
  EXPECT_NEAR(m[0][1][2].item<float>(), 0.0, 1e-6);
}

// Reference values from skimage 0.19.3 (Debian python3-skimage), computed on the same images rebuilt
// with torch in float64 -> float32. `/usr/bin/python3 ref.py` with ref.py:
//   import math, torch, numpy as np
//   from skimage.metrics import structural_similarity as ssim, peak_signal_noise_ratio as psnr
//   def grid(h, w):
//       return (torch.arange(h, dtype=torch.float64).view(h, 1).expand(h, w),
//               torch.arange(w, dtype=torch.float64).view(1, w).expand(h, w))
//   def smooth(h, w, c=3, phase=0.0):
//       i, j = grid(h, w)
//       return torch.stack([0.5 + 0.4 * torch.sin(0.21*j + 0.13*i + (phase + ch))
//                           * torch.cos(0.07*i - 0.05*j + 0.5*ch) for ch in range(c)], 2).float()
//   def zone(s, c=3):
//       i, j = grid(s, s); cc = (s - 1) / 2.0; k = 0.9 * math.pi / (2.0 * max(cc * math.sqrt(2.0), 1.0))
//       ph = k * ((i - cc).pow(2) + (j - cc).pow(2))
//       return torch.stack([0.5 + 0.5 * torch.cos(ph + ch * 2.0 * math.pi / 3.0) for ch in range(c)], 2).float()
//   q = lambda x: (np.clip(x.double().numpy(), 0, 1) * 255).round() / 255
//   f = lambda x: x.double().numpy()
//   a, b = smooth(48, 64, 3, 0.0), smooth(48, 64, 3, 0.7)
//   print(ssim(q(b), q(a), data_range=1, channel_axis=-1), psnr(q(b), q(a), data_range=1))
//   z = zone(64, 3); p = z * 0.8 + smooth(64, 64, 3, 1.0) * 0.25
//   print(ssim(q(z), q(p), data_range=1, channel_axis=-1), psnr(q(z), q(p), data_range=1))
//   g, h = smooth(40, 50, 1, 0.0)[..., 0], smooth(40, 50, 1, 0.3)[..., 0]
//   print(ssim(f(h), f(g), data_range=1))
//   va = torch.stack([smooth(32, 32, 1, 0.1 * d)[..., 0] for d in range(5)])
//   vb = torch.stack([smooth(32, 32, 1, 0.1 * d + 0.4)[..., 0] for d in range(5)])
//   print(np.mean([ssim(q(vb[d]), q(va[d]), data_range=1) for d in range(5)]))
// For scale: use_sample_covariance=False gives 0.66460 and no quantisation 0.66427 for the first
// pair, both outside the 1e-4 tolerance.
TEST(ImageMetrics, MatchSkimage) {
  at::Tensor a = nf::smooth_pattern(48, 64, 3, 0.0), b = nf::smooth_pattern(48, 64, 3, 0.7);
  EXPECT_NEAR(nf::ssim(a, b), 0.6640989964, 1e-4);
  EXPECT_NEAR(nf::psnr(a, b), 17.2494750354, 1e-4);

  at::Tensor z = nf::zone_plate(64, 3);
  at::Tensor p = z * 0.8f + nf::smooth_pattern(64, 64, 3, 1.0) * 0.25f;  // > 1 in places: clamped
  EXPECT_NEAR(nf::ssim(p, z), 0.9644902249, 1e-4);
  EXPECT_NEAR(nf::psnr(p, z), 20.9196556012, 1e-4);

  at::Tensor g = nf::smooth_pattern(40, 50, 1, 0.0).select(2, 0), h = nf::smooth_pattern(40, 50, 1, 0.3).select(2, 0);
  EXPECT_NEAR(nf::ssim(h, g, /*quantize=*/false), 0.9196317453, 1e-4);

  std::vector<at::Tensor> sa, sb;
  for (int d = 0; d < 5; ++d) {
    sa.push_back(nf::smooth_pattern(32, 32, 1, 0.1 * d).select(2, 0));
    sb.push_back(nf::smooth_pattern(32, 32, 1, 0.1 * d + 0.4).select(2, 0));
  }
  EXPECT_NEAR(nf::ssim3d(at::stack(sb), at::stack(sa)), 0.8520250864, 1e-4);  // [5, 32, 32]
}

TEST(ImageMetrics, IdenticalAndEdgeCases) {
  at::Tensor z = nf::zone_plate(16, 3);
  EXPECT_EQ(nf::psnr(z, z), 100.0);
  EXPECT_EQ(nf::psnr(z, q8(z) + 1e-3), 100.0);  // equal after 8-bit rounding (1e-3 < 0.5 / 255)
  EXPECT_EQ(nf::psnr_float(z, z), 100.0);
  EXPECT_NEAR(nf::psnr_float(z, z + 0.01), 40.0, 1e-3);  // MSE 1e-4
  EXPECT_NEAR(nf::ssim(z, z), 1.0, 1e-12);
  EXPECT_LT(nf::ssim(z, 1 - z), 0.0);
  EXPECT_THROW(nf::psnr(z, nf::zone_plate(15, 3)), std::runtime_error);
  EXPECT_THROW(nf::ssim(nf::zone_plate(6, 1), nf::zone_plate(6, 1)), std::runtime_error);
  EXPECT_DOUBLE_EQ(nf::bits_per_pixel(768 * 512 / 4, 768 * 512), 8.0);
  EXPECT_DOUBLE_EQ(nf::bits_per_pixel(1000, 500, 16), 32.0);
}

TEST(TestImages, ZonePlateAndCheckerboard) {
  at::Tensor z = nf::zone_plate(64, 3);  // [64, 64, 3]
  ASSERT_EQ(z.sizes(), (at::IntArrayRef{64, 64, 3}));
  EXPECT_GE(z.min().item<float>(), 0.0f);
  EXPECT_LE(z.max().item<float>(), 1.0f);
  EXPECT_FALSE(at::allclose(z.select(2, 0), z.select(2, 1)));  // channels differ
  // High frequency near the corner: neighbouring pixels differ far more than at the centre.
  at::Tensor c0 = z.select(2, 0);
  double edge = (c0.narrow(1, 1, 8) - c0.narrow(1, 0, 8)).narrow(0, 0, 8).abs().mean().item<double>();
  double mid = (c0.narrow(1, 29, 4) - c0.narrow(1, 28, 4)).narrow(0, 30, 4).abs().mean().item<double>();
  EXPECT_GT(edge, 10 * mid);
  at::Tensor cb = nf::checkerboard(4, 6, 2, 1);  // [4, 6, 1]
  EXPECT_EQ(cb[0][0][0].item<float>(), 0.0f);
  EXPECT_EQ(cb[0][2][0].item<float>(), 1.0f);
  EXPECT_EQ(cb[2][2][0].item<float>(), 0.0f);
  EXPECT_EQ(cb.sum().item<float>(), 12.0f);
}

TEST(ImageData, Ct16Bit) {
  NF_REQUIRE_DATA("ct/chest_wire.png");
  nf::Image img = nf::load_image(nf_test::shipped_data() / "ct" / "chest_wire.png");
  EXPECT_EQ(img.bit_depth, 16);
  EXPECT_EQ(img.channels, 1);
  ASSERT_EQ(img.pixels.sizes(), (at::IntArrayRef{326, 435, 1}));
  EXPECT_GE(img.pixels.min().item<float>(), 0.0f);
  EXPECT_LE(img.pixels.max().item<float>(), 1.0f);
  // 16-bit precision: values that are not multiples of 1/255 exist.
  at::Tensor v = img.pixels * 255;
  EXPECT_GT((v - v.round()).abs().max().item<float>(), 0.01f);
}

TEST(ImageData, KodakRgb8) {
  NF_REQUIRE_DATA("kodak/kodim01_crop128.png");
  for (const char* name : {"kodim01_crop128.png", "kodim04_crop128.png"}) {
    nf::Image img = nf::load_image(nf_test::shipped_data() / "kodak" / name);
    EXPECT_EQ(img.bit_depth, 8);
    EXPECT_EQ(img.channels, 3);
    ASSERT_EQ(img.pixels.sizes(), (at::IntArrayRef{128, 128, 3}));
    // A photograph: colours vary, neither flat nor saturated.
    EXPECT_GT(img.pixels.std().item<float>(), 0.05f) << name;
    EXPECT_GT(img.pixels.mean().item<float>(), 0.1f) << name;
    EXPECT_LT(img.pixels.mean().item<float>(), 0.9f) << name;
  }
}
