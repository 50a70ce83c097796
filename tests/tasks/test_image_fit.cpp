// Image fitting end to end: every method improves on a synthetic image; on real Kodak crops the
// paper's ordering ReLU < ReLU+CN and PE < PE+CN holds.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "datasets/test_images.h"
#include "fields/registry.h"
#include "support/shipped_data.h"
#include "support/test_data.h"
#include "tasks/image_fit.h"

namespace {
double fit_psnr(const at::Tensor& img, const std::string& method, int64_t iters, const std::string& arch,
                double lr_plain = 2e-4) {
  torch::manual_seed(0);
  auto [L, W] = nf::parse_arch(arch);
  nf::TrainOptions o;
  o.iters = iters;
  o.lr.lr = nf::method_has_norm(method) ? 1e-2 : lr_plain;
  o.progress = false;
  auto r = nf::fit_image(img, nf::method_config(method, 2, img.size(2), L, W), o, {}, at::kCPU, "test");
  return r.metrics["psnr"].get<double>();
}
}  // namespace

TEST(ImageFit, EveryMethodImprovesOnASyntheticImage) {
  auto img = nf::smooth_pattern(24, 24);
  for (const auto& m : nf::method_names()) {
    // A short run: methods without a norm get lr 1e-3 here (the paper's 2e-4 needs thousands of steps).
    const double before = fit_psnr(img, m, 0, "3x24", 1e-3);
    const double after = fit_psnr(img, m, 100, "3x24", 1e-3);
    EXPECT_GT(after, before + 1.0) << m << ": " << before << " -> " << after;
  }
}

TEST(ImageFit, CoordinatesFollowTheReferenceConvention) {
  // Landscape 3x5: both axes divided by (H - 1) = 2, so x spans [-1, 3].
  auto c = nf::image_coordinates(3, 5, "reference");
  EXPECT_FLOAT_EQ(c.select(1, 0).min().item<float>(), -1.f);
  EXPECT_FLOAT_EQ(c.select(1, 0).max().item<float>(), 3.f);
  EXPECT_FLOAT_EQ(c.select(1, 1).max().item<float>(), 1.f);
  auto a = nf::image_coordinates(3, 5, "aspect");
  EXPECT_FLOAT_EQ(a.select(1, 0).max().item<float>(), 1.f);
  EXPECT_FLOAT_EQ(a.select(1, 1).max().item<float>(), 0.5f);
  // First row, second pixel: x = column.
  EXPECT_FLOAT_EQ(c[1][0].item<float>(), 0.f);
  EXPECT_FLOAT_EQ(c[1][1].item<float>(), -1.f);
}

TEST(ImageFit, KodakCropsShowTheNormalizationGain) {
  auto dir = nf_test::shipped_data() / "kodak";
  for (const std::string name : {"kodim01", "kodim13"}) {
    // The shipped 128x128 crop starts at (168, 268): this is the 48x48 crop at (200, 300).
    auto img = nf::load_image(dir / (name + "_crop128.png")).pixels;
    auto crop = img.slice(0, 32, 80).slice(1, 32, 80).contiguous();
    const double relu = fit_psnr(crop, "relu", 300, "4x32");
    const double relu_cn = fit_psnr(crop, "relu+cn", 300, "4x32");
    const double pe = fit_psnr(crop, "pe", 300, "4x32");
    const double pe_cn = fit_psnr(crop, "pe+cn", 300, "4x32");
    std::printf("%s crop: relu %.2f relu+cn %.2f pe %.2f pe+cn %.2f\n", name.c_str(), relu, relu_cn, pe, pe_cn);
    EXPECT_LT(relu, relu_cn) << name;
    EXPECT_LT(pe, pe_cn) << name;
  }
}
