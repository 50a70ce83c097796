// Issue 16: regression tests for faults in the checkpoint reader found while fuzzing it
// (fuzz/harness_checkpoint.h; docs/reliability.md). The metadata of a checkpoint is JSON inside
// the archive: a wrong type there threw nlohmann's type_error (not a one-line error naming the file).
#include <gtest/gtest.h>
#include <torch/serialize.h>
#include <torch/serialize/archive.h>

#include <fstream>
#include <string>
#include <tuple>
#include <vector>

#include "support/cli.h"
#include "support/test_data.h"
#include "tasks/checkpoint.h"

namespace {
std::string checkpoint_with_meta(const std::string& name, const std::string& meta) {
  const auto path = (nf_test::scratch("fz_ckpt") / name).string();
  torch::serialize::OutputArchive root;
  root.write("format", c10::IValue(std::string("normfield-checkpoint-1")));
  root.write("meta", c10::IValue(meta));
  root.save_to(path);
  return path;
}
std::string runtime_error_of(const std::string& path) {
  try {
    (void)nf::load_field(path);
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a std::runtime_error: " << e.what();
    return e.what();
  }
  return "(no error)";
}
}  // namespace

TEST(FuzzFindings, CheckpointMetaOfTheWrongTypeIsAOneLineError) {
  for (const auto& [name, meta, needle] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"array.pt", "[1, 2]", ": meta: expected a JSON object"},
           {"step_text.pt", R"({"step": "x", "field": {}})", ": meta: key 'step' must be a whole number >= 0 (got \"x\")"},
           {"step_neg.pt", R"({"step": -5, "field": {}})", ": meta: key 'step' must be a whole number >= 0 (got -5)"},
       }) {
    const auto path = checkpoint_with_meta(name, meta);
    const std::string msg = runtime_error_of(path);
    EXPECT_NE(msg.find(path + needle), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}
