#pragma once
// NeuS's networks (Wang et al. 2021, the reference's womask/wmask configs) as one Field, with
// optional normalization layers in the SDF network (the paper adds CN to NeuS).
//
//   SDF network:   in  = cat(x, sin(2^k x), cos(2^k x)) k < multires        [N, 3 + 6 multires]
//                  for l in 0..sdf_depth-1:  (skip > 0, l == skip: h = cat(h, in) / sqrt(2))
//                      h = Softplus_100(Norm_l(Linear_l(h)))               (width sdf_width; the
//                                           Linear before the skip outputs sdf_width - in_dim)
//                  out = Linear_out(h) [N, 1 + feature_dim];  sdf = out[:, 0] / scale, feature = rest
//                  (input x is multiplied by `scale` first)
//   colour (IDR):  cat(x, PE_multires_view(d) (raw d kept), n = grad_x sdf, feature)
//                  -> color_depth x [Linear, ReLU] (width color_width) -> Linear -> sigmoid   [N, 3]
//   variance:      inv_s = exp(10 * variance), variance init 0.3                           [1]
// Every Linear is weight-normalised (fields/weight_norm.h) unless weight_norm = false.
//
// Geometric init (Atzmon & Lipman's SAL, as the reference): hidden weights N(0, 2 / out), biases 0;
// the first layer's PE columns and the skip layer's PE columns 0; output weights
// N(sqrt(pi) / sqrt(width), 1e-4), output bias -bias. Without a norm the initial SDF is close to
// |x| - bias (full config, measured: mean |sdf - (|x| - 0.5)| = 0.08 over [-1, 1]^3; the zero level
// set along rays from the origin at radius 0.45 +- 11%).
// With a norm in place the reference init breaks: each norm rescales (BN/GN/CN also recentre) every
// layer's pre-activations to O(1), so the positive output weights sum O(1) activations: the initial
// SDF is +1..+19 everywhere in the unit ball (no zero level set at all, and sigmoid(inv_s sdf)
// saturates, so NeuS's alpha has almost no gradient). norm_init = "refit" therefore
// re-fits the SDF output row's scale and bias by least squares to |x| - bias on 4096 uniform points
// of the unit ball (their batch statistics): measured, GN then has a near-sphere again (all rays cross,
// radius 0.41 +- 18%); BN, LN and CN keep almost no radial structure after 8 normalised layers (LN
// makes layer 1 invariant to |x|), so their refit SDF is nearly the constant mean(|x| - 0.5) ~ +0.25
// (max |sdf| < 0.7, no or few crossings): no sphere, but O(1) values from which training builds the
// surface. norm_init = "identity" (the default since 2026-11-30: on the bunny it takes
// neus_small_cn from 2.89 % to 1.34 % chamfer, docs/results-neus.md) sets each norm's affine
// (gamma, beta) by per-channel least squares so that the norm returns its input on the init's sample (layer by layer) and keeps the
// reference's output row (no refit: a refit would move the zero level set of the lumpy small-preset
// sphere from radius 0.67 to 0.27): BN and GN then start as the norm-free network (its sphere, exactly); CN and
// LN, whose per-sample statistics no per-channel affine can undo, only approximately (small preset:
// CN gets a lumpy sphere, LN none). tests/fields/test_neus.cpp (InitialZeroLevelSetPerNorm) prints
// these numbers.
//
// Norm placement: Norm_l sits after each hidden Linear of the SDF network, before Softplus (as
// fields/mlp.h); the output Linear and the colour network have none. T = the points of the batch,
// C = the layer's width.
//
// Gradients grad_x sdf (normals, eikonal term), `gradient_mode`:
//  - "per_point" (default): the derivative of the field that this batch's statistics define: a
//    batch-mode pass keeps each norm's batch statistics (Norm::keep_batch_stats), then the SDF is
//    evaluated again with them held fixed (Norm::forward_kept, same values) on a copy of x that
//    requires grad, and differentiated. A point's normal then depends only on its own position
//    (and the statistics), not on the other points. The kept statistics keep their graph to the
//    weights, so d(eikonal)/d(weights) includes how the statistics move with the weights. Without
//    batch-dependent norms (none, LN, or frozen mode) this is plain autograd.
//  - "autograd": plain autograd through the batch-mode forward: d/dx_i of sum_j sdf(x_j), which
//    also counts x_i's effect on the batch statistics and through them on every other point's SDF
//    (an O(1/T) coupling per point; not the derivative of any fixed field).
#include <utility>

#include "fields/field.h"
#include "fields/weight_norm.h"

namespace nf {

enum class GradientMode { PerPoint, Autograd };
GradientMode gradient_mode_from_string(const std::string& s);  // "per_point" | "autograd"
std::string to_string(GradientMode m);

struct NeuSOptions {
  TORCH_ARG(int64_t, sdf_depth) = 8;    // hidden layers of the SDF network
  TORCH_ARG(int64_t, sdf_width) = 256;
  TORCH_ARG(int64_t, skip) = 4;         // concatenate the input before Linear_skip (0: none)
  TORCH_ARG(int64_t, multires) = 6;     // PE octaves of x (0: raw x only)
  TORCH_ARG(int64_t, feature_dim) = 256;
  TORCH_ARG(double, bias) = 0.5;        // geometric init: sphere radius
  TORCH_ARG(double, scale) = 1.0;
  TORCH_ARG(bool, geometric_init) = true;
  TORCH_ARG(bool, weight_norm) = true;
  TORCH_ARG(int64_t, color_depth) = 4;
  TORCH_ARG(int64_t, color_width) = 256;
  TORCH_ARG(int64_t, multires_view) = 4;
  TORCH_ARG(double, init_variance) = 0.3;
  TORCH_ARG(NormKind, norm) = NormKind::None;
  TORCH_ARG(double, norm_eps) = 1e-5;
  TORCH_ARG(double, norm_momentum) = 0.0;  // running estimate off: meshing/rendering calibrate
  TORCH_ARG(bool, norm_fused) = true;
  TORCH_ARG(GradientMode, gradient_mode) = GradientMode::PerPoint;
  // With a norm and geometric_init: "identity" (default): each norm's affine undoes its statistics
  // on 4096 uniform points of the unit ball, output row as in the reference (no refit); "refit":
  // re-fits the SDF output row's scale (weight-norm g) and bias by least squares so that
  // sdf ~ |x| - bias on those points (their batch statistics); "reference": the reference init
  // unchanged. See above.
  TORCH_ARG(std::string, norm_init) = "identity";
};

class NeuSImpl : public FieldImpl {
 public:
  explicit NeuSImpl(const NeuSOptions& options);

  // x: [N, 3] -> cat(sdf, feature) [N, 1 + feature_dim]
  torch::Tensor sdf_and_feature(const torch::Tensor& x);
  // x: [N, 3] -> [N]
  torch::Tensor sdf(const torch::Tensor& x);
  struct SdfGrad {
    torch::Tensor sdf;       // [N]
    torch::Tensor feature;   // [N, feature_dim]
    torch::Tensor gradient;  // [N, 3]
  };
  // SDF and feature of a batch (a batch-mode forward, gradients to the weights as the grad mode
  // says) and grad_x sdf by `gradient_mode` (see above). create_graph: the gradient can itself be
  // differentiated (eikonal loss); otherwise all three are returned detached when grad mode is off.
  // x: [N, 3]
  SdfGrad sdf_feature_gradient(const torch::Tensor& x, bool create_graph);
  // As sdf_feature_gradient, for the field the kept statistics define (see keep_batch_stats): every
  // norm uses Norm::forward_kept, so each point's values and gradient depend only on its own
  // position (and the kept statistics, whose graph to the weights stays). x: [N, 3]
  SdfGrad sdf_feature_gradient_kept(const torch::Tensor& x, bool create_graph);
  // x: [N, 3] -> grad_x sdf [N, 3]
  torch::Tensor gradient(const torch::Tensor& x, bool create_graph = false);
  // points, dirs (unit view directions), normals: [N, 3]; feature: [N, feature_dim] -> rgb [N, 3]
  torch::Tensor color(const torch::Tensor& points, const torch::Tensor& dirs, const torch::Tensor& normals,
                      const torch::Tensor& feature);
  torch::Tensor inv_s() const;  // [1]

  // Evaluating several point sets with the statistics of the first (NeuS's up-sampling): with
  // keep_batch_stats(true) a batch-mode forward keeps every norm's statistics; sdf_kept(x) then
  // evaluates the field those statistics define (Norm::forward_kept), per point. Without norms: sdf(x).
  void keep_batch_stats(bool on);
  torch::Tensor sdf_kept(const torch::Tensor& x);  // [N, 3] -> [N]
  void release_kept_stats();  // drops the kept statistics (and their graph)

  // As a Field: x [N, 3] -> sdf [N, 1].
  torch::Tensor forward(torch::Tensor x) override;
  nlohmann::json config() const override;
  int64_t in_dim() const override { return 3; }
  int64_t out_dim() const override { return 1; }
  int64_t sdf_input_dim() const { return 3 + 6 * options.multires(); }
  int64_t view_input_dim() const { return 3 + 6 * options.multires_view(); }

  NeuSOptions options;
  std::vector<WNLinear> sdf_layers;    // sdf_depth hidden + 1 output
  std::vector<Norm> sdf_norms;         // empty when norm == none
  std::vector<WNLinear> color_layers;  // color_depth hidden + 1 output
  torch::Tensor variance;              // [1]

 private:
  // x: [N, 3] -> last hidden activation [N, width]; kept: norms use forward_kept.
  torch::Tensor hidden(const torch::Tensor& x, bool kept);
  void geometric_init();
  void refit_sdf_output();
  void identity_norm_init();
};
TORCH_MODULE(NeuS);

// cat(x, sin(2^k x), cos(2^k x) for k < octaves): [N, D] -> [N, D (1 + 2 octaves)] (NeuS's embedder:
// frequencies 2^k without pi, per octave sin of all coordinates, then cos).
torch::Tensor neus_embed(const torch::Tensor& x, int64_t octaves);

// Field config of a preset: "full" (the reference: 8 x 256 SDF, 4 x 256 colour, PE 6/4) or "small"
// (CPU-sized, see docs/results-neus.md), with `norm`.
nlohmann::json neus_config(const std::string& preset, const std::string& norm = "none");

class FieldRegistry;
// Adds type "neus" (called by FieldRegistry::global()).
void register_neus(FieldRegistry& registry);

}  // namespace nf
