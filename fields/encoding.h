#pragma once
// Input encodings for coordinate networks.
//  - PositionalEncoding: the reference log-linear PE. Frequencies 2^k * pi for k = 0..octaves-1,
//    raw coordinate kept first, then per octave [sin(f x_0..x_d), cos(f x_0..x_d)], i.e. for 2-D
//    [x, y, sin x, sin y, cos x, cos y, sin 2x, ...].
//  - FourierFeatures: Gaussian random Fourier features (Tancik et al.): B ~ N(0, sigma^2) of shape
//    [in_dim, features]; output [cos(2 pi x B), sin(2 pi x B)].
//
// Each encoding has Options + Impl (+ TORCH_MODULE) and is built from JSON through the encoding
// registry ({"type": ..., keys}); its builder and its config keys are registered next to its
// definition (encoding.cpp), the defaults written once, in its Options.
#include <nlohmann/json.hpp>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace nf {

class EncodingImpl : public torch::nn::Module {
 public:
  // x: [N, in_dim] -> [N, out_dim()]
  virtual torch::Tensor forward(const torch::Tensor& x) = 0;
  virtual int64_t out_dim() const = 0;
  virtual nlohmann::json config() const = 0;
};
using Encoding = std::shared_ptr<EncodingImpl>;

class IdentityEncodingImpl : public EncodingImpl {
 public:
  explicit IdentityEncodingImpl(int64_t in_dim) : in_dim_(in_dim) {}
  torch::Tensor forward(const torch::Tensor& x) override { return x; }
  int64_t out_dim() const override { return in_dim_; }
  nlohmann::json config() const override { return {{"type", "none"}}; }

 private:
  int64_t in_dim_;
};

struct PositionalEncodingOptions {
  explicit PositionalEncodingOptions(int64_t in_dim) : in_dim_(in_dim) {}
  TORCH_ARG(int64_t, in_dim);            // from the field, not a config key
  TORCH_ARG(int64_t, octaves) = 10;      // >= 0
  TORCH_ARG(bool, include_input) = true;
};

class PositionalEncodingImpl : public EncodingImpl {
 public:
  explicit PositionalEncodingImpl(const PositionalEncodingOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_dim() const override {
    return (options.include_input() ? options.in_dim() : 0) + 2 * options.in_dim() * options.octaves();
  }
  nlohmann::json config() const override;

  PositionalEncodingOptions options;
};
TORCH_MODULE(PositionalEncoding);

struct FourierFeaturesOptions {
  explicit FourierFeaturesOptions(int64_t in_dim) : in_dim_(in_dim) {}
  TORCH_ARG(int64_t, in_dim);          // from the field, not a config key
  TORCH_ARG(int64_t, features) = 256;  // > 0
  TORCH_ARG(double, sigma) = 10.0;
};

class FourierFeaturesImpl : public EncodingImpl {
 public:
  explicit FourierFeaturesImpl(const FourierFeaturesOptions& options);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_dim() const override { return 2 * options.features(); }
  nlohmann::json config() const override;

  FourierFeaturesOptions options;
  torch::Tensor B;  // [in_dim, features] buffer (saved with the model)
};
TORCH_MODULE(FourierFeatures);

// Builds an encoding of `in_dim` inputs from its config (checked against the registered keys).
using EncodingBuilder = std::function<Encoding(const nlohmann::json& cfg, int64_t in_dim)>;

class EncodingRegistry {
 public:
  static EncodingRegistry& global();  // holds the built-in types: none, pe, rff
  // `keys`: the config keys this type accepts (besides "type").
  void add(const std::string& type, std::vector<std::string> keys, EncodingBuilder builder);
  Encoding make(const nlohmann::json& cfg, int64_t in_dim) const;
  std::vector<std::string> types() const;

 private:
  struct Entry {
    std::vector<std::string> keys;
    EncodingBuilder builder;
  };
  std::map<std::string, Entry> entries_;
};

// {"type": "none"} | {"type": "pe", "octaves": 10, "include_input": true}
// | {"type": "rff", "features": 256, "sigma": 10}; null is "none". Unknown types and keys are a
// ConfigError listing the valid ones.
Encoding make_encoding(const nlohmann::json& cfg, int64_t in_dim);

}  // namespace nf
