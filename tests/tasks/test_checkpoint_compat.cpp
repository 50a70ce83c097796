// Checkpoints written before the fields moved to Options + Impl + TORCH_MODULE and JSON <-> Options
// key tables (issue 14) still load, bit-exactly: tests/data/checkpoints/*.pt were written by the
// code of main at dd01698 (scripts/make_test_checkpoints.cpp), next to each loaded field's
// forward output on a fixed input, computed by that code.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <string>

#include "datasets/npy.h"
#include "support/shipped_data.h"
#include "tasks/checkpoint.h"

namespace {

void expect_same_output(const std::string& name) {
  const auto dir = nf_test::shipped_data() / "checkpoints";
  nf::CheckpointMeta meta;
  auto f = nf::load_field(dir / (name + "_2x8.pt"), &meta);
  EXPECT_EQ(meta.step, 1);
  EXPECT_EQ(f->config(), meta.field_config);  // the stored config is the one today's code writes
  f->eval();
  const auto grid = at::linspace(-1, 1, 16).view({8, 2});
  at::Tensor y;
  {
    at::NoGradGuard no_grad;
    y = f->forward(grid);
  }
  const auto expected = nf::load_npy(dir / (name + "_2x8_out.npy"));
  ASSERT_EQ(y.sizes(), expected.sizes());
  EXPECT_TRUE(at::equal(y, expected)) << name << ": max |diff| " << (y - expected).abs().max().item<double>();
}

}  // namespace

TEST(CheckpointCompat, RffCnCheckpointOfOlderCodeLoadsBitExactly) { expect_same_output("rff_cn"); }
TEST(CheckpointCompat, WireCheckpointOfOlderCodeLoadsBitExactly) { expect_same_output("wire"); }
