// Sweep tables (batch-eval): paper keys of input files, averaging over inputs and seeds, the paper's
// cells, the average row of per-input tables, protocol filtering.
#include <gtest/gtest.h>

#include "support/cli.h"
#include "support/test_data.h"
#include "report/sweep_table.h"

namespace {
nlohmann::json rec(const std::string& input, const std::string& arch, const std::string& method, int seed,
                   double value, const std::string& metric, const std::string& protocol = "p") {
  return {{"key", input + arch + method + std::to_string(seed) + protocol},
          {"protocol", protocol}, {"input", input}, {"arch", arch}, {"method", method}, {"seed", seed}, {metric, value}};
}
}  // namespace

TEST(SweepTable, PaperInputKeyIsTheLongestPrefix) {
  const nlohmann::json paper{{"inputs", {{"dragon", "Dragon"}, {"asian_dragon", "Asian Dragon"}, {"happy_buddha", "Buddha"}}}};
  EXPECT_EQ(nf::paper_input_key(paper, "asian_dragon_14k"), "asian_dragon");
  EXPECT_EQ(nf::paper_input_key(paper, "Dragon_10k"), "dragon");
  EXPECT_EQ(nf::paper_input_key(paper, "happy_buddha_10k"), "happy_buddha");
  EXPECT_EQ(nf::paper_input_key(paper, "teapot"), "");
}

TEST(SweepTable, ArchRowsAverageInputsAndSeeds) {
  const nlohmann::json paper{{"rows_by", "arch"}, {"psnr", {{"2x128", {{"relu", 26.31}, {"relu+cn", 28.72}}}}}};
  std::vector<nlohmann::json> r{rec("a", "2x128", "relu", 0, 20.0, "psnr"), rec("b", "2x128", "relu", 0, 22.0, "psnr"),
                                rec("a", "2x128", "relu", 1, 24.0, "psnr"), rec("a", "2x128", "relu+cn", 0, 30.0, "psnr"),
                                rec("a", "2x128", "relu+cn", 0, 90.0, "psnr", "other")};
  const auto md = nf::write_sweep_table(r, paper, {"relu", "relu+cn"}, {"psnr"}, "CT", "p", nf_test::scratch("sweep_arch"));
  EXPECT_NE(md.find("| 2x128 | 3 | 22.00 / 26.31 | 30.00 / 28.72 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("90.00"), std::string::npos) << md;
}

TEST(SweepTable, InputRowsWithAverageRow) {
  const nlohmann::json paper{{"rows_by", "input"},
                             {"inputs", {{"bunny", "Bunny"}, {"lucy", "Lucy"}}},
                             {"iou", {{"bunny", {{"relu", 0.991}}}, {"lucy", {{"relu", 0.924}}}}}};
  std::vector<nlohmann::json> r{rec("bunny_3k", "2x256", "relu", 0, 0.90, "iou"), rec("lucy_50k", "2x256", "relu", 0, 0.80, "iou"),
                                rec("teapot", "2x256", "relu", 0, 0.70, "iou")};
  const auto out = nf_test::scratch("sweep_input");
  const auto md = nf::write_sweep_table(r, paper, {"relu"}, {"iou"}, "Occupancy", "p", out);
  EXPECT_NE(md.find("| Bunny (bunny_3k) | 1 | 0.900 / 0.991 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| teapot | 1 | 0.700 / – |"), std::string::npos) << md;
  // Average of ours over the 3 inputs; no paper average since teapot has no paper value.
  EXPECT_NE(md.find("| **average (3 run)** | | **0.800** / – |"), std::string::npos) << md;
  EXPECT_EQ(nf_test::slurp(out / "table.md"), md);
  r.pop_back();
  const auto md2 = nf::write_sweep_table(r, paper, {"relu"}, {"iou"}, "Occupancy", "p", out);
  EXPECT_NE(md2.find("| **average (2 run)** | | **0.850** / 0.958 |"), std::string::npos) << md2;
}
