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
#include "support/errors.h"
#include "support/shipped_data.h"
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
// The message of the std::runtime_error load_field(path) throws ("(no error)").
std::string runtime_error_of(const std::string& path) {
  return nf_test::runtime_error_of([&] { (void)nf::load_field(path); });
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

// A flipped byte inside an entry of the archive made LibTorch's TorchScript importer segfault
// (fuzz_checkpoint, fuzz/corpus/checkpoint/crash-torchscript-segv-bad-crc.pt): the CRC of every
// entry is checked first.
TEST(FuzzFindings, CheckpointWithACorruptEntryIsRefusedBeforeLibTorchReadsIt) {
  const auto path = (nf_test::scratch("fz_ckpt_crc") / "c.pt").string();
  {
    torch::serialize::OutputArchive root;
    root.write("format", c10::IValue(std::string("normfield-checkpoint-1")));
    root.write("meta", c10::IValue(std::string("{}")));
    root.write("w", at::full({64}, 3.0f));
    root.save_to(path);
  }
  std::string bytes = nf_test::slurp(path);
  const std::string three(std::string("\x00\x00\x40\x40\x00\x00\x40\x40", 8));
  const size_t at = bytes.find(three);
  ASSERT_NE(at, std::string::npos);
  bytes[at + 2] = '\x41';
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  try {
    (void)nf::read_checkpoint_meta(path);
    ADD_FAILURE() << "read a corrupt checkpoint";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": not a normfield checkpoint or corrupt (entry ", 0), 0u) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}

// An entry declaring more bytes than it holds made LibTorch allocate the declared size (a deflated
// entry declaring 3.7 GB: an OOM; fuzz_checkpoint). The declared size of every entry is checked
// against what it holds first. (A stored entry with a wrong size is caught by libzip's consistency
// check; LibTorch writes stored entries, so the reproducer is the fuzzer's file.)
TEST(FuzzFindings, CheckpointEntryDeclaringMoreThanItHoldsIsRefused) {
  const auto src = nf_test::shipped_data().parent_path().parent_path() / "fuzz" / "corpus" / "checkpoint" /
                   "crash-deflated-entry-declares-3.7GB.pt";
  const auto path = (nf_test::scratch("fz_ckpt_size") / "s.pt").string();
  std::ofstream(path, std::ios::binary | std::ios::trunc) << nf_test::slurp(src);
  try {
    (void)nf::read_checkpoint_meta(path);
    ADD_FAILURE() << "read a checkpoint whose entry declares 3.7 GB";
  } catch (const std::runtime_error& e) {
    const std::string msg = e.what();
    EXPECT_EQ(msg.rfind(path + ": not a normfield checkpoint or corrupt (entry 26: declares 3690987769 bytes, holds 249)", 0), 0u)
        << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
  }
}
