// The Table 6-style NeRF table: scene names, means and sample deviations over seeds, the CN − none
// rows, the paper's rows averaged over the scenes that were run, protocol filtering, the CSV.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "support/test_data.h"
#include "report/nerf_table.h"

namespace {

nlohmann::json record(const std::string& scene, const std::string& config, const std::string& norm, int seed,
                      double psnr, double ssim, const std::string& protocol = "p1") {
  return {{"key", scene + config + std::to_string(seed) + protocol},
          {"protocol", protocol},
          {"scene", scene},
          {"config", config},
          {"norm", norm},
          {"resolution", "100x100"},
          {"seed", seed},
          {"psnr", psnr},
          {"ssim", ssim},
          {"ms_per_iter", 200.0},
          {"seconds", 120.0},
          {"eval_seconds", 10.0},
          {"curve", {{1, psnr - 5}, {2, psnr}}}};
}

nlohmann::json paper() {
  return {{"methods", {"B", "A"}},  // the paper's row order, not JSON's sorted keys
          {"scenes", {"chair", "lego"}},
          {"psnr", {{"A", {{"chair", 30.0}, {"lego", 34.0}, {"avg", 32.0}}}, {"B", {{"chair", 31.0}, {"lego", 35.0}, {"avg", 33.0}}}}},
          {"norm_rows", {{"none", "A"}, {"cn", "B"}}}};
}

std::string line_with(const std::string& text, const std::string& needle, size_t from = 0) {
  const auto p = text.find(needle, from);
  if (p == std::string::npos) return "";
  const auto b = text.rfind('\n', p), e = text.find('\n', p);
  return text.substr(b == std::string::npos ? 0 : b + 1, e - (b == std::string::npos ? 0 : b + 1));
}

}  // namespace

TEST(NerfTable, CanonicalSceneNames) {
  EXPECT_EQ(nf::canonical_scene("/data/nerf_synthetic/lego_100"), "lego");
  EXPECT_EQ(nf::canonical_scene("/data/nerf_synthetic/Lego_200/"), "lego");
  EXPECT_EQ(nf::canonical_scene("ship"), "ship");
  EXPECT_EQ(nf::canonical_scene("my_scene_v2"), "my_scene_v2");  // only a numeric suffix is a resolution
  EXPECT_EQ(nf::canonical_scene("drums_"), "drums_");
}

TEST(NerfTable, MeansDeviationsDeltasAndPaperRows) {
  std::vector<nlohmann::json> recs{
      record("lego_100", "plain", "none", 0, 20.0, 0.80), record("lego_100", "plain", "none", 1, 21.0, 0.82),
      record("lego_100", "withcn", "cn", 0, 22.0, 0.85),  record("lego_100", "withcn", "cn", 1, 22.5, 0.86),
      record("lego_100", "plain", "none", 2, 99.0, 0.99, "other-protocol"),  // must be left out
      record("hotdog", "plain", "none", 0, 25.0, 0.90)};
  const auto out = nf_test::scratch("nerf_table");
  const auto md = nf::write_nerf_table(recs, paper(), "p1", out);

  // Columns: the paper's scenes in its order, then the extra scene.
  EXPECT_NE(md.find("| method | seeds | Chair | Lego | Hotdog | Avg (run) | Avg (paper) |"), std::string::npos) << md;
  // plain: lego mean of 20 and 21 with sample deviation 0.71; hotdog one seed; avg over both run scenes.
  const auto plain = line_with(md, "| ours: plain (100x100)");
  EXPECT_EQ(plain, "| ours: plain (100x100) | 2 | – | 20.50 ± 0.71 | 25.00 | 22.75 | – |") << md;
  const auto cn = line_with(md, "| ours: withcn (100x100)");
  EXPECT_EQ(cn, "| ours: withcn (100x100) | 2 | – | 22.25 ± 0.35 | – | 22.25 | – |") << md;
  EXPECT_EQ(md.find("99.00"), std::string::npos) << "a record of another protocol entered the table";
  // CN − none where both ran (lego: 22.25 − 20.50).
  EXPECT_NE(line_with(md, "CN − none").find("**+1.75**"), std::string::npos) << md;
  // Paper rows in the paper's order (B before A) and averaged over the run scenes they have (lego only).
  const auto pb = md.find("*paper: B*"), pa = md.find("*paper: A*");
  ASSERT_NE(pb, std::string::npos);
  ASSERT_NE(pa, std::string::npos);
  EXPECT_LT(pb, pa);
  EXPECT_EQ(line_with(md, "*paper: A*"), "| *paper: A* | | *30.00* | *34.00* | *–* | *34.00* | *32.00* |");
  EXPECT_NE(line_with(md, "*paper: B − A*").find("*+1.00*"), std::string::npos) << md;
  // SSIM section: the same rows with three decimals.
  const auto ssim_at = md.find("## SSIM");
  ASSERT_NE(ssim_at, std::string::npos);
  EXPECT_NE(line_with(md, "| ours: plain (100x100)", ssim_at).find("0.810 ± 0.014"), std::string::npos) << md;

  // Files: table.md equals the returned text; the CSV has one line per (row, scene) plus its header.
  std::ifstream in(out / "table.md");
  std::stringstream buf;
  buf << in.rdbuf();
  EXPECT_EQ(buf.str(), md);
  std::ifstream csv(out / "table.csv");
  std::string l;
  int lines = 0;
  bool paper_col = false;
  while (std::getline(csv, l)) {
    ++lines;
    if (l.rfind("withcn,100x100,cn,lego,2,", 0) == 0) paper_col = l.find(",B,35,") != std::string::npos;
  }
  EXPECT_EQ(lines, 1 + 3);
  EXPECT_TRUE(paper_col) << "CN rows compare with the paper's CN row";
  EXPECT_TRUE(std::filesystem::exists(out / "curves_lego_100x100.dat"));
}

TEST(NerfTable, WithoutPaperNumbers) {
  const auto out = nf_test::scratch("nerf_table_nopaper");
  const auto md = nf::write_nerf_table({record("lego_100", "plain", "none", 0, 20.0, 0.8)}, nlohmann::json(), "p1", out);
  EXPECT_EQ(md.find("paper:"), std::string::npos);
  EXPECT_NE(md.find("| ours: plain (100x100) | 1 | 20.00 | 20.00 | – |"), std::string::npos) << md;
}
