// Issue 16 at the lowest library: config integers are not truncated, sizes are estimated before
// anything is allocated, and files are replaced atomically.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>

#include "fields/file_io.h"
#include "fields/config.h"
#include "fields/memory_check.h"
#include "fields/registry.h"
#include "support/test_data.h"

TEST(ConfigIntegers, FractionsNegativesAndOverflowAreErrors) {
  const auto j = nlohmann::json::parse(R"({"w": 16.7, "n": -3, "big": 1e30, "ok": 16.0, "i": 12})");
  EXPECT_THROW(nf::cfg_get<int64_t>(j, "w", 0, "cfg"), nf::ConfigError);
  EXPECT_THROW(nf::cfg_get<uint64_t>(j, "n", 0, "cfg"), nf::ConfigError);
  EXPECT_THROW(nf::cfg_get<int64_t>(j, "big", 0, "cfg"), nf::ConfigError);
  EXPECT_EQ(nf::cfg_get<int64_t>(j, "ok", 0, "cfg"), 16);
  EXPECT_EQ(nf::cfg_get<int64_t>(j, "n", 0, "cfg"), -3);
  EXPECT_EQ(nf::cfg_get<int>(j, "i", 0, "cfg"), 12);
  EXPECT_DOUBLE_EQ(nf::cfg_get<double>(j, "w", 0, "cfg"), 16.7);
  try {
    nf::make_field(nlohmann::json::parse(
        R"({"type": "mlp", "in_dim": 2, "out_dim": 3, "hidden_layers": 2, "width": 16.7})"));
    FAIL();
  } catch (const nf::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("key 'width' must be an integer (got 16.7)"), std::string::npos) << e.what();
  }
}

TEST(MemoryCheck, RefusesAbsurdFieldsWithTheNumber) {
  const auto small = nf::method_config("pe+cn", 2, 3, 10, 28);
  EXPECT_NO_THROW(nf::check_field_size(small, 768 * 512, "field"));
  try {
    nf::check_field_size(nf::method_config("relu", 2, 3, 2, 1000000000), 1000, "field");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("needs about"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("more than this machine's"), std::string::npos) << e.what();
  }
  EXPECT_THROW(nf::check_field_size(nf::method_config("relu", 2, 3, 1000000, 1), 1, "field"), std::runtime_error);
  // Activations count too: a modest net on 1e12 points per step does not fit.
  EXPECT_THROW(nf::check_field_size(small, 1e12, "field"), std::runtime_error);
  EXPECT_GT(nf::machine_memory_bytes(), 1e8);
}

TEST(AtomicFile, ReplacesWholeFilesAndLeavesNoTemporary) {
  const auto dir = nf_test::scratch("atomic");
  const auto p = dir / "sub" / "x.json";
  nf::write_file_atomic(p, "one\n");
  nf::write_file_atomic(p, "two\n");
  std::ifstream in(p);
  std::string s;
  std::getline(in, s);
  EXPECT_EQ(s, "two");
  EXPECT_FALSE(std::filesystem::exists(p.string() + ".tmp"));
  // A folder where the file should go: one line naming the path, nothing half-written.
  std::filesystem::create_directories(dir / "isdir");
  try {
    nf::write_file_atomic(dir / "isdir", "x");
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find((dir / "isdir").string()), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists((dir / "isdir").string() + ".tmp"));
}
