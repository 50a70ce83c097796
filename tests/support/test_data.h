#pragma once
// Where real-data tests find ../shared/data: $NORMFIELD_DATA, else the default next to the repo.
#include <cstdlib>
#include <filesystem>
#include <string>

#include <unistd.h>

namespace nf_test {
inline std::filesystem::path data_dir() {
  const char* env = std::getenv("NORMFIELD_DATA");
  return std::filesystem::path(env && *env ? env : NF_DATA_DEFAULT);
}
// A fresh, empty scratch folder under the build tree for a test's outputs. Each call gets a new
// folder (name-pid-counter) instead of deleting an old one: std::filesystem::remove_all crashed
// when linked against the pip LibTorch 2.x on the GPU machine.
inline std::filesystem::path scratch(const std::string& name) {
  static int counter = 0;
  auto p = std::filesystem::path(NF_BINARY_DIR) / "test-scratch" /
           (name + "-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
  std::filesystem::create_directories(p);
  return p;
}
}  // namespace nf_test
