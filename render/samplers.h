#pragma once
// Sampling of ray parameters t for volume rendering (mip-NeRF conventions).
//
// Samplers return n + 1 sorted interval EDGES per ray, so consecutive pairs bound the conical
// frustums that mip-NeRF integrates over (and the intervals volume_render composites).
// Randomness comes from `gen` (an undefined at::Generator means torch's default generator).
#include <ATen/ATen.h>

#include "render/rays.h"

namespace nf {

// Stratified samples between rays.near and rays.far -> t_vals [N, n_samples + 1], sorted.
// randomized=false: evenly spaced edges. randomized=true: each edge jittered uniformly within its
// stratum (mip-NeRF: between the neighbouring mid-points; the first/last edge within half a bin of
// near/far). lindisp: space linearly in disparity (1/t) instead of depth.
at::Tensor sample_stratified(const Rays& rays, int64_t n_samples, bool randomized,
                             at::Generator gen = {}, bool lindisp = false);

// Hierarchical (importance) resampling, mip-NeRF's resample_along_rays:
//   weights are blurred (max-pool of width 2, then a 2-tap average), `padding` is added, and
//   n_samples + 1 new edges are drawn from the piecewise-constant pdf over the intervals of t_vals.
// t_vals:  [N, n + 1] sorted interval edges
// weights: [N, n]     per-interval weights (e.g. RenderOutput::weights of the coarse pass)
// -> [N, n_samples + 1] sorted, within [t_vals[:, 0], t_vals[:, -1]], no gradient (stop-grad).
// randomized=false: the deterministic quantiles u = linspace(0, 1 - eps, n_samples + 1).
at::Tensor sample_pdf(const at::Tensor& t_vals, const at::Tensor& weights, int64_t n_samples,
                      bool randomized, at::Generator gen = {}, double padding = 0.01);

// Inverse-CDF sampling from a piecewise-constant pdf (mip-NeRF sorted_piecewise_constant_pdf).
// bins: [N, n + 1] sorted edges; weights: [N, n] >= 0 -> [N, n_draws] sorted samples.
at::Tensor sorted_piecewise_constant_pdf(const at::Tensor& bins, const at::Tensor& weights,
                                         int64_t n_draws, bool randomized, at::Generator gen = {});

}  // namespace nf
