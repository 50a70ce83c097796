#pragma once
// The small real test data shipped in the repository (tests/data; sources and licences in
// tests/data/README.md). Always there: a test that needs it FAILs when it is missing, never skips.
// The full sets (NORMFIELD_DATA) are only for tests/fulldata (support/test_data.h: data_dir()).
#include <filesystem>
#include <fstream>
#include <string>

#include "support/test_data.h"

namespace nf_test {
// tests/data in the source tree, written into the build tree by tests/CMakeLists.txt.
inline std::filesystem::path shipped_data() {
  std::ifstream in(binary_dir() / "test-shipped-data.txt");
  std::string p;
  if (in && std::getline(in, p) && !p.empty()) return p;
  return "tests/data";
}
}  // namespace nf_test
