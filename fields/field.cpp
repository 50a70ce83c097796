#include <c10/core/GradMode.h>
#include "fields/field.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/container/any.h>

namespace nf {

std::vector<std::shared_ptr<NormImpl>> FieldImpl::norm_layers() {
  std::vector<std::shared_ptr<NormImpl>> out;
  for (auto& m : modules(/*include_self=*/false)) {
    if (auto n = std::dynamic_pointer_cast<NormImpl>(m)) out.push_back(n);
  }
  return out;
}

bool FieldImpl::batch_dependent() {
  for (auto& n : norm_layers()) {
    const auto k = n->options.kind();
    if ((k == NormKind::Batch || k == NormKind::Global || k == NormKind::Cross) &&
        n->mode() == NormMode::Batch)
      return true;
  }
  return false;
}

void FieldImpl::set_norm_mode(NormMode mode) {
  for (auto& n : norm_layers()) n->set_mode(mode);
}

void FieldImpl::calibrate(const torch::Tensor& x, int64_t chunk) {
  c10::NoGradGuard ng;
  auto norms = norm_layers();
  for (auto& n : norms) n->begin_calibration();
  const int64_t N = x.size(0);
  if (chunk <= 0) chunk = N;
  for (int64_t s = 0; s < N; s += chunk) forward(x.slice(0, s, std::min(N, s + chunk)));
  for (auto& n : norms) {
    n->end_calibration();
    n->set_mode(NormMode::Frozen);
  }
}

int64_t FieldImpl::num_parameters() {
  int64_t n = 0;
  for (auto& p : parameters()) n += p.numel();
  return n;
}

torch::Tensor evaluate_chunked(FieldImpl& field, const torch::Tensor& x, int64_t chunk) {
  c10::NoGradGuard ng;
  const int64_t N = x.size(0);
  if (chunk <= 0 || chunk >= N) return field.forward(x);
  std::vector<torch::Tensor> parts;
  for (int64_t s = 0; s < N; s += chunk) parts.push_back(field.forward(x.slice(0, s, std::min(N, s + chunk))));
  return at::cat(parts, 0);
}

}  // namespace nf
