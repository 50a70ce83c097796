// Issue 16: regression tests for faults in the field config path found while fuzzing it
// (fuzz/harness_config.h; docs/reliability.md).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "fields/config.h"
#include "fields/memory_check.h"
#include "fields/registry.h"

// "hidden_layers": 1e300 was printed through a cast to long long: undefined behaviour (UBSan:
// "1e+300 is outside the range of representable values of type 'long long'").
TEST(FuzzFindings, HugeLayerCountIsPrintedWithoutOverflow) {
  for (const auto& [cfg, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"type": "mlp", "hidden_layers": 1e300, "width": 8, "in_dim": 2, "out_dim": 1})", "hidden_layers 1e+300 is more than 1000 layers"},
           {R"({"type": "mlp", "depth": 99999999999, "width": 8})", "depth 99999999999 is more than 1000 layers"}}) {
    try {
      nf::check_field_size(nlohmann::json::parse(cfg), 16, "cfg.json: field");
      ADD_FAILURE() << "accepted " << cfg;
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "cfg.json: field: " + needle);
    }
  }
}

// A number beyond double ("1e99999") threw nlohmann's out_of_range, not a one-line error naming
// the file (fuzz_config, fuzz/corpus/config/crash-number-overflow.json).
TEST(FuzzFindings, JsonNumberOverflowIsMalformedJsonNamingTheFile) {
  try {
    (void)nf::parse_json(R"({"width": 1e99999})", "cfg.json");
    ADD_FAILURE() << "accepted 1e99999";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind("cfg.json: malformed JSON: number overflow parsing '1e99999'", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// A config string with a newline (a JSON "\n" in a norm name, a type, a key) was quoted into the
// error, which became two lines (fuzz_config, fuzz/corpus/config/crash-newline-in-norm-name.json).
// ConfigError keeps every message on one line.
TEST(FuzzFindings, ConfigStringsWithNewlinesStayOneLine) {
  for (const auto& [cfg, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"type": "mlp", "in_dim": 2, "out_dim": 1, "hidden_layers": 1, "width": 8, "norm": "b\nn"})", "unknown norm 'b?n'"},
           {R"({"type": "ml\np"})", "unknown type 'ml?p'"},
           {R"({"type": "mlp", "wid\nth": 8})", "unknown key 'wid?th'"}}) {
    try {
      (void)nf::make_field(nf::parse_json(cfg, "cfg.json"));
      ADD_FAILURE() << "accepted " << cfg;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(needle), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  EXPECT_EQ(std::string(nf::ConfigError("a\nb\tc").what()), "a?b?c");
}
