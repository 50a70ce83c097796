#pragma once
// WIRE (Saragadam et al. 2023): complex Gabor wavelet activation
//   psi(z) = exp(i * omega * z - |s * z|^2),  z = W x + b (complex after the first layer),
// omega = 20, s = 10 by default; output = Re(Linear_complex(h)). As in the official code the hidden
// width is divided by sqrt(2) so the real parameter count matches a real MLP of the same width.
// Complex weights are stored as real/imag parameter pairs (so any real optimiser works).
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "fields/field.h"

namespace nf {

struct WireOptions {
  WireOptions(int64_t in_dim, int64_t out_dim, int64_t hidden_layers, int64_t width)
      : in_dim_(in_dim), out_dim_(out_dim), hidden_layers_(hidden_layers), width_(width) {}
  TORCH_ARG(int64_t, in_dim);
  TORCH_ARG(int64_t, out_dim);
  TORCH_ARG(int64_t, hidden_layers);
  TORCH_ARG(int64_t, width);
  TORCH_ARG(double, omega) = 20.0;
  TORCH_ARG(double, scale) = 10.0;
};

class WireImpl : public FieldImpl {
 public:
  explicit WireImpl(const WireOptions& options);
  torch::Tensor forward(torch::Tensor x) override;  // [N, in] -> [N, out]
  nlohmann::json config() const override;
  int64_t in_dim() const override { return options.in_dim(); }
  int64_t out_dim() const override { return options.out_dim(); }
  int64_t hidden_width() const { return hidden_width_; }

  WireOptions options;

 private:
  struct Layer {
    torch::Tensor wr, wi, br, bi;  // [out, in], [out, in], [out], [out]
  };
  Layer make_layer(const std::string& name, int64_t in, int64_t out, bool complex_in);
  std::vector<Layer> layers_;
  Layer output_;
  int64_t hidden_width_;
};
TORCH_MODULE(Wire);

class FieldRegistry;
// Adds type "wire" with its config keys (called by FieldRegistry::global()).
void register_wire(FieldRegistry& registry);

}  // namespace nf
