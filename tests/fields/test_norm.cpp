// Normalization layers: the reference test vector, equality with torch's BN/LN, gradients, and the
// frozen (chunk-invariant) inference mode.
#include <c10/core/GradMode.h>
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/serialize.h>

#include <cmath>
#include <sstream>

#include "fields/norm.h"
#include "fields/norm_reference.h"
#include "support/gradcheck.h"

using nf::Norm;
using nf::NormKind;
using nf::NormMode;
using nf::NormOptions;

namespace {
// H[t][i] = (3t + i)^1.5, T = 4, C = 3 (docs/normalization.md)
at::Tensor design_vector() {
  auto H = at::empty({4, 3}, at::kDouble);
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 3; ++i) H[t][i] = std::pow(3.0 * t + i, 1.5);
  return H;
}
at::Tensor to_tensor(std::vector<double> v) { return at::tensor(v, at::kDouble).view({4, 3}); }

Norm make(NormKind k, int64_t C) {
  Norm n(NormOptions(k, C));
  n->to(at::kDouble);
  return n;
}
}  // namespace

TEST(NormReference, CrossNormMatchesDesignVector) {
  auto expect = to_tensor({-0.606337, -0.585497, -0.528994, -0.346759, -0.204021, -0.077193, 0.169449,
                           0.340631, 0.491566, 0.827426, 0.996543, 1.150666});
  auto out = make(NormKind::Cross, 3)->forward(design_vector());
  EXPECT_LT((out - expect).abs().max().item<double>(), 1e-5) << out;
}

TEST(NormReference, GlobalNormMatchesDesignVector) {
  auto expect = to_tensor({-1.207602, -1.126715, -0.978821, -0.787304, -0.56051, -0.303264, -0.018819,
                           0.290436, 0.622649, 0.976332, 1.350252, 1.743367});
  auto out = make(NormKind::Global, 3)->forward(design_vector());
  EXPECT_LT((out - expect).abs().max().item<double>(), 1e-5) << out;
}

TEST(NormReference, BatchNormEqualsTorchBatchNorm) {
  auto x = at::randn({37, 11}, at::kDouble) * 3 + 1;
  auto n = make(NormKind::Batch, 11);
  {
    c10::NoGradGuard ng;
    n->weight.uniform_(0.5, 2);
    n->bias.uniform_(-1, 1);
  }
  auto expect = at::batch_norm(x, n->weight, n->bias, {}, {}, /*training=*/true, 0.1, 1e-5, false);
  EXPECT_LT((n->forward(x) - expect).abs().max().item<double>(), 1e-10);
}

TEST(NormReference, LayerNormEqualsTorchLayerNorm) {
  auto x = at::randn({19, 7}, at::kDouble) * 2 - 1;
  auto n = make(NormKind::Layer, 7);
  {
    c10::NoGradGuard ng;
    n->weight.uniform_(0.5, 2);
    n->bias.uniform_(-1, 1);
  }
  auto expect = at::layer_norm(x, {7}, n->weight, n->bias, 1e-5, false);
  EXPECT_LT((n->forward(x) - expect).abs().max().item<double>(), 1e-10);
}

TEST(NormReference, CrossNormOfSingleColumnIsFinite) {
  // C = 1: the row variance is defined as 0 (denominator max(n-1,1)), not NaN.
  auto out = make(NormKind::Cross, 1)->forward(at::randn({8, 1}, at::kDouble));
  EXPECT_TRUE(at::isfinite(out).all().item<bool>());
}

class NormGradient : public ::testing::TestWithParam<NormKind> {};

TEST_P(NormGradient, MatchesFiniteDifferences) {
  const NormKind k = GetParam();
  auto n = make(k, 4);
  for (NormMode mode : {NormMode::Batch, NormMode::Frozen}) {
    if (mode == NormMode::Frozen) {
      n->begin_calibration();
      n->forward(at::randn({6, 4}, at::kDouble));
      n->end_calibration();
    }
    n->set_mode(mode);
    auto f = [&](const std::vector<at::Tensor>& in) {
      at::Tensor w = in[1], b = in[2];
      if (k == NormKind::Layer) return nf::ref::layer_norm(in[0], w, b, 1e-5);
      if (mode == NormMode::Frozen) {
        if (k == NormKind::Batch) return nf::ref::batch_norm_frozen(in[0], w, b, n->frozen_mean, n->frozen_var, 1e-5);
        if (k == NormKind::Global) return nf::ref::global_norm_frozen(in[0], w, b, n->frozen_mean, n->frozen_var, 1e-5);
        return nf::ref::cross_norm_frozen(in[0], w, b, n->frozen_mean, n->frozen_var, 6.0, 1e-5);
      }
      if (k == NormKind::Batch) return nf::ref::batch_norm(in[0], w, b, 1e-5);
      if (k == NormKind::Global) return nf::ref::global_norm(in[0], w, b, 1e-5);
      return nf::ref::cross_norm(in[0], w, b, 1e-5);
    };
    auto x = at::randn({5, 4}, at::kDouble);
    auto w = at::rand({4}, at::kDouble) + 0.5;
    auto b = at::randn({4}, at::kDouble);
    EXPECT_LT(nf_test::gradcheck_max_error(f, {x, w, b}), 1e-6) << nf::to_string(k) << " " << nf::to_string(mode);
    // The module's forward is the same function as the oracle used above.
    {
      c10::NoGradGuard ng;
      n->weight.copy_(w);
      n->bias.copy_(b);
    }
    EXPECT_LT((n->forward(x) - f({x, w, b})).abs().max().item<double>(), 1e-12);
  }
}

INSTANTIATE_TEST_SUITE_P(AllNorms, NormGradient,
                         ::testing::Values(NormKind::Batch, NormKind::Layer, NormKind::Global, NormKind::Cross),
                         [](const auto& info) { return nf::to_string(info.param); });

class NormFrozen : public ::testing::TestWithParam<NormKind> {};

TEST_P(NormFrozen, EqualsBatchModeOnCalibrationBatchAndIsChunkInvariant) {
  const NormKind k = GetParam();
  auto n = make(k, 9);
  auto calib = at::randn({64, 9}, at::kDouble) * 2 + 0.5;
  auto batch_out = n->forward(calib);
  n->begin_calibration();
  n->forward(calib);
  n->end_calibration();
  n->set_mode(NormMode::Frozen);
  auto frozen_out = n->forward(calib);
  EXPECT_LT((frozen_out - batch_out).abs().max().item<double>(), 1e-9);

  // Pooled calibration over chunks equals one pass over the whole batch.
  auto n2 = make(k, 9);
  n2->begin_calibration();
  for (int s = 0; s < 64; s += 10) n2->forward(calib.slice(0, s, std::min(64, s + 10)));
  n2->end_calibration();
  n2->set_mode(NormMode::Frozen);
  EXPECT_LT((n2->forward(calib) - batch_out).abs().max().item<double>(), 1e-9);

  // Any sample gives the same output whatever chunk it is evaluated in.
  auto x = at::randn({50, 9}, at::kDouble);
  auto whole = n->forward(x);
  for (int64_t chunk : {1, 7, 13, 50}) {
    std::vector<at::Tensor> parts;
    for (int64_t s = 0; s < 50; s += chunk) parts.push_back(n->forward(x.slice(0, s, std::min<int64_t>(50, s + chunk))));
    EXPECT_LT((at::cat(parts) - whole).abs().max().item<double>(), 1e-12) << "chunk " << chunk;
  }
  // ... while batch mode is not chunk invariant (for the batch-dependent norms).
  if (k != NormKind::Layer) {
    n->set_mode(NormMode::Batch);
    auto a = n->forward(x.slice(0, 0, 7));
    EXPECT_GT((a - whole.slice(0, 0, 7)).abs().max().item<double>(), 1e-3);
  }
}

// LN has no batch statistics (its frozen mode is its batch mode): not instantiated for it.
class NormRunningEstimate : public ::testing::TestWithParam<NormKind> {};

TEST_P(NormRunningEstimate, TracksTrainingBatches) {
  const NormKind k = GetParam();
  auto n = make(k, 5);
  n->train();
  auto x = at::randn({400, 5}, at::kDouble) * 3 + 2;
  for (int i = 0; i < 80; ++i) n->forward(x.index_select(0, at::randint(400, {200}, at::kLong)));
  n->set_mode(NormMode::Frozen);
  auto frozen = n->forward(x);
  n->set_mode(NormMode::Batch);
  auto batch = n->forward(x);
  // The EMA over random halves approaches the full-batch statistics.
  EXPECT_LT((frozen - batch).abs().mean().item<double>(), 0.1);
}

TEST_P(NormFrozen, StatisticsAreSavedWithTheModule) {
  const NormKind k = GetParam();
  auto n = make(k, 6);
  n->begin_calibration();
  n->forward(at::randn({30, 6}, at::kDouble) * 4);
  n->end_calibration();
  std::stringstream ss;
  torch::save(n, ss);
  auto m = make(k, 6);
  torch::load(m, ss);
  EXPECT_TRUE(at::equal(m->frozen_mean, n->frozen_mean));
  EXPECT_TRUE(at::equal(m->frozen_var, n->frozen_var));
  EXPECT_TRUE(at::equal(m->frozen_count, n->frozen_count));
}

TEST(NormFrozenErrors, FrozenWithoutStatisticsIsAnError) {
  auto n = make(NormKind::Cross, 4);
  n->set_mode(NormMode::Frozen);
  EXPECT_THROW(n->forward(at::randn({3, 4}, at::kDouble)), c10::Error);
}

INSTANTIATE_TEST_SUITE_P(AllNorms, NormFrozen,
                         ::testing::Values(NormKind::Batch, NormKind::Layer, NormKind::Global, NormKind::Cross),
                         [](const auto& info) { return nf::to_string(info.param); });
INSTANTIATE_TEST_SUITE_P(BatchStatNorms, NormRunningEstimate,
                         ::testing::Values(NormKind::Batch, NormKind::Global, NormKind::Cross),
                         [](const auto& info) { return nf::to_string(info.param); });
