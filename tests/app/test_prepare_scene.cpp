// normfield prepare-scene: a Blender scene downscaled on disk equals the loader's own downscale of
// the full-size scene (premultiplied box average), transforms copied, one-line errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <fstream>

#include "datasets/blender.h"
#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "datasets/scene_prepare.h"
#include "support/cli.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

TEST(PrepareScene, PremultipliedBoxAverage) {
  // 2x2 RGBA: opaque red, transparent green, half-transparent blue, opaque white.
  const at::Tensor x = at::tensor({1.f, 0.f, 0.f, 1.f, 0.f, 1.f, 0.f, 0.f, 0.f, 0.f, 1.f, .5f, 1.f, 1.f, 1.f, 1.f})
                           .reshape({2, 2, 4});
  const at::Tensor y = nf::box_downscale(x, 2);
  ASSERT_EQ(y.sizes(), (at::IntArrayRef{1, 1, 4}));
  const float a = 2.5f / 4;  // mean alpha; the transparent green contributes nothing to the colour
  EXPECT_TRUE(at::allclose(y[0][0], at::tensor({2.f / 4 / a, 1.f / 4 / a, 1.5f / 4 / a, a}), 1e-6, 1e-6)) << y;
  // Fully transparent blocks stay transparent black, RGB is a plain mean.
  EXPECT_EQ(nf::box_downscale(at::zeros({2, 2, 4}), 2).abs().sum().item<float>(), 0.f);
  EXPECT_TRUE(at::allclose(nf::box_downscale(x.narrow(2, 0, 3).contiguous(), 2)[0][0], at::tensor({.5f, .5f, .5f})));
  EXPECT_THROW(nf::box_downscale(at::zeros({3, 4, 4}), 2), std::runtime_error);
}

TEST(PrepareScene, CliMatchesTheLoadersDownscaleOnLego) {
  ASSERT_TRUE(nf_test::have_cli()) << "normfield not built";
  const fs::path lego = nf_test::shipped_data() / "nerf_synthetic" / "lego_100";
  const fs::path out = nf_test::scratch("prepare_scene") / "lego_25";
  auto r = nf_test::run_cli("prepare-scene --downscale 4 --in " + lego.string() + " --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("20 blender images 100x100 -> 25x25"), std::string::npos) << r.output;  // 9 + 3 + 8
  for (const char* split : {"train", "val", "test"}) {
    EXPECT_EQ(nf_test::slurp(out / (std::string("transforms_") + split + ".json")),
              nf_test::slurp(lego / (std::string("transforms_") + split + ".json")));
    nf::BlenderOptions o;
    o.downscale = 4;
    const auto full = nf::load_blender(lego, split, o);  // composite over white, then average
    const auto small = nf::load_blender(out, split);      // average (premultiplied), 8 bits, composite
    ASSERT_EQ(small.images.sizes(), full.images.sizes()) << split;
    EXPECT_EQ(small.H, 25);
    EXPECT_NEAR(small.focal, full.focal, 1e-9);
    EXPECT_TRUE(at::equal(small.poses, full.poses));
    // Equal up to the 8-bit rounding of colour and alpha.
    EXPECT_LT((small.images - full.images).abs().max().item<float>(), 2.5f / 255) << split;
  }
  // One-line errors naming the folder / file.
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --downscale 3 --in " + lego.string() + " --out " + (out.parent_path() / "x").string()),
      "is not divisible by --downscale 3"));
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --in /nonexistent/scene --out " + (out.parent_path() / "y").string()),
      "/nonexistent/scene"));
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --in " + out.string() + " --out " + out.string()), "--out must differ from --in"));
}
