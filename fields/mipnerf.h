#pragma once
// The mip-NeRF MLP (Barron et al. 2021) with optional normalization layers (the paper inserts CN).
//
//   trunk:  x0 = IPE features [M, 6 L] (L levels, no identity)
//           for i in 0..depth-1:  x = ReLU(Norm_i(Linear_i(x)));  if skip > 0, i > 0, i % skip == 0:
//                                 x = cat(x, x0)                   (mip-NeRF: after layer 4 of 8)
//   density = softplus(Linear_sigma(x) + density_bias)             (density_bias = -1)
//   view:   h = cat(Linear_bottleneck(x) (no activation), viewdir_enc [M, 27])
//           for j in 0..view_depth-1: h = ReLU([Norm_view_j](Linear_view_j(h)))   (width view_width)
//   rgb     = sigmoid(Linear_rgb(h)) * (1 + 2 p) - p               (p = rgb_padding = 0.001)
// Norm_i (kind `norm`) sits between every trunk Linear and its ReLU; the view layers get one only
// with norm_view = true. Heads (density, bottleneck, rgb) are plain Linears. Weights are Glorot
// uniform, biases zero (flax Dense defaults, as mip-NeRF). One network serves the coarse and the fine
// pass (mip-NeRF shares it).
//
// Per-pass frozen statistics: in training each pass normalises with its own batch statistics
// (coarse samples are spread over [near, far], fine ones concentrate at surfaces). calibrate_nerf()
// therefore records frozen statistics for each pass separately: the norm layers' own buffers hold the
// fine-pass statistics, the `coarse_*` buffers of this module the coarse-pass ones, swapped in during
// forward_nerf(..., NerfPass::Coarse) in frozen mode. See docs/nerf.md.
//
// As a Field: forward() takes the packed input cat(ipe, viewdir_enc) [M, in_dim()] and returns
// cat(rgb, density) [M, 4] (fine-pass statistics), so config/registry/checkpoints work as for any field.
#include <torch/nn/modules/linear.h>

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "fields/field.h"

namespace nf {

enum class NerfPass { Coarse, Fine };

struct MipNeRFOptions {
  TORCH_ARG(int64_t, depth) = 8;
  TORCH_ARG(int64_t, width) = 256;
  TORCH_ARG(int64_t, skip) = 4;        // concatenate the input after layer i when i > 0, i % skip == 0
  TORCH_ARG(NormKind, norm) = NormKind::None;
  TORCH_ARG(double, norm_eps) = 1e-5;
  TORCH_ARG(double, norm_momentum) = 0.0;  // running estimate off: rendering calibrates (see above)
  TORCH_ARG(bool, norm_fused) = true;
  TORCH_ARG(bool, norm_view) = false;  // also normalise the view-branch layers
  TORCH_ARG(int64_t, view_width) = 128;
  TORCH_ARG(int64_t, view_depth) = 1;
  TORCH_ARG(int64_t, ipe_min_deg) = 0;
  TORCH_ARG(int64_t, ipe_max_deg) = 16;
  TORCH_ARG(int64_t, view_max_deg) = 4;  // pos_enc(viewdirs, 0..view_max_deg, identity)
  TORCH_ARG(double, density_bias) = -1.0;
  TORCH_ARG(double, rgb_padding) = 0.001;
};

class MipNeRFImpl : public FieldImpl {
 public:
  explicit MipNeRFImpl(const MipNeRFOptions& options);

  // ipe: [M, ipe_dim()], viewdir_enc: [M, view_dim()] -> {density [M] >= 0, rgb [M, 3]}
  std::pair<torch::Tensor, torch::Tensor> forward_nerf(const torch::Tensor& ipe, const torch::Tensor& viewdir_enc,
                                                       NerfPass pass = NerfPass::Fine);
  // Packed: x [M, ipe_dim() + view_dim()] -> cat(rgb, density) [M, 4] (fine-pass statistics).
  torch::Tensor forward(torch::Tensor x) override;
  nlohmann::json config() const override;
  int64_t in_dim() const override { return ipe_dim() + view_dim(); }
  int64_t out_dim() const override { return 4; }
  int64_t ipe_dim() const { return 6 * (options.ipe_max_deg() - options.ipe_min_deg()); }
  int64_t view_dim() const { return 3 + 6 * options.view_max_deg(); }

  // Exact per-pass calibration: run `coarse_pass` (which must call forward_nerf(.., Coarse) on one
  // training-size batch) with every norm layer calibrating, store the result as the coarse statistics;
  // then the same for `fine_pass`; switch to frozen mode. Each pass may call forward_nerf several times
  // (pooled); CN's reference batch size is then set to rows_per_call (the training batch's rows) when
  // rows_per_call > 0. Runs without gradients.
  void calibrate_nerf(const std::function<void()>& coarse_pass, const std::function<void()>& fine_pass,
                      int64_t coarse_rows_per_call = 0, int64_t fine_rows_per_call = 0);
  // True when calibrate_nerf() (or a checkpoint holding its result) set per-pass statistics.
  bool has_pass_stats() const;

  MipNeRFOptions options;
  std::vector<torch::nn::Linear> trunk;
  std::vector<Norm> trunk_norms;  // empty when norm == none
  torch::nn::Linear density_head{nullptr}, bottleneck{nullptr}, rgb_head{nullptr};
  std::vector<torch::nn::Linear> view_layers;
  std::vector<Norm> view_norms;   // empty unless norm_view
  // Coarse-pass frozen statistics, one triple per norm layer (in norm_layers() order).
  std::vector<torch::Tensor> coarse_mean, coarse_var, coarse_count;
  torch::Tensor pass_stats;  // [1]: 1 when per-pass statistics are set

 private:
  std::vector<Norm> all_norms() const;
  void swap_coarse_stats();  // exchanges each norm's frozen buffers with the coarse_* buffers
};
TORCH_MODULE(MipNeRF);

// The mip-NeRF field config of a preset: "full" (8 x 256, view 128, as the paper) or "small"
// (4 x 64, skip 2, view 32: CPU-sized), with `norm` ("none", "bn", "ln", "gn", "cn").
nlohmann::json mipnerf_config(const std::string& preset, const std::string& norm = "none");

class FieldRegistry;
// Adds type "mipnerf" (called by FieldRegistry::global() with the other built-in types).
void register_mipnerf(FieldRegistry& registry);

}  // namespace nf
