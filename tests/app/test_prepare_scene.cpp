// normfield prepare-scene: a Blender or DTU scene downscaled on disk equals the loader's own
// downscale of the full-size scene (Blender: premultiplied box average, transforms copied; DTU:
// intrinsics rescaled, poses kept), one-line errors.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <fstream>

#include "datasets/blender.h"
#include "datasets/dtu.h"
#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "datasets/npz.h"
#include "datasets/scene_prepare.h"
#include "support/cli.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {
// normfield prepare-scene --downscale 4 of `in` into `out` exits 0 and prints `summary`; its output
// is returned in *output. Call through ASSERT_NO_FATAL_FAILURE.
void prepare_by_4(const fs::path& in, const fs::path& out, const std::string& summary, std::string* output) {
  const auto r = nf_test::run_cli("prepare-scene --downscale 4 --in " + in.string() + " --out " + out.string());
  *output = r.output;
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find(summary), std::string::npos) << r.output;
}
}  // namespace

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
  std::string output;
  ASSERT_NO_FATAL_FAILURE(prepare_by_4(lego, out, "20 blender images 100x100 -> 25x25", &output));  // 9 + 3 + 8
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

TEST(PrepareScene, CliMatchesTheLoadersDownscaleOnDtu) {
  ASSERT_TRUE(nf_test::have_cli()) << "normfield not built";
  const fs::path dtu = nf_test::shipped_data() / "dtu" / "dtu_scan65_400x300";
  const fs::path out = nf_test::scratch("prepare_scene_dtu") / "dtu_100x75";
  std::string output;
  ASSERT_NO_FATAL_FAILURE(prepare_by_4(dtu, out, "4 dtu images 400x300 -> 100x75", &output));
  EXPECT_NE(output.find("4 masks"), std::string::npos) << output;
  nf::DtuOptions o;
  o.downscale = 4;
  const nf::DtuScene full = nf::load_dtu(dtu, o);  // loader's area average of the full-size views
  const nf::DtuScene small = nf::load_dtu(out);     // prepared on disk (8 bits)
  ASSERT_EQ(small.images.sizes(), full.images.sizes());
  ASSERT_EQ(small.masks.sizes(), full.masks.sizes());
  EXPECT_EQ(small.W, 100);
  EXPECT_TRUE(small.has_masks);
  EXPECT_LE((small.images - full.images).abs().max().item<float>(), 0.5f / 255 + 1e-6f);
  EXPECT_LE((small.masks - full.masks).abs().max().item<float>(), 0.5f / 255 + 1e-6f);
  // Intrinsics (cx, cy with load_dtu's pixel-centre mapping) and poses; the npz stores float32.
  EXPECT_TRUE(at::allclose(small.intrinsics, full.intrinsics, 1e-5, 1e-4)) << small.intrinsics - full.intrinsics;
  EXPECT_TRUE(at::allclose(small.c2w, full.c2w, 1e-5, 1e-5)) << small.c2w - full.c2w;
  EXPECT_TRUE(at::allclose(small.scale_mat, full.scale_mat));
  // The rest of the npz: scale matrices copied, inverses consistent, IDR's camera_mat for the new size.
  const auto a = nf::load_npz(dtu / "cameras_sphere.npz"), b = nf::load_npz(out / "cameras_sphere.npz");
  ASSERT_EQ(a.size(), b.size());
  for (const auto& kv : a) {
    ASSERT_TRUE(b.count(kv.first)) << kv.first;
    EXPECT_EQ(b.at(kv.first).scalar_type(), kv.second.scalar_type()) << kv.first;
    if (kv.first.rfind("scale_mat", 0) == 0) EXPECT_TRUE(at::equal(b.at(kv.first), kv.second)) << kv.first;
  }
  // world_mat_inv' = world_mat_inv @ S^-1, S^-1 = [[4, 0, 1.5], [0, 4, 1.5], [0, 0, 1]] for d = 4.
  const at::Tensor S_inv =
      at::tensor({4.0, 0.0, 1.5, 0.0, 0.0, 4.0, 1.5, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 1.0}, at::kDouble).view({4, 4});
  const at::Tensor inv_expected = at::matmul(a.at("world_mat_inv_2").to(at::kDouble), S_inv);
  EXPECT_TRUE(at::allclose(b.at("world_mat_inv_2").to(at::kDouble), inv_expected, 1e-5,
                           1e-5 * inv_expected.abs().max().item<double>()));
  EXPECT_NEAR(b.at("camera_mat_inv_1")[0][0].item<double>(), 50.0, 1e-4);  // W' / 2
  EXPECT_NEAR(b.at("camera_mat_1")[1][1].item<double>(), 2.0 / 75, 1e-6);  // 2 / H'
  // One-line errors naming the file / key.
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --downscale 7 --in " + dtu.string() + " --out " + (out.parent_path() / "x").string()),
      "000000.png: size 400x300 is not divisible by --downscale 7"));
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --downscale 0 --in " + dtu.string() + " --out " + (out.parent_path() / "y").string()),
      "--downscale must be >= 1"));
  const fs::path broken = out.parent_path() / "broken";
  fs::copy(out, broken, fs::copy_options::recursive);
  auto cams = nf::load_npz(broken / "cameras_sphere.npz");
  cams["world_mat_1"] = at::zeros({2, 2});
  nf::save_npz(broken / "cameras_sphere.npz", cams);
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --downscale 5 --in " + broken.string() + " --out " + (out.parent_path() / "z").string()),
      "cameras_sphere.npz: key 'world_mat_1' must be a 4x4 (or 3x4) float matrix"));
  cams.erase("world_mat_1");
  nf::save_npz(broken / "cameras_sphere.npz", cams);
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("prepare-scene --downscale 5 --in " + broken.string() + " --out " + (out.parent_path() / "z").string()),
      "cameras_sphere.npz: 3 cameras (world_mat_*) for 4 images"));
}
