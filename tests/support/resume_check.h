#pragma once
// The resume check of the scene tasks (NeRF, NeuS): a run interrupted after half its steps and
// resumed from its checkpoint ends with the weights and last loss of the uninterrupted run, whatever
// the global RNG holds, and each step draws its own rays (the same ones in both runs).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

#include "support/test_data.h"
#include "tasks/trainer.h"

namespace nf_test {

// Task: a task type built as Task(options, c10::kCPU) with batch_indices(step). fresh(): a new field
// (the same seed every call); train_opts(iters, dir): the trainer options. `same_step` and
// `other_step` (< total) pick the batches compared. Call through ASSERT_NO_FATAL_FAILURE.
template <class Task, class Options>
void expect_resume_equals_uninterrupted(const Options& opts, const std::function<nf::Field()>& fresh,
                                        const std::function<nf::TrainOptions(int64_t, const std::filesystem::path&)>& train_opts,
                                        int64_t total, const std::string& name, int64_t same_step, int64_t other_step) {
  auto a = fresh();
  Task ta(opts, c10::kCPU);
  nf::Trainer tra(a, ta, train_opts(total, scratch(name + "_resume_a")));
  tra.run();
  auto dir = scratch(name + "_resume_b");
  {
    auto b = fresh();
    Task tb(opts, c10::kCPU);
    nf::Trainer trb(b, tb, train_opts(total / 2, dir));
    trb.run();
  }
  torch::manual_seed(999);  // the global RNG must not matter
  auto c = fresh();
  Task tc(opts, c10::kCPU);
  auto o = train_opts(total, dir);
  o.resume = true;
  nf::Trainer trc(c, tc, o);
  trc.run();
  EXPECT_EQ(trc.step(), total);
  auto pa = a->named_parameters(), pc = c->named_parameters();
  for (const auto& kv : pa) EXPECT_TRUE(at::equal(kv.value(), pc[kv.key()])) << kv.key();
  EXPECT_DOUBLE_EQ(tra.history().back().loss, trc.history().back().loss);
  // Different steps draw different rays; the same step draws the same ones.
  EXPECT_TRUE(at::equal(ta.batch_indices(same_step), tc.batch_indices(same_step)));
  EXPECT_FALSE(at::equal(ta.batch_indices(same_step), ta.batch_indices(other_step)));
}

}  // namespace nf_test
