// The normfield CLI: bad inputs give one clear error line (naming the file / field) and exit 1;
// a short fit-image run writes the promised outputs.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <fstream>

#include "support/test_data.h"

namespace {
struct Run {
  int code;
  std::string output;
};
Run run(const std::string& args) {
  const std::string cmd = (nf_test::binary_dir() / "normfield").string() + " " + args + " 2>&1";
  Run r{0, ""};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}
void expect_error(const Run& r, const std::string& needle) {
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("normfield: error: "), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
  // One line, no backtrace.
  EXPECT_LE(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}
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
}
