// normfield make-scene: flag errors are one line; a tiny scene is written.
#include <gtest/gtest.h>

#include <fstream>

#include "support/cli.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {
void write_tetra(const fs::path& p) {
  std::ofstream o(p);
  o << "v 0 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n";
}
}  // namespace

TEST(MakeSceneCli, BadFlagsGiveOneLineErrors) {
  if (!nf_test::have_cli()) GTEST_SKIP() << "normfield not built";
  const fs::path dir = nf_test::scratch("cli_make_scene_bad");
  write_tetra(dir / "t.obj");
  const std::string mesh = (dir / "t.obj").string(), out = (dir / "s").string();
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("make-scene --mesh " + mesh + " --out " + out + " --size 200"), "--size"));
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("make-scene --mesh " + mesh + " --out " + out + " --size 4x4"), "--size"));
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("make-scene --mesh " + mesh + " --out " + out + " --views 0"), "--views"));
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("make-scene --mesh " + (dir / "missing.obj").string() + " --out " + out), "missing.obj"));
  std::ofstream(dir / "bad.obj") << "v 0 0 0\nf 1 2 3\n";
  EXPECT_TRUE(nf_test::is_one_line_error(
      nf_test::run_cli("make-scene --mesh " + (dir / "bad.obj").string() + " --out " + out), "bad.obj"));
}

TEST(MakeSceneCli, WritesATinyScene) {
  if (!nf_test::have_cli()) GTEST_SKIP() << "normfield not built";
  const fs::path dir = nf_test::scratch("cli_make_scene");
  write_tetra(dir / "t.obj");
  const auto r = nf_test::run_cli("make-scene --mesh " + (dir / "t.obj").string() + " --views 3 --size 40x30 --out " +
                                  (dir / "s").string());
  if (r.output.find("without Embree") != std::string::npos) GTEST_SKIP() << r.output;
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(fs::exists(dir / "s" / "image" / "000002.png"));
  EXPECT_TRUE(fs::exists(dir / "s" / "mask" / "002.png"));
  EXPECT_TRUE(fs::exists(dir / "s" / "cameras_sphere.npz"));
  EXPECT_TRUE(fs::exists(dir / "s" / "gt_mesh.obj"));
}
