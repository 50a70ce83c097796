#pragma once
// SIREN (Sitzmann et al. 2020): sin(omega0 * (W x + b)) per hidden layer, plain Linear output.
// Init: first layer U(-1/in, 1/in); later layers and the output U(-sqrt(6/in)/omega0, +...).
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "fields/field.h"

namespace nf {

struct SirenOptions {
  SirenOptions(int64_t in_dim, int64_t out_dim, int64_t hidden_layers, int64_t width)
      : in_dim_(in_dim), out_dim_(out_dim), hidden_layers_(hidden_layers), width_(width) {}
  TORCH_ARG(int64_t, in_dim);
  TORCH_ARG(int64_t, out_dim);
  TORCH_ARG(int64_t, hidden_layers);
  TORCH_ARG(int64_t, width);
  TORCH_ARG(double, omega0) = 30.0;
  TORCH_ARG(double, hidden_omega0) = 30.0;
};

class SirenImpl : public FieldImpl {
 public:
  explicit SirenImpl(const SirenOptions& options);
  torch::Tensor forward(torch::Tensor x) override;  // [N, in] -> [N, out]
  nlohmann::json config() const override;
  int64_t in_dim() const override { return options.in_dim(); }
  int64_t out_dim() const override { return options.out_dim(); }

  SirenOptions options;
  std::vector<torch::nn::Linear> layers;
  torch::nn::Linear output{nullptr};
};
TORCH_MODULE(Siren);

class FieldRegistry;
// Adds type "siren" with its config keys (called by FieldRegistry::global()).
void register_siren(FieldRegistry& registry);

}  // namespace nf
