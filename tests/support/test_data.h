#pragma once
// Where real-data tests find ../shared/data: $NORMFIELD_DATA, else the default next to the repo.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace nf_test {
// The build tree is the parent of the test executables' folder (build/tests/<exe>); the default data
// folder is written there by tests/CMakeLists.txt (test-data-dir.txt), next to the source tree.
inline std::filesystem::path binary_dir() {
  std::error_code ec;
  auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(".") : exe.parent_path().parent_path();
}
inline std::filesystem::path data_dir() {
  if (const char* env = std::getenv("NORMFIELD_DATA"); env && *env) return env;
  std::ifstream in(binary_dir() / "test-data-dir.txt");
  std::string p;
  if (in && std::getline(in, p) && !p.empty()) return p;
  return "../shared/data";
}
// A fresh, empty scratch folder under the build tree for a test's outputs. Each call gets a new
// folder (name-pid-counter) instead of deleting an old one: std::filesystem::remove_all crashed
// when linked against the pip LibTorch 2.x on the GPU machine.
inline std::filesystem::path scratch(const std::string& name) {
  static int counter = 0;
  auto p = binary_dir() / "test-scratch" /
           (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(p);
  return p;
}
}  // namespace nf_test
