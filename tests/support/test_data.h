#pragma once
// Where real-data tests find ../shared/data: $NORMFIELD_DATA, else the default next to the repo.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace nf_test {
// NF_DATA_DEFAULT and NF_BINARY_DIR are set by ctest (tests/CMakeLists.txt); running a test binary
// by hand falls back to ../shared/data and ./ relative to the working directory.
inline std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}
inline std::filesystem::path data_dir() {
  return env_or("NORMFIELD_DATA", env_or("NF_DATA_DEFAULT", "../shared/data").c_str());
}
inline std::filesystem::path binary_dir() { return env_or("NF_BINARY_DIR", "."); }
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
