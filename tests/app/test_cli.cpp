// The normfield CLI: bad inputs give one clear error line (naming the file / field) and exit 1;
// a short fit-image run writes the promised outputs.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "support/cli.h"
#include "support/test_data.h"

namespace {
using Run = nf_test::CliRun;
Run run(const std::string& args) { return nf_test::run_cli(args); }
void expect_error(const Run& r, const std::string& needle) { EXPECT_TRUE(nf_test::is_one_line_error(r, needle)); }
}  // namespace

TEST(Cli, HelpListsSubcommands) {
  auto r = run("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("fit-image"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("demo"), std::string::npos) << r.output;
  EXPECT_EQ(run("fit-image --help").code, 0);
}

TEST(Cli, MissingImageFile) { expect_error(run("fit-image --image /nonexistent/x.png --quiet"), "/nonexistent/x.png"); }

TEST(Cli, CorruptPng) {
  auto dir = nf_test::scratch("cli_corrupt");
  std::ofstream(dir / "bad.png") << "this is not a png";
  expect_error(run("fit-image --image " + (dir / "bad.png").string() + " --quiet"), "bad.png");
}

TEST(Cli, UnknownMethod) {
  auto dir = nf_test::scratch("cli_method");
  expect_error(run("demo --methods relu+xn --iters 1 --size 16 --quiet --out " + dir.string()), "relu+xn");
}

TEST(Cli, MalformedJsonConfig) {
  auto dir = nf_test::scratch("cli_json");
  std::ofstream(dir / "bad.json") << "{\"method\": ";
  std::ofstream(dir / "img.ppm") << "";
  expect_error(run("fit-image --image x.png --config " + (dir / "bad.json").string() + " --quiet"), "bad.json");
}

TEST(Cli, DemoWritesComparisonAndTable) {
  auto dir = nf_test::scratch("cli_demo");
  auto r = run("demo --size 24 --iters 5 --arch 2x16 --quiet --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(dir / "comparison.png"));
  EXPECT_TRUE(std::filesystem::exists(dir / "results.json"));
  EXPECT_TRUE(std::filesystem::exists(dir / "relu+cn" / "checkpoint.pt"));
  EXPECT_NE(r.output.find("| pe+cn |"), std::string::npos) << r.output;
  // Says where it wrote (last lines) and that the table is the final evaluation, not the last step.
  EXPECT_NE(r.output.find("wrote " + dir.string() + "/comparison.png (left to right: ground truth, relu, relu+cn"),
            std::string::npos) << r.output;
  EXPECT_NE(r.output.find(dir.string() + "/results.md"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("| final PSNR (dB) |"), std::string::npos) << r.output;
  EXPECT_NE(nf_test::slurp(dir / "results.md").find("Final evaluation after the last step"), std::string::npos);
}

// batch-eval: a fit-ct sweep (2 methods x 2 archs, tiny protocol) makes the Table 4 layout with the
// paper's numbers, a rerun trains nothing, and bad sweeps fail before training with one line.
TEST(BatchEval, CtSweepTableResumeAndErrors) {
  const auto out = nf_test::scratch("batch_eval_ct");
  const std::string args = "batch-eval --command fit-ct --inputs shepp_logan --methods relu,pe+cn --archs 2x128,4x256"
                           " --args \"--iters 3 --size 16 --angles 8 --quiet\" --out " + out.string();
  auto r = run(args);
  ASSERT_EQ(r.code, 0) << r.output;
  const auto md = nf_test::slurp(out / "table.md");
  // Rows are architectures, columns methods, cells "ours / paper" (Table 4: relu 2x128 26.31, pe+cn 4x256 0.939).
  EXPECT_NE(md.find("| arch | n | relu | pe+cn |"), std::string::npos) << md;
  EXPECT_NE(md.find(" / 26.31 |"), std::string::npos) << md;
  EXPECT_NE(md.find(" / 0.939 |"), std::string::npos) << md;
  EXPECT_TRUE(std::filesystem::exists(out / "runs/shepp_logan/4x256/pe+cn_s0/results.json"));
  int lines = 0;
  {
    std::ifstream in(out / "results.jsonl");
    for (std::string l; std::getline(in, l);) lines += !l.empty();
  }
  EXPECT_EQ(lines, 4);
  auto again = run(args);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("4 already in"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("outputs in"), std::string::npos) << "a finished run was trained again";

  expect_error(run("batch-eval --command fit-nope --inputs x --out " + out.string()), "fit-nope");
  expect_error(run("batch-eval --command fit-ct --inputs shepp_logan --methods relu+xn --out " + out.string()), "relu+xn");
  expect_error(run("batch-eval --command fit-ct --inputs shepp_logan --args \"--method pe\" --out " + out.string()),
               "--method");
  expect_error(run("batch-eval --command fit-ct --inputs shepp_logan --args \"--out=/tmp/x\" --out " + out.string()),
               "--out=/tmp/x");
  // A run that fails (missing input) stops the sweep, naming the run; the store keeps what was done.
  auto bad = run("batch-eval --command fit-ct --inputs /nonexistent/slice.png --args \"--iters 1 --quiet\" --out " +
                 out.string());
  EXPECT_EQ(bad.code, 1) << bad.output;
  EXPECT_NE(bad.output.find("/nonexistent/slice.png"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("normfield: error: batch-eval: run relu"), std::string::npos) << bad.output;
}

// --help shows the values that will be used: the task's protocol, and a config's values.
TEST(Cli, HelpShowsTheDefaultsThatApply) {
  auto r = run("nerf train --help");
  EXPECT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("600 (from mipnerf_small)"), std::string::npos) << r.output;   // --iters
  EXPECT_NE(r.output.find("0.005 (from mipnerf_small)"), std::string::npos) << r.output;  // --lr
  EXPECT_NE(r.output.find("exponential (from mipnerf_small)"), std::string::npos) << r.output;
  r = run("fit-ct --help");
  EXPECT_NE(r.output.find("20000"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("0.005"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("2x128"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("(from "), std::string::npos) << r.output;  // no config given
}
