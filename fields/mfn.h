#pragma once
// Multiplicative filter networks (Fathony et al. 2021), FourierNet and GaborNet:
//   z_0 = g_0(x);  z_{i} = (W_i z_{i-1} + b_i) * g_i(x);  out = W_out z_L + b_out
// Fourier filter g(x) = sin(Omega x + phi); Gabor filter g(x) = exp(-gamma/2 |x - mu|^2) sin(Omega x + phi).
// Init as the official code: filter weights scaled by input_scale / sqrt(L + 1), phases U(-pi, pi),
// hidden weights U(+-sqrt(weight_scale / width)); Gabor gamma ~ Gamma(alpha / (L + 1), beta),
// mu ~ U(-1, 1). `hidden_layers` = L + 1 filters (so 5x20 has 5 filters and 4 multiplicative layers).
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "fields/field.h"

namespace nf {

struct MFNOptions {
  MFNOptions(int64_t in_dim, int64_t out_dim, int64_t hidden_layers, int64_t width)
      : in_dim_(in_dim), out_dim_(out_dim), hidden_layers_(hidden_layers), width_(width) {}
  TORCH_ARG(int64_t, in_dim);
  TORCH_ARG(int64_t, out_dim);
  TORCH_ARG(int64_t, hidden_layers);
  TORCH_ARG(int64_t, width);
  TORCH_ARG(std::string, filter) = "fourier";  // "fourier" | "gabor"
  TORCH_ARG(double, input_scale) = 256.0;
  TORCH_ARG(double, weight_scale) = 1.0;
  TORCH_ARG(double, alpha) = 6.0;
  TORCH_ARG(double, beta) = 1.0;
};

class MFNImpl : public FieldImpl {
 public:
  explicit MFNImpl(const MFNOptions& options);
  torch::Tensor forward(torch::Tensor x) override;  // [N, in] -> [N, out]
  nlohmann::json config() const override;
  int64_t in_dim() const override { return options.in_dim(); }
  int64_t out_dim() const override { return options.out_dim(); }

  MFNOptions options;
  std::vector<torch::nn::Linear> filters;  // L + 1 filter projections
  std::vector<torch::Tensor> mus, gammas;  // Gabor only: [width, in], [width]
  std::vector<torch::nn::Linear> linears;  // L hidden layers
  torch::nn::Linear output{nullptr};

 private:
  torch::Tensor filter(size_t i, const torch::Tensor& x);  // [N, in] -> [N, width]
};
TORCH_MODULE(MFN);

class FieldRegistry;
// Adds type "mfn" with its config keys (called by FieldRegistry::global()).
void register_mfn(FieldRegistry& registry);

}  // namespace nf
