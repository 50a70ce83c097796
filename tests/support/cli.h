#pragma once
// Running the normfield executable from a test: exit code and stdout + stderr together.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "support/test_data.h"

namespace nf_test {

struct CliRun {
  int code;
  std::string output;
};

// <build>/normfield (binary_dir() is the build tree: the parent of the tests' folder).
inline std::filesystem::path normfield_exe() { return binary_dir() / "normfield"; }
inline bool have_cli() { return std::filesystem::exists(normfield_exe()); }

// Any shell command line: exit code and stdout + stderr together.
inline CliRun run_shell(const std::string& cmd) {
  CliRun r{0, ""};
  FILE* p = popen((cmd + " 2>&1").c_str(), "r");
  if (!p) return {-1, "popen failed"};
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), p)) r.output += buf.data();
  const int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

inline CliRun run_cli(const std::string& args) { return run_shell(normfield_exe().string() + " " + args); }

// Exit code 1 and a single "normfield: error: ..." line that contains needle.
inline ::testing::AssertionResult is_one_line_error(const CliRun& r, const std::string& needle) {
  if (r.code != 1) return ::testing::AssertionFailure() << "exit code " << r.code << ":\n" << r.output;
  if (r.output.find("normfield: error: ") == std::string::npos || r.output.find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "no 'normfield: error: ...' naming '" << needle << "':\n" << r.output;
  if (std::count(r.output.begin(), r.output.end(), '\n') > 1)
    return ::testing::AssertionFailure() << "more than one line:\n" << r.output;
  return ::testing::AssertionSuccess();
}

inline std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace nf_test
