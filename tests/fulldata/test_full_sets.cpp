// The full data sets in NORMFIELD_DATA (default ../shared/data) are complete and load: what the
// docs' results were made from. Registered only when that folder exists at configure time
// (tests/CMakeLists.txt), so these FAIL rather than skip when a set is missing or incomplete.
// Every other test uses the shipped tests/data.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "datasets/blender.h"
#include "datasets/dtu.h"
#include "datasets/image_io.h"
#include "datasets/mesh_io.h"
#include "datasets/mri_data.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {
int count_files(const fs::path& dir, const std::string& ext) {
  int n = 0;
  if (!fs::is_directory(dir)) return -1;
  for (const auto& e : fs::directory_iterator(dir))
    if (e.path().extension() == ext) ++n;
  return n;
}
}  // namespace

TEST(FullData, Kodak24) {
  const fs::path dir = nf_test::data_dir() / "kodak";
  for (int i = 1; i <= 24; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "kodim%02d.png", i);
    ASSERT_TRUE(fs::exists(dir / name)) << dir / name << " missing (scripts/fetch_data.sh kodak)";
    const nf::Image img = nf::load_image(dir / name);
    const auto s = img.pixels.sizes();
    EXPECT_TRUE((s == at::IntArrayRef{512, 768, 3}) || (s == at::IntArrayRef{768, 512, 3})) << name << " " << s;
  }
}

TEST(FullData, EveryStanfordMeshLoads) {
  const fs::path dir = nf_test::data_dir() / "meshes";
  int loaded = 0;
  ASSERT_TRUE(fs::is_directory(dir)) << dir << " missing (scripts/fetch_data.sh meshes)";
  for (const auto& entry : fs::directory_iterator(dir)) {
    const std::string ext = entry.path().extension().string();
    if (ext != ".obj" && ext != ".ply") continue;
    const nf::Mesh m = nf::load_mesh(entry.path().string());
    EXPECT_GT(m.num_faces(), 1000) << entry.path();
    const nf::Mesh b = ext == ".obj" ? nf::read_obj_builtin(entry.path().string())
                                             : nf::read_ply_builtin(entry.path().string());
    EXPECT_TRUE(at::equal(b.faces, m.faces)) << entry.path();
    ++loaded;
  }
  EXPECT_GE(loaded, 1) << "no .obj/.ply in " << dir;
}

TEST(FullData, LegoSplitsAreComplete) {
  const fs::path lego = nf_test::data_dir() / "nerf_synthetic" / "lego_100";
  ASSERT_TRUE(fs::is_directory(lego)) << lego << " missing (scripts/fetch_data.sh nerf_synthetic, then "
                                      << "normfield prepare-scene --downscale 8)";
  for (auto [split, n] : {std::pair<const char*, int64_t>{"train", 100}, {"val", 100}, {"test", 200}}) {
    nf::BlenderOptions o;
    o.max_frames = 2;  // decode two; count the rest
    const nf::BlenderSplit s = nf::load_blender(lego, split, o);
    EXPECT_EQ(s.H, 100) << split;
    EXPECT_EQ(count_files(lego / split, ".png"), n) << split;
  }
}

TEST(FullData, DtuScan65HasAllViews) {
  const fs::path dtu = nf_test::data_dir() / "dtu" / "dtu_scan65_400x300";
  EXPECT_EQ(count_files(dtu / "image", ".png"), 49) << dtu;
  EXPECT_EQ(count_files(dtu / "mask", ".png"), 49) << dtu;
  ASSERT_TRUE(fs::exists(dtu / "cameras_sphere.npz")) << dtu;
  const nf::DtuScene s = nf::load_dtu(dtu);  // every view's projection, image and mask
  EXPECT_EQ(s.images.sizes(), (at::IntArrayRef{49, 300, 400, 3}));
  EXPECT_EQ(s.masks.sizes(), (at::IntArrayRef{49, 300, 400}));
  EXPECT_TRUE(s.has_masks);
}

TEST(FullData, CtAndMriVolumes) {
  const fs::path d = nf_test::data_dir();
  EXPECT_EQ(nf::load_image(d / "ct" / "chest_wire.png").bit_depth, 16);
  EXPECT_TRUE(fs::exists(d / "ct" / "shepp_logan_phantom_skimage_400.png"));
  for (const char* f : {"ch2_96cube_uint8.npy", "ch2bet_96cube_uint8.npy"})
    EXPECT_EQ(nf::load_mri(d / "mri" / f).sizes(), (at::IntArrayRef{96, 96, 96})) << f;
}
