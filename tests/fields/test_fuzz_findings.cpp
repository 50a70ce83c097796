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
