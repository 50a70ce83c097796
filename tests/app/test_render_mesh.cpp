// normfield render-mesh: a PNG of the requested rows x views; bad input is a one-line error.
#include <gtest/gtest.h>

#include <fstream>

#include "datasets/image_io.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace fs = std::filesystem;

namespace {
void write_tetra(const fs::path& p, double s) {
  std::ofstream o(p);
  o << "v 0 0 0\nv " << s << " 0 0\nv 0 " << s << " 0\nv 0 0 " << s << "\nf 1 3 2\nf 1 2 4\nf 1 4 3\nf 2 3 4\n";
}
}  // namespace

TEST(RenderMeshCli, WritesRowsTimesViews) {
  if (!nf_test::have_cli()) GTEST_SKIP() << "normfield not built";
  const fs::path dir = nf_test::scratch("cli_render_mesh");
  write_tetra(dir / "a.obj", 1.0);
  write_tetra(dir / "b.obj", 0.5);
  const auto r = nf_test::run_cli("render-mesh --mesh " + (dir / "a.obj").string() + " --mesh " + (dir / "b.obj").string() +
                                  " --views 3 --size 40x30 --out " + (dir / "p.png").string());
  if (r.output.find("without Embree") != std::string::npos) GTEST_SKIP() << r.output;
  ASSERT_EQ(r.code, 0) << r.output;
  const nf::Image img = nf::load_image(dir / "p.png");
  ASSERT_EQ(img.pixels.size(0), 2 * 30 + 4);
  ASSERT_EQ(img.pixels.size(1), 3 * 40 + 2 * 4);
  // Both rows show something (grey on white), framed by the first mesh: the half-size row covers less.
  const at::Tensor grey = img.pixels.select(2, 0) < 0.99;
  const int64_t top = grey.slice(0, 0, 30).sum().item<int64_t>(), bottom = grey.slice(0, 34, 64).sum().item<int64_t>();
  EXPECT_GT(top, 50);
  EXPECT_GT(bottom, 10);
  EXPECT_LT(bottom, top);
}

TEST(RenderMeshCli, BadInputGivesOneLineErrors) {
  if (!nf_test::have_cli()) GTEST_SKIP() << "normfield not built";
  const fs::path dir = nf_test::scratch("cli_render_mesh_bad");
  write_tetra(dir / "a.obj", 1.0);
  const std::string a = (dir / "a.obj").string(), out = (dir / "p.png").string();
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("render-mesh --mesh " + (dir / "none.ply").string() + " --out " + out), "none.ply"));
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("render-mesh --mesh " + a + " --out " + out + " --size 10"), "--size"));
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("render-mesh --mesh " + a + " --out " + out + " --up q"), "up"));
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("render-mesh --mesh " + a + " --out " + out + " --views 0"), "views"));
  std::ofstream(dir / "bad.obj") << "v 0 0 0\nf 1 2 3\n";
  EXPECT_TRUE(nf_test::is_one_line_error(nf_test::run_cli("render-mesh --mesh " + (dir / "bad.obj").string() + " --out " + out), "bad.obj"));
}
