#pragma once
// A Linear layer with optional weight normalisation (Salimans & Kingma 2016), as
// torch.nn.utils.weight_norm(nn.Linear(in, out)) with dim = 0 (LibTorch C++ has no helper):
//   W[o, :] = g[o] * v[o, :] / ||v[o, :]||,   y = x W^T + b.
// At construction v and b are torch's Linear defaults and g = ||v|| per row, so W == v. After
// changing v in place (e.g. a custom init), call reset_g() so that W == v again.
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

namespace nf {

struct WNLinearOptions {
  WNLinearOptions(int64_t in, int64_t out) : in_(in), out_(out) {}
  TORCH_ARG(int64_t, in);
  TORCH_ARG(int64_t, out);
  TORCH_ARG(bool, weight_norm) = true;  // false: a plain Linear (parameter "v" is the weight)
};

class WNLinearImpl : public torch::nn::Cloneable<WNLinearImpl> {
 public:
  explicit WNLinearImpl(const WNLinearOptions& options);
  void reset() override;
  // g = ||v|| per output row (no-op without weight norm).
  void reset_g();
  // The effective weight [out, in].
  torch::Tensor weight() const;
  // x: [N, in] -> [N, out]
  torch::Tensor forward(const torch::Tensor& x);
  // Only output rows [r0, r1): x [N, in] -> [N, r1 - r0].
  torch::Tensor forward_rows(const torch::Tensor& x, int64_t r0, int64_t r1);

  WNLinearOptions options;
  torch::Tensor v;  // [out, in]
  torch::Tensor g;  // [out, 1] (undefined without weight norm)
  torch::Tensor b;  // [out]
};
TORCH_MODULE(WNLinear);

}  // namespace nf
