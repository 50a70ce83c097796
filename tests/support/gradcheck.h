#pragma once
// Double-precision finite-difference gradient check for tests.
// f maps the inputs to one tensor; the scalar checked is sum(f(inputs) * R) for a fixed random R,
// so every output element contributes. Returns the largest |analytic - numeric| over all inputs.
#include <ATen/ATen.h>
#include <torch/autograd.h>

#include <algorithm>
#include <functional>
#include <vector>

namespace nf_test {

inline double gradcheck_max_error(const std::function<at::Tensor(const std::vector<at::Tensor>&)>& f,
                                  std::vector<at::Tensor> inputs, double h = 1e-6) {
  for (auto& x : inputs) x = x.detach().to(at::kDouble).clone().set_requires_grad(true);
  auto out = f(inputs);
  auto R = at::randn(out.sizes(), out.options().requires_grad(false));
  auto loss = (out * R).sum();
  auto grads = torch::autograd::grad({loss}, inputs, {}, false, false, true);
  double worst = 0;
  for (size_t k = 0; k < inputs.size(); ++k) {
    auto base = inputs[k].detach().clone();
    auto flat = base.view(-1);
    for (int64_t i = 0; i < flat.numel(); ++i) {
      const double v = flat[i].item<double>();
      auto eval = [&](double x) {
        flat[i] = x;
        std::vector<at::Tensor> in2;
        for (size_t j = 0; j < inputs.size(); ++j) in2.push_back(j == k ? base : inputs[j].detach());
        return (f(in2) * R).sum().item<double>();
      };
      const double num = (eval(v + h) - eval(v - h)) / (2 * h);
      flat[i] = v;
      const double ana = grads[k].defined() ? grads[k].reshape(-1)[i].item<double>() : 0.0;
      worst = std::max(worst, std::abs(num - ana));
    }
  }
  return worst;
}

}  // namespace nf_test
