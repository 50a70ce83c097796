// Blender NeRF scene loader: real lego_100 views (shipped tests/data), a tiny synthetic scene with
// known pixels, errors.
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>  // implementation compiled elsewhere (libstb or cmake/stb_impl.cpp)

#include <cmath>
#include <fstream>

#include "datasets/blender.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {

// 9 train (r_0, r_12, ..., r_96), 3 val, 8 test (r_0, r_25, ..., r_175) views of lego_100.
fs::path lego_dir() { return nf_test::shipped_data() / "nerf_synthetic" / "lego_100"; }

#define NEED_LEGO() ASSERT_TRUE(fs::exists(lego_dir())) << "missing shipped data " << lego_dir()

TEST(Blender, LoadsLegoTrain) {
  NEED_LEGO();
  const nf::BlenderSplit s = nf::load_blender(lego_dir(), "train");
  ASSERT_EQ(s.images.sizes(), (std::vector<int64_t>{9, 100, 100, 3}));
  ASSERT_EQ(s.poses.sizes(), (std::vector<int64_t>{9, 4, 4}));
  EXPECT_EQ(s.images.scalar_type(), at::kFloat);
  EXPECT_EQ(s.H, 100);
  EXPECT_EQ(s.W, 100);
  EXPECT_NEAR(s.focal, 0.5 * 100 / std::tan(0.5 * 0.6911112070083618), 1e-6);
  EXPECT_DOUBLE_EQ(s.near, 2.0);
  EXPECT_DOUBLE_EQ(s.far, 6.0);
  EXPECT_GE(s.images.min().item<float>(), 0.0f);
  EXPECT_LE(s.images.max().item<float>(), 1.0f);
  // White background at the corners, a darker object in the middle.
  EXPECT_NEAR(s.images[0][0][0][0].item<float>(), 1.0f, 1e-6);
  EXPECT_LT(s.images.select(0, 0).slice(0, 40, 60).slice(1, 40, 60).mean().item<float>(), 0.9f);
  // First pose from transforms_train.json, last row (0, 0, 0, 1); rotations orthonormal.
  EXPECT_NEAR(s.poses[0][0][0].item<float>(), -0.9999021887779236f, 1e-7);
  EXPECT_NEAR(s.poses[0][1][3].item<float>(), 3.845470428466797f, 1e-6);
  EXPECT_TRUE(at::allclose(s.poses.select(1, 3), at::tensor({0.f, 0.f, 0.f, 1.f}).expand({9, 4})));
  const at::Tensor R = s.poses.slice(1, 0, 3).slice(2, 0, 3);
  EXPECT_TRUE(at::allclose(at::matmul(R, R.transpose(1, 2)), at::eye(3).expand({9, 3, 3}), 1e-4, 1e-5));
  // Cameras sit on a sphere of radius ~4 around the object, as in nerf_synthetic.
  const at::Tensor dist = s.poses.slice(1, 0, 3).select(2, 3).norm(2, -1);
  EXPECT_NEAR(dist.mean().item<float>(), 4.03f, 0.1f);
  ASSERT_EQ(s.files.size(), 9u);
  EXPECT_NE(s.files[1].find("r_12.png"), std::string::npos) << s.files[1];
}

TEST(Blender, OptionsDownscaleBlackMaxFrames) {
  NEED_LEGO();
  nf::BlenderOptions o;
  o.max_frames = 3;
  const nf::BlenderSplit full = nf::load_blender(lego_dir(), "val", o);
  ASSERT_EQ(full.images.size(0), 3);
  o.downscale = 2;
  const nf::BlenderSplit half = nf::load_blender(lego_dir(), "val", o);
  ASSERT_EQ(half.images.sizes(), (std::vector<int64_t>{3, 50, 50, 3}));
  EXPECT_NEAR(half.focal, full.focal / 2, 1e-9);
  const at::Tensor avg = full.images.reshape({3, 50, 2, 50, 2, 3}).mean({2, 4});
  EXPECT_TRUE(at::allclose(half.images, avg, 1e-6, 1e-6));
  o.downscale = 1;
  o.white_bkgd = false;
  const nf::BlenderSplit black = nf::load_blender(lego_dir(), "val", o);
  EXPECT_NEAR(black.images[0][0][0][1].item<float>(), 0.0f, 1e-6);
  EXPECT_TRUE(at::equal(black.poses, full.poses));
  o.white_bkgd = true;
  o.max_frames = -1;
  o.skip = 3;
  const nf::BlenderSplit test = nf::load_blender(lego_dir(), "test", o);
  ASSERT_EQ(test.images.size(0), 3);  // 8 test frames, every 3rd: r_0, r_75, r_150
  EXPECT_NE(test.files[1].find("r_75.png"), std::string::npos) << test.files[1];
}

// ---------------------------------------------------------------- tiny synthetic scenes
void write_rgba(const fs::path& p, int w, int h, const std::vector<unsigned char>& px) {
  fs::create_directories(p.parent_path());
  ASSERT_NE(stbi_write_png(p.string().c_str(), w, h, 4, px.data(), w * 4), 0);
}

std::string frame_json(const std::string& file, bool with_matrix = true) {
  std::string s = "{\"file_path\": \"" + file + "\"";
  if (with_matrix)
    s += ", \"transform_matrix\": [[1,0,0,0.5],[0,1,0,0],[0,0,1,4],[0,0,0,1]]";
  return s + "}";
}

void write_text(const fs::path& p, const std::string& text) { std::ofstream(p) << text; }

std::string transforms(const std::vector<std::string>& frames) {
  std::string s = "{\"camera_angle_x\": 0.5, \"frames\": [";
  for (size_t i = 0; i < frames.size(); ++i) s += (i ? "," : "") + frames[i];
  return s + "]}";
}

TEST(Blender, SyntheticPixelsCompositingAndDownscale) {
  const fs::path dir = nf_test::scratch("blender_tiny");
  // 2x2 RGBA: opaque red, half-transparent green, transparent blue, opaque white.
  const std::vector<unsigned char> px = {255, 0, 0, 255, 0, 255, 0, 128, 0, 0, 255, 0, 255, 255, 255, 255};
  write_rgba(dir / "train" / "r_0.png", 2, 2, px);
  write_rgba(dir / "train" / "r_1.png", 2, 2, px);
  write_text(dir / "transforms_train.json", transforms({frame_json("./train/r_0"), frame_json("./train/r_1.png")}));
  const nf::BlenderSplit s = nf::load_blender(dir, "train");
  ASSERT_EQ(s.images.sizes(), (std::vector<int64_t>{2, 2, 2, 3}));
  const float a = 128.0f / 255.0f;
  const at::Tensor expect = at::tensor({1.f, 0.f, 0.f, 1 - a, 1.f, 1 - a, 1.f, 1.f, 1.f, 1.f, 1.f, 1.f}).reshape({2, 2, 3});
  EXPECT_TRUE(at::allclose(s.images[0], expect, 1e-6, 1e-6));
  EXPECT_NEAR(s.focal, 0.5 * 2 / std::tan(0.25), 1e-9);
  EXPECT_FLOAT_EQ(s.poses[1][0][3].item<float>(), 0.5f);
  nf::BlenderOptions o;
  o.white_bkgd = false;
  o.downscale = 2;
  const nf::BlenderSplit d = nf::load_blender(dir, "train", o);
  ASSERT_EQ(d.images.sizes(), (std::vector<int64_t>{2, 1, 1, 3}));
  // Composite over black first, then average: (red + a*green + 0 + white) / 4.
  EXPECT_TRUE(at::allclose(d.images[0][0][0], at::tensor({2.f / 4, (a + 1) / 4, 1.f / 4}), 1e-6, 1e-6));
  o.downscale = 3;
  EXPECT_THROW(nf::load_blender(dir, "train", o), std::runtime_error);
}

std::string error_of(const fs::path& dir, const std::string& split = "train") {
  try {
    nf::load_blender(dir, split);
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Blender, ErrorsNameFileAndFrame) {
  const fs::path dir = nf_test::scratch("blender_broken");
  const std::string tf = (dir / "transforms_train.json").string();
  const std::vector<unsigned char> px(4 * 4 * 4, 200);
  write_rgba(dir / "train" / "r_0.png", 4, 4, px);
  write_rgba(dir / "train" / "r_1.png", 4, 4, px);
  write_rgba(dir / "train" / "small.png", 2, 2, std::vector<unsigned char>(16, 9));

  EXPECT_EQ(error_of(dir), tf + ": no such file");

  write_text(dir / "transforms_train.json", "{\"camera_angle_x\": 0.5, \"frames\": [");
  const std::string malformed = error_of(dir);
  EXPECT_EQ(malformed.rfind(tf + ": malformed JSON", 0), 0u) << malformed;
  EXPECT_EQ(malformed.find('\n'), std::string::npos);

  write_text(dir / "transforms_train.json", "{\"frames\": [" + frame_json("./train/r_0") + "]}");
  EXPECT_EQ(error_of(dir), tf + ": missing key 'camera_angle_x'");

  write_text(dir / "transforms_train.json", transforms({frame_json("./train/r_0"), frame_json("./train/r_1", false)}));
  EXPECT_EQ(error_of(dir), tf + ": frame 1: missing key 'transform_matrix'");

  write_text(dir / "transforms_train.json", transforms({frame_json("./train/r_0"), "{\"transform_matrix\": []}"}));
  EXPECT_EQ(error_of(dir), tf + ": frame 1: missing key 'file_path'");

  write_text(dir / "transforms_train.json",
             transforms({frame_json("./train/r_0"), "{\"file_path\": \"./train/r_1\", \"transform_matrix\": [[1,2]]}"}));
  EXPECT_EQ(error_of(dir), tf + ": frame 1: 'transform_matrix' must be a 4x4 array of numbers");

  write_text(dir / "transforms_train.json", transforms({frame_json("./train/r_0"), frame_json("./train/r_7")}));
  EXPECT_EQ(error_of(dir), tf + ": frame 1: image " + (dir / "train" / "r_7.png").string() + ": no such file");

  write_text(dir / "transforms_train.json", transforms({frame_json("./train/r_0"), frame_json("./train/small")}));
  const std::string size_err = error_of(dir);
  EXPECT_EQ(size_err.rfind((dir / "train" / "small.png").string() + ": size 2x2 differs", 0), 0u) << size_err;
  EXPECT_NE(size_err.find("(frame 1)"), std::string::npos) << size_err;

  write_text(dir / "train" / "r_1.png", "not a png");
  write_text(dir / "transforms_train.json", transforms({frame_json("./train/r_0"), frame_json("./train/r_1")}));
  const std::string bad_png = error_of(dir);
  EXPECT_EQ(bad_png.rfind((dir / "train" / "r_1.png").string() + ": cannot decode image (frame 1)", 0), 0u) << bad_png;
}

}  // namespace
