#pragma once
// Volume rendering by alpha compositing along rays (NeRF / mip-NeRF).
//
//   delta_i = (t_{i+1} - t_i) * |dir|,  alpha_i = 1 - exp(-sigma_i delta_i)
//   T_i = exp(-sum_{j<i} sigma_j delta_j),  w_i = T_i alpha_i
//   rgb = sum_i w_i c_i + (1 - acc) bg,  acc = sum_i w_i,  depth = sum_i w_i (t_i + t_{i+1}) / 2
//
// Two implementations with identical results:
//  - volume_render_reference: tensor ops, autograd through everything (the test oracle).
//  - volume_render_fused: one pass per ray (CPU at::parallel_for loop, or a CUDA kernel with one
//    thread per ray) with a hand-written backward (gradients w.r.t. density, rgb and bg; t_vals and
//    dirs are constants). volume_render() is the fused one.
// The compositing step is composite() (render/composite.h) with alpha_i = 1 - exp(-sigma_i delta_i)
// and eps = 0; this fused op keeps the transmittance as exp(-sum sigma delta) (no product of
// 1 - alpha, more accurate for large densities) and differentiates w.r.t. sigma directly.
#include <ATen/ATen.h>

#include "render/composite.h"  // RenderOutput

namespace nf {

// density: [N, S] >= 0 (after the activation)
// rgb:     [N, S, 3]
// t_vals:  [N, S + 1] sorted interval edges
// dirs:    [N, 3] ray directions (delta is scaled by their norm)
// bg:      [3] or [N, 3] background colour
// All on one device, one dtype (float32 or float64).
RenderOutput volume_render(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t_vals,
                           const at::Tensor& dirs, const at::Tensor& bg);

// Tensor-op reference (any device/dtype, gradients to every input by autograd).
RenderOutput volume_render_reference(const at::Tensor& density, const at::Tensor& rgb,
                                     const at::Tensor& t_vals, const at::Tensor& dirs,
                                     const at::Tensor& bg);

// Fused forward + hand-written backward; the single CPU/CUDA dispatch point. Throws when t_vals or
// dirs require a gradient (use the reference for that).
RenderOutput volume_render_fused(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t_vals,
                                 const at::Tensor& dirs, const at::Tensor& bg);

// mip-NeRF's distance: depth / acc, rays with acc = 0 get far, clipped to [t_vals[:, 0], t_vals[:, -1]].
// t_vals: [N, S + 1] -> [N]
at::Tensor normalized_depth(const RenderOutput& out, const at::Tensor& t_vals);

}  // namespace nf
