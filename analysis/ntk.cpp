#include "analysis/ntk.h"

#include <torch/autograd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace nf {

at::Tensor ntk_jacobian(FieldImpl& field, const at::Tensor& x, bool double_precision) {
  if (x.dim() != 2 || x.size(1) != field.in_dim())
    throw std::runtime_error("analysis/ntk.cpp: x must be [T, " + std::to_string(field.in_dim()) + "]");
  std::vector<at::Tensor> params;
  for (auto& p : field.parameters())
    if (p.requires_grad()) params.push_back(p);
  if (params.empty()) throw std::runtime_error("analysis/ntk.cpp: field has no trainable parameters");
  const auto orig_dtype = params.front().scalar_type();
  const auto device = params.front().device();

  // Snapshot buffers (running statistics) so the forward pass leaves no trace.
  std::vector<at::Tensor> buffers, saved;
  for (auto& b : field.buffers()) {
    buffers.push_back(b);
    saved.push_back(b.detach().clone());
  }
  const bool convert = double_precision && orig_dtype != at::kDouble;
  if (convert) field.to(at::kDouble);

  at::Tensor J;
  try {
    std::vector<at::Tensor> ps;  // after conversion the parameter tensors are the same objects
    for (auto& p : field.parameters())
      if (p.requires_grad()) ps.push_back(p);
    int64_t P = 0;
    for (auto& p : ps) P += p.numel();
    const auto dtype = ps.front().scalar_type();
    torch::autograd::GradMode::set_enabled(true);
    auto out = field.forward(x.to(device, dtype)).reshape({-1});  // [T*C]
    const int64_t N = out.numel();
    J = at::zeros({N, P}, at::TensorOptions().dtype(dtype).device(device));
    for (int64_t k = 0; k < N; ++k) {
      auto g = torch::autograd::grad({out[k]}, ps, {}, /*retain_graph=*/true, /*create_graph=*/false,
                                     /*allow_unused=*/true);
      int64_t off = 0;
      auto row = J[k];
      for (size_t i = 0; i < ps.size(); ++i) {
        const int64_t n = ps[i].numel();
        if (g[i].defined()) row.slice(0, off, off + n).copy_(g[i].reshape({-1}));
        off += n;
      }
    }
  } catch (...) {
    if (convert) field.to(orig_dtype);
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].detach().copy_(saved[i]);
    throw;
  }
  if (convert) field.to(orig_dtype);
  {
    at::NoGradGuard ng;
    for (size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
  }
  return J.cpu();
}

at::Tensor empirical_ntk(FieldImpl& field, const at::Tensor& x, bool double_precision) {
  auto J = ntk_jacobian(field, x, double_precision);
  return at::matmul(J, J.t());
}

NtkStats ntk_statistics(const at::Tensor& K_in) {
  if (K_in.dim() != 2 || K_in.size(0) != K_in.size(1) || K_in.size(0) == 0)
    throw std::runtime_error("analysis/ntk.cpp: ntk_statistics needs a square non-empty K");
  auto K = K_in.detach().to(at::kCPU, at::kDouble);
  K = 0.5 * (K + K.t());
  NtkStats s;
  s.n = K.size(0);
  const double N = static_cast<double>(s.n);
  {
    // LAPACK's threaded eigensolver is ~1000x slower on a small K when the cores are busy (measured:
    // 2 s instead of 0.5 ms for N = 128 on a loaded 2-core machine); one thread is enough there.
    const int threads = at::get_num_threads();
    const bool single = s.n <= 512 && threads > 1;
    if (single) at::set_num_threads(1);
    try {
      s.eigenvalues = at::linalg_eigvalsh(K);  // ascending
    } catch (...) {
      if (single) at::set_num_threads(threads);
      throw;
    }
    if (single) at::set_num_threads(threads);
  }
  s.trace = K.trace().item<double>();
  s.mean = s.trace / N;
  s.second_moment = K.pow(2).sum().item<double>() / N;
  s.variance = s.second_moment - s.mean * s.mean;
  s.min = s.eigenvalues[0].item<double>();
  s.max = s.eigenvalues[s.n - 1].item<double>();
  // median: mean of the two middle values for even N
  s.median = s.n % 2 ? s.eigenvalues[s.n / 2].item<double>()
                     : 0.5 * (s.eigenvalues[s.n / 2 - 1].item<double>() + s.eigenvalues[s.n / 2].item<double>());
  s.thresholds = {1e-3, 1e-2, 1e-1, 1.0, 10.0};
  for (double t : s.thresholds)
    s.fraction_above.push_back((s.eigenvalues > t).sum().item<double>() / N);
  s.lower_bound = s.mean > 0 ? s.second_moment / s.mean : 0.0;
  s.upper_bound = std::sqrt(N * s.second_moment);
  const double tol = 1e-6 * std::max(std::abs(s.max), 1e-300);
  s.lower_bound_holds = s.lower_bound <= s.max + tol;
  s.upper_bound_holds = s.max <= s.upper_bound + tol;
  return s;
}

nlohmann::json to_json(const NtkStats& s, bool with_eigenvalues) {
  nlohmann::json frac = nlohmann::json::object();
  for (size_t i = 0; i < s.thresholds.size(); ++i) {
    char key[32];
    std::snprintf(key, sizeof key, "%g", s.thresholds[i]);
    frac[key] = s.fraction_above[i];
  }
  nlohmann::json j{{"n", s.n},
                   {"trace", s.trace},
                   {"mean", s.mean},
                   {"second_moment", s.second_moment},
                   {"variance", s.variance},
                   {"min", s.min},
                   {"max", s.max},
                   {"median", s.median},
                   {"fraction_above", frac},
                   {"eq6",
                    {{"lower_bound_s_over_m", s.lower_bound},
                     {"upper_bound_sqrt_Ns", s.upper_bound},
                     {"lower_holds", s.lower_bound_holds},
                     {"upper_holds", s.upper_bound_holds}}}};
  if (with_eigenvalues && s.eigenvalues.defined()) {
    auto e = s.eigenvalues.contiguous();
    const double* p = e.data_ptr<double>();
    j["eigenvalues"] = std::vector<double>(p, p + e.numel());
  }
  return j;
}

std::vector<int64_t> log10_histogram(const at::Tensor& eigenvalues, double lo, double hi, int64_t bins) {
  if (bins < 1 || !(hi > lo)) throw std::runtime_error("analysis/ntk.cpp: log10_histogram needs bins >= 1, hi > lo");
  std::vector<int64_t> h(bins, 0);
  auto e = eigenvalues.detach().to(at::kCPU, at::kDouble).contiguous();
  const double* p = e.data_ptr<double>();
  for (int64_t i = 0; i < e.numel(); ++i) {
    const double l = p[i] > 0 ? std::log10(p[i]) : lo;
    int64_t b = static_cast<int64_t>(std::floor((l - lo) / (hi - lo) * bins));
    h[std::clamp<int64_t>(b, 0, bins - 1)]++;
  }
  return h;
}

}  // namespace nf
