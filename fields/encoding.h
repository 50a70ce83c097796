#pragma once
// Input encodings for coordinate networks.
//  - PositionalEncoding: the reference log-linear PE. Frequencies 2^k * pi for k = 0..octaves-1,
//    raw coordinate kept first, then per octave [sin(f x_0..x_d), cos(f x_0..x_d)], i.e. for 2-D
//    [x, y, sin x, sin y, cos x, cos y, sin 2x, ...].
//  - FourierFeatures: Gaussian random Fourier features (Tancik et al.): B ~ N(0, sigma^2) of shape
//    [in_dim, features]; output [cos(2 pi x B), sin(2 pi x B)].
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include <memory>

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

class PositionalEncodingImpl : public EncodingImpl {
 public:
  PositionalEncodingImpl(int64_t in_dim, int64_t octaves = 10, bool include_input = true);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_dim() const override { return (include_input_ ? in_dim_ : 0) + 2 * in_dim_ * octaves_; }
  nlohmann::json config() const override;

 private:
  int64_t in_dim_, octaves_;
  bool include_input_;
};

class FourierFeaturesImpl : public EncodingImpl {
 public:
  FourierFeaturesImpl(int64_t in_dim, int64_t features = 256, double sigma = 10.0);
  torch::Tensor forward(const torch::Tensor& x) override;
  int64_t out_dim() const override { return 2 * features_; }
  nlohmann::json config() const override;
  torch::Tensor B;  // [in_dim, features] buffer (saved with the model)

 private:
  int64_t in_dim_, features_;
  double sigma_;
};

// {"type": "none"} | {"type": "pe", "octaves": 10, "include_input": true}
// | {"type": "rff", "features": 256, "sigma": 10}
Encoding make_encoding(const nlohmann::json& cfg, int64_t in_dim);

}  // namespace nf
