#pragma once
// The coordinate MLP of the paper: encoding -> [Linear -> Norm -> ReLU] x hidden_layers -> Linear.
// Covers ReLU, ReLU+{BN,LN,GN,CN}, PE, PE+{BN,LN,GN,CN} (and random Fourier features).
// `hidden_layers` counts the normalised hidden layers (each has its own Linear), so "10x28" is
// Linear(in,28) then 9 x Linear(28,28), each followed by Norm and ReLU, then Linear(28,out).
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "fields/encoding.h"
#include "fields/field.h"

namespace nf {

struct MLPOptions {
  MLPOptions(int64_t in_dim, int64_t out_dim, int64_t hidden_layers, int64_t width)
      : in_dim_(in_dim), out_dim_(out_dim), hidden_layers_(hidden_layers), width_(width) {}
  TORCH_ARG(int64_t, in_dim);
  TORCH_ARG(int64_t, out_dim);
  TORCH_ARG(int64_t, hidden_layers);
  TORCH_ARG(int64_t, width);
  TORCH_ARG(NormKind, norm) = NormKind::None;
  TORCH_ARG(double, norm_eps) = 1e-5;
  TORCH_ARG(double, norm_momentum) = 0.1;
  // Fused CN/GN kernels (NormOptions::fused); false: the reference formulas.
  TORCH_ARG(bool, norm_fused) = true;
  TORCH_ARG(nlohmann::json, encoding) = nlohmann::json{{"type", "none"}};
  // Output activation: "none" or "sigmoid".
  TORCH_ARG(std::string, output_activation) = "none";
};

class MLPImpl : public FieldImpl {
 public:
  explicit MLPImpl(const MLPOptions& options);
  torch::Tensor forward(torch::Tensor x) override;  // [N, in_dim] -> [N, out_dim]
  nlohmann::json config() const override;
  int64_t in_dim() const override { return options.in_dim(); }
  int64_t out_dim() const override { return options.out_dim(); }

  MLPOptions options;
  Encoding encoding{nullptr};
  std::vector<torch::nn::Linear> linears;
  std::vector<Norm> norms;
  torch::nn::Linear output{nullptr};
};
TORCH_MODULE(MLP);

class FieldRegistry;
// Adds type "mlp" with its config keys (called by FieldRegistry::global()).
void register_mlp(FieldRegistry& registry);

}  // namespace nf
