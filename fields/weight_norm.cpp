#include "fields/weight_norm.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/modules/linear.h>

namespace nf {

WNLinearImpl::WNLinearImpl(const WNLinearOptions& o) : options(o) { reset(); }

void WNLinearImpl::reset() {
  torch::nn::Linear plain(options.in(), options.out());  // torch's default init
  v = register_parameter("v", plain->weight.detach().clone());
  b = register_parameter("b", plain->bias.detach().clone());
  if (options.weight_norm()) g = register_parameter("g", torch::ones({options.out(), 1}));
  reset_g();
}

void WNLinearImpl::reset_g() {
  if (!options.weight_norm()) return;
  c10::NoGradGuard ng;
  g.copy_(v.norm(2, {1}, /*keepdim=*/true));
}

torch::Tensor WNLinearImpl::weight() const {
  if (!options.weight_norm()) return v;
  return v * (g / v.norm(2, {1}, /*keepdim=*/true));
}

torch::Tensor WNLinearImpl::forward(const torch::Tensor& x) { return at::linear(x, weight(), b); }

torch::Tensor WNLinearImpl::forward_rows(const torch::Tensor& x, int64_t r0, int64_t r1) {
  auto vr = v.slice(0, r0, r1);
  auto w = options.weight_norm() ? vr * (g.slice(0, r0, r1) / vr.norm(2, {1}, true)) : vr;
  return at::linear(x, w, b.slice(0, r0, r1));
}

}  // namespace nf
