#include <c10/core/GradMode.h>
#include "fields/norm.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <algorithm>
#include <stdexcept>

#include "fields/norm_fused.h"
#include "fields/norm_reference.h"

namespace nf {

const std::vector<std::string>& norm_kind_names() {
  static const std::vector<std::string> names{"none", "bn", "ln", "gn", "cn"};
  return names;
}

NormKind norm_kind_from_string(const std::string& s) {
  if (s == "none" || s.empty()) return NormKind::None;
  if (s == "bn" || s == "batch") return NormKind::Batch;
  if (s == "ln" || s == "layer") return NormKind::Layer;
  if (s == "gn" || s == "global") return NormKind::Global;
  if (s == "cn" || s == "cross") return NormKind::Cross;
  throw std::invalid_argument("unknown norm '" + s + "' (valid: none, bn, ln, gn, cn)");
}

std::string to_string(NormKind k) {
  switch (k) {
    case NormKind::None: return "none";
    case NormKind::Batch: return "bn";
    case NormKind::Layer: return "ln";
    case NormKind::Global: return "gn";
    case NormKind::Cross: return "cn";
  }
  return "none";
}

std::string to_string(NormMode m) { return m == NormMode::Batch ? "batch" : "frozen"; }

NormMode norm_mode_from_string(const std::string& s) {
  if (s == "batch") return NormMode::Batch;
  if (s == "frozen") return NormMode::Frozen;
  throw std::invalid_argument("unknown norm mode '" + s + "' (valid: batch, frozen)");
}

NormImpl::NormImpl(const NormOptions& options_) : options(options_) { reset(); }

void NormImpl::reset() {
  const int64_t C = options.channels();
  TORCH_CHECK(C > 0, "norm layer needs channels > 0, got ", C);
  if (options.affine()) {
    weight = register_parameter("weight", torch::ones({C}));
    bias = register_parameter("bias", torch::zeros({C}));
  }
  const int64_t S = options.kind() == NormKind::Global ? 1 : C;
  frozen_mean = register_buffer("frozen_mean", torch::zeros({S}));
  frozen_var = register_buffer("frozen_var", torch::ones({S}));
  frozen_count = register_buffer("frozen_count", torch::zeros({1}));
}

void NormImpl::pretty_print(std::ostream& stream) const {
  stream << "nf::Norm(" << to_string(options.kind()) << ", channels=" << options.channels()
         << ", mode=" << to_string(options.mode()) << ")";
}

void NormImpl::set_mode(NormMode m) { options.mode(m); }

bool NormImpl::has_frozen_stats() const {
  const auto k = options.kind();
  if (k == NormKind::None || k == NormKind::Layer) return true;
  return frozen_count.item<double>() > 0;
}

void NormImpl::begin_calibration() {
  calibrating_ = true;
  acc_sum_ = torch::Tensor();
  acc_sumsq_ = torch::Tensor();
  acc_count_ = 0;
  acc_rows_ = 0;
}

void NormImpl::end_calibration() {
  TORCH_CHECK(calibrating_, "end_calibration without begin_calibration");
  calibrating_ = false;
  const auto k = options.kind();
  if (k == NormKind::None || k == NormKind::Layer || acc_count_ == 0) return;
  c10::NoGradGuard ng;
  auto mean = acc_sum_ / acc_count_;
  torch::Tensor var;
  if (k == NormKind::Batch) {
    var = (acc_sumsq_ / acc_count_ - mean * mean).clamp_min(0);
  } else {
    var = ((acc_sumsq_ - acc_count_ * mean * mean) / std::max(acc_count_ - 1, 1.0)).clamp_min(0);
  }
  frozen_mean.copy_(mean.reshape(frozen_mean.sizes()));
  frozen_var.copy_(var.reshape(frozen_var.sizes()));
  frozen_count.fill_(acc_rows_);
}

bool NormImpl::observing() const {
  const auto k = options.kind();
  if (k == NormKind::None || k == NormKind::Layer) return false;
  return calibrating_ || (options.momentum() > 0 && is_training());
}

void NormImpl::observe(const torch::Tensor& x, const torch::Tensor& batch_stats) {
  if (!observing()) return;
  const auto k = options.kind();
  c10::NoGradGuard ng;
  const double rows = static_cast<double>(x.size(0));
  const double n = k == NormKind::Global ? static_cast<double>(x.numel()) : rows;
  if (calibrating_) {
    // Exact pooling over calibration chunks: sums in double.
    auto xd = x.detach().to(torch::kDouble);
    auto s = k == NormKind::Global ? xd.sum().reshape({1}) : xd.sum(0);
    auto ss = k == NormKind::Global ? xd.pow(2).sum().reshape({1}) : xd.pow(2).sum(0);
    acc_sum_ = acc_sum_.defined() ? acc_sum_ + s : s;
    acc_sumsq_ = acc_sumsq_.defined() ? acc_sumsq_ + ss : ss;
    acc_count_ += n;
    acc_rows_ += rows;
    return;
  }
  // Running estimate from the statistics the fused forward computed (same definitions: BN biased,
  // GN/CN unbiased with a max(n-1, 1) denominator), else one var_mean pass in x's precision.
  const bool unbiased = k != NormKind::Batch;
  torch::Tensor mean, var;
  if (batch_stats.defined()) {
    mean = batch_stats[0];
    var = batch_stats[1];
  } else {
    auto vm = k == NormKind::Global ? at::var_mean(x.detach(), unbiased)
                                    : at::var_mean(x.detach(), at::IntArrayRef{0}, unbiased);
    var = std::get<0>(vm);
    mean = std::get<1>(vm);
    if (unbiased && n < 2) var = at::zeros_like(var);  // max(n-1, 1) denominator: one sample has variance 0
  }
  var = var.reshape(frozen_var.sizes()).to(frozen_var.scalar_type());
  mean = mean.reshape(frozen_mean.sizes()).to(frozen_mean.scalar_type());
  // No host sync: the first observation replaces the initial values, later ones are blended.
  const double m = options.momentum();
  auto seen = (frozen_count > 0).to(frozen_mean.scalar_type());
  const auto keep = seen * (1 - m);
  frozen_mean.copy_(frozen_mean * keep + mean * (1 - keep));
  frozen_var.copy_(frozen_var * keep + var * (1 - keep));
  frozen_count.fill_(rows);
}

torch::Tensor NormImpl::forward(const torch::Tensor& x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == options.channels(), "nf::Norm(", to_string(options.kind()),
              ") expects [T, ", options.channels(), "], got ", x.sizes());
  const auto k = options.kind();
  const double eps = options.eps();
  if (k == NormKind::None) return x;
  const bool fused = options.fused() && fused_norm_supported(x);
  if (k == NormKind::Layer)
    return fused ? layer_norm_fused(x, weight, bias, eps) : ref::layer_norm(x, weight, bias, eps);
  if (options.mode() == NormMode::Batch || calibrating_) {
    if (keep_) keep(x);
    if (!fused) {
      observe(x);
      switch (k) {
        case NormKind::Batch: return ref::batch_norm(x, weight, bias, eps);
        case NormKind::Global: return ref::global_norm(x, weight, bias, eps);
        case NormKind::Cross: return ref::cross_norm(x, weight, bias, eps);
        default: break;
      }
    }
    NormWithStats r;
    switch (k) {
      case NormKind::Batch: r = batch_norm_fused_stats(x, weight, bias, eps); break;
      case NormKind::Global: r = global_norm_fused_stats(x, weight, bias, eps); break;
      case NormKind::Cross: r = cross_norm_fused_stats(x, weight, bias, eps); break;
      default: break;
    }
    observe(x, r.stats);  // the running estimate reuses the forward's statistics (no extra pass)
    return r.y;
  }
  TORCH_CHECK(has_frozen_stats(), "nf::Norm(", to_string(k),
              ") in frozen mode has no statistics: train with momentum > 0 or calibrate first");
  switch (k) {
    case NormKind::Batch:
      return at::batch_norm(x, weight, bias, frozen_mean.to(x.scalar_type()), frozen_var.to(x.scalar_type()),
                            /*training=*/false, 0.0, eps, true);
    case NormKind::Global:
      return fused ? global_norm_frozen_fused(x, weight, bias, frozen_mean, frozen_var, eps)
                   : ref::global_norm_frozen(x, weight, bias, frozen_mean, frozen_var, eps);
    case NormKind::Cross:
      return fused ? cross_norm_frozen_fused(x, weight, bias, frozen_mean, frozen_var,
                                             frozen_count.item<double>(), eps)
                   : ref::cross_norm_frozen(x, weight, bias, frozen_mean, frozen_var,
                                            frozen_count.item<double>(), eps);
    default: break;
  }
  return x;
}

torch::Tensor NormImpl::forward_relu(const torch::Tensor& x) {
  const bool fused_cn = options.kind() == NormKind::Cross && options.fused() && fused_norm_supported(x) &&
                        x.size(1) == options.channels();
  if (!fused_cn) return at::relu(forward(x));
  const double eps = options.eps();
  if (options.mode() == NormMode::Batch || calibrating_) {
    auto r = cross_norm_fused_stats(x, weight, bias, eps, /*relu=*/true);
    observe(x, r.stats);
    return r.y;
  }
  TORCH_CHECK(has_frozen_stats(), "nf::Norm(cn) in frozen mode has no statistics: train with momentum > 0 or "
              "calibrate first");
  return cross_norm_frozen_fused(x, weight, bias, frozen_mean, frozen_var, frozen_count.item<double>(), eps,
                                 /*relu=*/true);
}

}  // namespace nf

namespace nf {

void NormImpl::keep(const torch::Tensor& x) {
  const auto k = options.kind();
  const double T = static_cast<double>(x.size(0));
  if (k == NormKind::Batch) {
    kept_mean = x.mean(0);
    kept_var = (x - kept_mean).pow(2).mean(0);
  } else if (k == NormKind::Global) {
    kept_mean = x.mean().reshape({1});
    kept_var = ((x - kept_mean).pow(2).sum() / std::max(static_cast<double>(x.numel()) - 1, 1.0)).reshape({1});
  } else if (k == NormKind::Cross) {
    kept_mean = x.mean(0);
    kept_var = ref::unbiased_var(x, 0, /*keepdim=*/false);
  }
  kept_count = T;
}

torch::Tensor NormImpl::forward_kept(const torch::Tensor& x) {
  const auto k = options.kind();
  if (k == NormKind::None || k == NormKind::Layer) return forward(x);
  TORCH_CHECK(x.dim() == 2 && x.size(1) == options.channels(), "nf::Norm(", to_string(k), ") expects [T, ",
              options.channels(), "], got ", x.sizes());
  TORCH_CHECK(kept_mean.defined(), "nf::Norm(", to_string(k),
              ")::forward_kept: no kept statistics (run a batch-mode forward with keep_batch_stats(true) first)");
  const double eps = options.eps();
  switch (k) {
    case NormKind::Batch: return ref::batch_norm_frozen(x, weight, bias, kept_mean, kept_var, eps);
    case NormKind::Global: return ref::global_norm_frozen(x, weight, bias, kept_mean, kept_var, eps);
    case NormKind::Cross: return ref::cross_norm_frozen(x, weight, bias, kept_mean, kept_var, kept_count, eps);
    default: break;
  }
  return x;
}

}  // namespace nf
