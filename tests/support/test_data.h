#pragma once
// Where real-data tests find ../shared/data: $NORMFIELD_DATA, else the default next to the repo.
#include <cstdlib>
#include <filesystem>
#include <string>

namespace nf_test {
inline std::filesystem::path data_dir() {
  const char* env = std::getenv("NORMFIELD_DATA");
  return std::filesystem::path(env && *env ? env : NF_DATA_DEFAULT);
}
// A fresh scratch folder under the build tree for a test's outputs.
inline std::filesystem::path scratch(const std::string& name) {
  auto p = std::filesystem::path(NF_BINARY_DIR) / "test-scratch" / name;
  std::filesystem::remove_all(p);
  std::filesystem::create_directories(p);
  return p;
}
}  // namespace nf_test
