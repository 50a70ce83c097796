// Fused CN/GN/BN/LN (fields/norm_fused.h) against the reference formulas (fields/norm_reference.h):
// forward and backward on odd shapes in float and double, batch and frozen mode; finite
// differences of the hand-written backward; double backward; CUDA == CPU; the Norm module and the
// MLP config with fused on and off. CN also with its fused ReLU (== at::relu of the reference).
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/cuda.h>

#include <cmath>
#include <string>
#include <vector>

#include "fields/config.h"
#include "fields/mlp.h"
#include "fields/norm.h"
#include "fields/norm_fused.h"
#include "fields/norm_reference.h"
#include "fields/registry.h"
#include "support/gradcheck.h"

using nf::NormKind;
using nf::NormMode;

namespace {

// max |a - b| / max(1, max |b|): absolute for O(1) values, relative for large sums (dweight).
double scaled_err(const at::Tensor& a, const at::Tensor& b) {
  if (!a.defined() || !b.defined()) return a.defined() == b.defined() ? 0.0 : 1e30;
  auto bd = b.detach().to(at::kDouble).cpu();
  auto ad = a.detach().to(at::kDouble).cpu();
  if (bd.numel() == 0) return 0.0;
  const double scale = std::max(1.0, bd.abs().max().item<double>());
  return (ad - bd).abs().max().item<double>() / scale;
}

// One normalization call: kind (Cross/Global) and mode, with fixed frozen statistics.
struct Case {
  NormKind kind;
  NormMode mode;
  at::Tensor mean, var;  // frozen statistics (CN: [C]; GN: [1])
  double t_ref = 37.0;
  double eps = 1e-5;
  bool relu = false;  // CN only: max(0, CN(x)) fused into the kernels

  at::Tensor fused(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
    if (kind == NormKind::Cross && relu)
      return mode == NormMode::Batch ? nf::cross_norm_fused_stats(x, w, b, eps, true).y
                                     : nf::cross_norm_frozen_fused(x, w, b, mean, var, t_ref, eps, true);
    if (kind == NormKind::Batch)
      return mode == NormMode::Batch ? nf::batch_norm_fused(x, w, b, eps)
                                     : nf::batch_norm_frozen_fused(x, w, b, mean, var, eps);
    if (kind == NormKind::Layer) return nf::layer_norm_fused(x, w, b, eps);
    if (kind == NormKind::Cross)
      return mode == NormMode::Batch ? nf::cross_norm_fused(x, w, b, eps)
                                     : nf::cross_norm_frozen_fused(x, w, b, mean, var, t_ref, eps);
    return mode == NormMode::Batch ? nf::global_norm_fused(x, w, b, eps)
                                   : nf::global_norm_frozen_fused(x, w, b, mean, var, eps);
  }
  at::Tensor ref(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
    return relu ? at::relu(ref_pre(x, w, b)) : ref_pre(x, w, b);
  }
  // The reference before the ReLU.
  at::Tensor ref_pre(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b) const {
    auto m = mean.defined() ? mean.to(x.options()) : mean, v = var.defined() ? var.to(x.options()) : var;
    if (kind == NormKind::Batch)
      return mode == NormMode::Batch ? nf::ref::batch_norm(x, w, b, eps) : nf::ref::batch_norm_frozen(x, w, b, m, v, eps);
    if (kind == NormKind::Layer) return nf::ref::layer_norm(x, w, b, eps);
    if (kind == NormKind::Cross)
      return mode == NormMode::Batch ? nf::ref::cross_norm(x, w, b, eps)
                                     : nf::ref::cross_norm_frozen(x, w, b, m, v, t_ref, eps);
    return mode == NormMode::Batch ? nf::ref::global_norm(x, w, b, eps)
                                   : nf::ref::global_norm_frozen(x, w, b, m, v, eps);
  }
};

// Upstream gradient R with zeros where the pre-ReLU output is within `margin` of 0: there the two
// implementations' rounding may put an entry on different sides of the kink (a different, equally
// right mask); elsewhere the ReLU's mask is exact in both. No-op without a ReLU.
at::Tensor away_from_kink(const at::Tensor& R, const at::Tensor& pre, bool relu, double margin = 1e-3) {
  if (!relu) return R;
  return R * (pre.detach().abs() > margin).to(R.scalar_type());
}

Case make_case(NormKind kind, NormMode mode, int64_t C, at::TensorOptions o, bool relu = false) {
  Case c{kind, mode, {}, {}};
  c.relu = relu;
  const int64_t S = kind == NormKind::Global ? 1 : C;
  c.mean = (at::randn({S}, o.dtype(at::kDouble)) * 0.5 + 0.3).to(o);
  c.var = (at::rand({S}, o.dtype(at::kDouble)) + 0.5).to(o);
  return c;
}

// A case (make_case) with random inputs: x [T, C], w and b [C], upstream gradient R [T, C] (away
// from the case's ReLU kink), and their label ("<dtype> T=<T> C=<C>").
struct Draw {
  Case c;
  at::Tensor x, w, b, R;
  std::string what;
};
Draw draw(NormKind kind, NormMode mode, int64_t T, int64_t C, at::TensorOptions o, bool relu) {
  Draw d;
  d.what = std::string(c10::typeMetaToScalarType(o.dtype()) == at::kFloat ? "float" : "double") + " T=" +
           std::to_string(T) + " C=" + std::to_string(C);
  d.c = make_case(kind, mode, C, o, relu);
  d.x = at::randn({T, C}, o) * 2 + 0.5;
  d.w = at::rand({C}, o) + 0.5;
  d.b = at::randn({C}, o);
  d.R = away_from_kink(at::randn({T, C}, o), d.c.ref_pre(d.x, d.w, d.b), relu);
  return d;
}

struct Result {
  at::Tensor y, dx, dw, db;
};

// Forward and (x, w, b) gradients of sum(f(x, w, b) * R).
template <typename F>
Result run(const F& f, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, const at::Tensor& R) {
  auto xv = x.detach().clone().set_requires_grad(true);
  auto wv = w.defined() ? w.detach().clone().set_requires_grad(true) : w;
  auto bv = b.defined() ? b.detach().clone().set_requires_grad(true) : b;
  auto y = f(xv, wv, bv);
  (y * R).sum().backward();
  return {y.detach(), xv.grad(), wv.defined() ? wv.grad() : at::Tensor(), bv.defined() ? bv.grad() : at::Tensor()};
}

void expect_close(const Result& a, const Result& b, double tol, const std::string& what, double dx_tol = 0) {
  EXPECT_LT(scaled_err(a.y, b.y), tol) << what << " forward";
  EXPECT_LT(scaled_err(a.dx, b.dx), dx_tol > 0 ? dx_tol : tol) << what << " dx";
  EXPECT_LT(scaled_err(a.dw, b.dw), tol) << what << " dweight";
  EXPECT_LT(scaled_err(a.db, b.db), tol) << what << " dbias";
}

std::string name(NormKind k, NormMode m) { return nf::to_string(k) + "_" + nf::to_string(m); }

using Param = std::tuple<NormKind, NormMode, bool>;  // kind, mode, fused ReLU (CN only)
std::string param_name(const ::testing::TestParamInfo<Param>& info) {
  return name(std::get<0>(info.param), std::get<1>(info.param)) + (std::get<2>(info.param) ? "_relu" : "");
}

}  // namespace

class NormFused : public ::testing::TestWithParam<Param> {};

TEST_P(NormFused, EqualsReferenceOnOddShapes) {
  const auto [kind, mode, relu] = GetParam();
  at::manual_seed(1);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const double tol = dtype == at::kFloat ? 1e-5 : 1e-10;
    const auto o = at::TensorOptions().dtype(dtype);
    for (int64_t T : {1, 2, 3, 17, 1000, 4099}) {
      for (int64_t C : {1, 2, 3, 28, 49, 256, 512}) {
        const Draw d = draw(kind, mode, T, C, o, relu);
        const Case& c = d.c;
        const at::Tensor &x = d.x, &w = d.w, &b = d.b, &R = d.R;
        const std::string& what = d.what;
        auto fused = [&](auto& xx, auto& ww, auto& bb) { return c.fused(xx, ww, bb); };
        auto ref = [&](auto& xx, auto& ww, auto& bb) { return c.ref(xx, ww, bb); };
        // BN over <= 2 rows / LN over <= 2 channels: the output is +-1 whatever x, so the exact dx is ~0,
        // a difference of terms of size rstd * w * dy (rstd up to 1/sqrt(eps)): float rounding in either
        // implementation is amplified by that much (double is checked at 1e-10 all the same).
        const bool degenerate = dtype == at::kFloat && mode == NormMode::Batch &&
                                ((kind == NormKind::Batch && T <= 2) || (kind == NormKind::Layer && C <= 2));
        const double dx_tol = degenerate ? tol / std::sqrt(c.eps) : 0.0;
        expect_close(run(fused, x, w, b, R), run(ref, x, w, b, R), tol, what, dx_tol);
        if (T == 17) {
          auto R0 = away_from_kink(R, c.ref_pre(x, {}, {}), relu);
          expect_close(run(fused, x, {}, {}, R0), run(ref, x, {}, {}, R0), tol, what + " no affine", dx_tol);
        }
      }
    }
  }
}

TEST_P(NormFused, BackwardMatchesFiniteDifferences) {
  const auto [kind, mode, relu] = GetParam();
  at::manual_seed(2);
  const auto o = at::TensorOptions().dtype(at::kDouble);
  for (auto [T, C] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {1, 3}, {3, 1}, {2, 2}, {5, 4}, {4, 7}}) {
    auto c = make_case(kind, mode, C, o, relu);
    auto f = [&](const std::vector<at::Tensor>& in) { return c.fused(in[0], in[1], in[2]); };
    auto x = at::randn({T, C}, o);
    auto w = at::rand({C}, o) + 0.5;
    auto b = at::randn({C}, o);
    EXPECT_LT(nf_test::gradcheck_max_error(f, {x, w, b}), 1e-6) << "T=" << T << " C=" << C;
  }
}

TEST_P(NormFused, DoubleBackwardEqualsReference) {
  // An eikonal-style loss: the gradient of a scalar wrt x, itself differentiated.
  const auto [kind, mode, relu] = GetParam();
  at::manual_seed(3);
  const auto o = at::TensorOptions().dtype(at::kDouble);
  auto c = make_case(kind, mode, 6, o, relu);
  auto x0 = at::randn({9, 6}, o);
  auto w0 = at::rand({6}, o) + 0.5;
  auto b0 = at::randn({6}, o);
  auto R = away_from_kink(at::randn({9, 6}, o), c.ref_pre(x0, w0, b0), relu);
  auto second = [&](bool fused) {
    auto x = x0.clone().set_requires_grad(true), w = w0.clone().set_requires_grad(true);
    auto b = b0.clone().set_requires_grad(true);
    auto y = fused ? c.fused(x, w, b) : c.ref(x, w, b);
    auto gx = torch::autograd::grad({(y * R).sum()}, {x}, {}, true, true)[0];
    // allow_unused: in frozen GN the gradient wrt x does not depend on x.
    auto g2 = torch::autograd::grad({gx.pow(2).sum()}, {x, w}, {}, c10::nullopt, false, true);
    return std::vector<at::Tensor>{gx.detach(), g2[0], g2[1]};
  };
  auto a = second(true), r = second(false);
  for (size_t k = 0; k < a.size(); ++k) EXPECT_LT(scaled_err(a[k], r[k]), 1e-10) << k;
}

TEST_P(NormFused, CudaEqualsCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  const auto [kind, mode, relu] = GetParam();
  at::manual_seed(4);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const double tol = dtype == at::kFloat ? 2e-5 : 1e-10;
    const auto o = at::TensorOptions().dtype(dtype);
    for (auto [T, C] : std::vector<std::pair<int64_t, int64_t>>{
             {1, 1}, {2, 3}, {17, 28}, {1000, 49}, {4099, 512}, {65537, 33}, {393216, 28}}) {
      const Draw d = draw(kind, mode, T, C, o, relu);
      const Case& c = d.c;
      const at::Tensor &x = d.x, &w = d.w, &b = d.b, &R = d.R;
      const std::string& what = d.what;
      auto cpu = run([&](auto& xx, auto& ww, auto& bb) { return c.fused(xx, ww, bb); }, x, w, b, R);
      Case g = c;
      g.mean = c.mean.cuda();
      g.var = c.var.cuda();
      auto gpu = run([&](auto& xx, auto& ww, auto& bb) { return g.fused(xx, ww, bb); }, x.cuda(), w.cuda(),
                     b.cuda(), R.cuda());
      // GN of a single entry: dx is 0 in exact arithmetic, the difference of two terms of size
      // rstd * w * dy with rstd = 1/sqrt(eps) ~ 316, so float rounding is amplified by that much.
      const double dx_tol = kind == NormKind::Global && mode == NormMode::Batch && T * C == 1 ? tol / std::sqrt(c.eps) : tol;
      expect_close(gpu, cpu, tol, what, dx_tol);
      auto R0 = away_from_kink(R, c.ref_pre(x, {}, {}), relu);
      auto gpu_plain = run([&](auto& xx, auto& ww, auto& bb) { return g.fused(xx, ww, bb); }, x.cuda(), {}, {},
                           R0.cuda());
      auto cpu_plain = run([&](auto& xx, auto& ww, auto& bb) { return c.fused(xx, ww, bb); }, x, {}, {}, R0);
      expect_close(gpu_plain, cpu_plain, tol, what + " no affine", dx_tol);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(CnGn, NormFused,
                         ::testing::Combine(::testing::Values(NormKind::Cross, NormKind::Global),
                                            ::testing::Values(NormMode::Batch, NormMode::Frozen),
                                            ::testing::Values(false)),
                         param_name);

// CN with the ReLU in its kernels (Norm::forward_relu, used by the MLP and mip-NeRF trunks).
INSTANTIATE_TEST_SUITE_P(CnRelu, NormFused,
                         ::testing::Combine(::testing::Values(NormKind::Cross),
                                            ::testing::Values(NormMode::Batch, NormMode::Frozen),
                                            ::testing::Values(true)),
                         param_name);

// BN (batch: the CPU row kernels; frozen: torch's eval kernel) and LN (CPU row kernels).
INSTANTIATE_TEST_SUITE_P(BnLn, NormFused,
                         ::testing::Values(Param{NormKind::Batch, NormMode::Batch, false},
                                           Param{NormKind::Batch, NormMode::Frozen, false},
                                           Param{NormKind::Layer, NormMode::Batch, false}),
                         param_name);

TEST(NormFusedApi, MatchesDesignVectorAndHandlesLayouts) {
  auto H = at::empty({4, 3}, at::kDouble);
  for (int t = 0; t < 4; ++t)
    for (int i = 0; i < 3; ++i) H[t][i] = std::pow(3.0 * t + i, 1.5);
  auto cn = at::tensor({-0.606337, -0.585497, -0.528994, -0.346759, -0.204021, -0.077193, 0.169449, 0.340631,
                        0.491566, 0.827426, 0.996543, 1.150666}, at::kDouble).view({4, 3});
  EXPECT_LT((nf::cross_norm_fused(H, {}, {}, 1e-5) - cn).abs().max().item<double>(), 1e-5);
  // Non-contiguous input, float weight with a double x (cast to x's dtype).
  auto xt = at::randn({6, 11}, at::kDouble).t();
  auto w = at::rand({6}) + 0.5;
  auto expect = nf::ref::cross_norm(xt.contiguous(), w.to(at::kDouble), {}, 1e-5);
  EXPECT_LT((nf::cross_norm_fused(xt, w, {}, 1e-5) - expect).abs().max().item<double>(), 1e-6);
  EXPECT_FALSE(nf::fused_norm_supported(at::randn({2, 3, 4})));
  EXPECT_FALSE(nf::fused_norm_supported(at::ones({2, 3}, at::kInt)));
  EXPECT_THROW(nf::cross_norm_fused(at::randn({3}), {}, {}, 1e-5), c10::Error);
  // Empty batch follows the reference.
  EXPECT_EQ(nf::global_norm_fused(at::randn({0, 4}), {}, {}, 1e-5).size(0), 0);
}

TEST(NormFusedApi, BatchAndLayerNormDispatchEqualReference) {
  auto x = at::randn({37, 11}, at::kDouble) * 3 + 1;
  auto w = at::rand({11}, at::kDouble) + 0.5, b = at::randn({11}, at::kDouble);
  auto m = at::randn({11}, at::kDouble), v = at::rand({11}, at::kDouble) + 0.5;
  EXPECT_LT(scaled_err(nf::batch_norm_fused(x, w, b, 1e-5), nf::ref::batch_norm(x, w, b, 1e-5)), 1e-10);
  EXPECT_LT(scaled_err(nf::batch_norm_frozen_fused(x, w, b, m, v, 1e-5),
                       nf::ref::batch_norm_frozen(x, w, b, m, v, 1e-5)), 1e-10);
  EXPECT_LT(scaled_err(nf::layer_norm_fused(x, w, b, 1e-5), nf::ref::layer_norm(x, w, b, 1e-5)), 1e-10);
}

class NormFusedModule : public ::testing::TestWithParam<NormKind> {};

TEST_P(NormFusedModule, FusedOnEqualsFusedOff) {
  const NormKind k = GetParam();
  at::manual_seed(5);
  for (auto dtype : {at::kFloat, at::kDouble}) {
    const double tol = dtype == at::kFloat ? 1e-5 : 1e-10;
    nf::Norm on(nf::NormOptions(k, 28).fused(true)), off(nf::NormOptions(k, 28).fused(false));
    on->to(dtype);
    off->to(dtype);
    {
      at::NoGradGuard ng;
      on->weight.uniform_(0.5, 2);
      on->bias.uniform_(-1, 1);
      off->weight.copy_(on->weight);
      off->bias.copy_(on->bias);
    }
    auto x = at::randn({300, 28}, at::TensorOptions().dtype(dtype)) * 2 + 0.5;
    auto R0 = at::randn({300, 28}, at::TensorOptions().dtype(dtype));
    at::Tensor R;
    // relu: forward_relu (CN: the ReLU in the fused kernels; others: at::relu after forward).
    auto step = [&](nf::Norm& n, bool relu) {
      auto xv = x.clone().set_requires_grad(true);
      for (auto& p : n->parameters()) p.mutable_grad() = at::Tensor();
      auto y = relu ? n->forward_relu(xv) : n->forward(xv);
      (y * R).sum().backward();
      return std::vector<at::Tensor>{y.detach(), xv.grad(), n->weight.grad(), n->bias.grad()};
    };
    for (NormMode mode : {NormMode::Batch, NormMode::Frozen}) {
      if (mode == NormMode::Frozen) {
        for (auto* n : {&on, &off}) {
          (*n)->begin_calibration();
          (*n)->forward(x);
          (*n)->end_calibration();
        }
      }
      on->set_mode(mode);
      off->set_mode(mode);
      for (bool relu : {false, true}) {
        at::Tensor pre;
        {
          off->eval();  // no running-estimate update
          at::NoGradGuard ng;
          pre = off->forward(x);
          off->train();
        }
        R = away_from_kink(R0, pre, relu);
        auto a = step(on, relu), r = step(off, relu);
        for (size_t j = 0; j < a.size(); ++j)
          EXPECT_LT(scaled_err(a[j], r[j]), tol)
              << nf::to_string(k) << " " << nf::to_string(mode) << (relu ? " relu " : " ") << j;
        if (relu) EXPECT_EQ(a[0].min().item<double>(), 0.0);
        // The running estimate (observe) is unchanged by the fused path.
        EXPECT_TRUE(at::allclose(on->frozen_mean, off->frozen_mean));
        EXPECT_TRUE(at::allclose(on->frozen_var, off->frozen_var));
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllNorms, NormFusedModule,
                         ::testing::Values(NormKind::Batch, NormKind::Layer, NormKind::Global, NormKind::Cross),
                         [](const auto& info) { return nf::to_string(info.param); });

TEST(NormFusedMlp, ConfigKeySwitchesTheNormLayers) {
  auto cfg = nf::method_config("relu+cn", 2, 3, 3, 8);
  auto on = nf::make_field(cfg);
  EXPECT_EQ(on->config().at("norm_fused").get<bool>(), true);
  for (auto& n : on->norm_layers()) EXPECT_TRUE(n->options.fused());
  cfg["norm_fused"] = false;
  auto off = nf::make_field(cfg);
  EXPECT_EQ(off->config().at("norm_fused").get<bool>(), false);
  for (auto& n : off->norm_layers()) EXPECT_FALSE(n->options.fused());
  // Same weights -> same output.
  {
    at::NoGradGuard ng;
    auto pa = on->parameters(), pb = off->parameters();
    ASSERT_EQ(pa.size(), pb.size());
    for (size_t i = 0; i < pa.size(); ++i) pb[i].copy_(pa[i]);
  }
  auto x = at::rand({64, 2}) * 2 - 1;
  EXPECT_LT(scaled_err(on->forward(x), off->forward(x)), 1e-5);
  EXPECT_THROW(nf::make_field(nlohmann::json{{"type", "mlp"}, {"in_dim", 2}, {"out_dim", 1}, {"hidden_layers", 1},
                                             {"width", 4}, {"norm_fused", "yes"}}),
               nf::ConfigError);
}
