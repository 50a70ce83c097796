#pragma once
// A coordinate network ("field"): maps a batch of coordinates [N, in_dim] to values [N, out_dim].
// Every field reports the JSON config it was built from (registry.h builds it back), and exposes
// its normalization layers so callers can switch batch/frozen mode or calibrate them.
#include <nlohmann/json.hpp>
#include <torch/nn/module.h>

#include <memory>
#include <vector>

#include "fields/norm.h"

namespace nf {

class FieldImpl : public torch::nn::Module {
 public:
  // x: [N, in_dim] -> [N, out_dim]
  virtual torch::Tensor forward(torch::Tensor x) = 0;
  // The JSON that rebuilds this field with make_field() (same architecture, fresh weights).
  virtual nlohmann::json config() const = 0;
  virtual int64_t in_dim() const = 0;
  virtual int64_t out_dim() const = 0;

  // All normalization layers, in forward order.
  std::vector<std::shared_ptr<NormImpl>> norm_layers();
  // True when any layer's output depends on the other samples of its batch (BN, GN, CN in batch mode).
  bool batch_dependent();
  void set_norm_mode(NormMode mode);
  // Exact calibration of every norm layer's frozen statistics on x [N, in_dim] (one batch-mode pass
  // in chunks of `chunk` rows, pooled; chunk <= 0 means one pass), then switch to frozen mode.
  void calibrate(const torch::Tensor& x, int64_t chunk = 0);
  // Number of trainable scalars (for bpp).
  int64_t num_parameters();
};
using Field = std::shared_ptr<FieldImpl>;

// Evaluates a field on many points in chunks without building a graph. With batch-dependent norms
// in batch mode the result depends on the chunking; use frozen mode (or chunk = N) for that.
// x: [N, in_dim] -> [N, out_dim]
torch::Tensor evaluate_chunked(FieldImpl& field, const torch::Tensor& x, int64_t chunk);

}  // namespace nf
