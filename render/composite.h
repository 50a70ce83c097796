#pragma once
// Compositing along rays from per-sample opacities (alphas): the op NeuS renders with, and the last
// step of NeRF's volume rendering (alpha = 1 - exp(-sigma delta), eps = 0, see volume_render.h).
//
//   T_i = prod_{j<i} (1 - alpha_j + eps),  w_i = alpha_i T_i        (eps = 1e-7 as in NeuS)
//   acc = sum_i w_i,  depth = sum_i w_i t_i,  rgb = sum_i w_i c_i + (1 - acc) bg
//
// Three implementations with identical results:
//  - composite_reference: tensor ops, autograd through everything (the test oracle);
//  - composite_fused: one pass per ray (CPU at::parallel_for loop, or a CUDA kernel with one thread
//    per ray, math in render/composite_ray.h) with a hand-written backward: gradients w.r.t. alpha,
//    rgb, bg and t (dL/dt_i = gD w_i). This is the single CPU/CUDA dispatch point;
//  - composite(): the fused one.
#include <ATen/ATen.h>

namespace nf {

constexpr double kNeusAlphaEps = 1e-7;  // NeuS: T_i = prod (1 - alpha_j + 1e-7)

struct RenderOutput {
  at::Tensor rgb;      // [N, C] composited colour, background included
  at::Tensor depth;    // [N] sum_i w_i t_i (unnormalised: the background contributes t = 0;
                       //     normalized_depth() gives the expected depth of the hit); undefined when
                       //     composite() got no t
  at::Tensor acc;      // [N] opacity sum_i w_i (<= 1)
  at::Tensor weights;  // [N, S] w_i
};

// alpha: [N, S] per-sample opacity in [0, 1] (not checked: values outside give meaningless weights)
// rgb:   [N, S, C] per-sample colour (any C >= 1: colour, normals, features)
// t:     [N, S] per-sample depth (e.g. interval mid-points), or undefined: no depth output
// bg:    [C] or [N, C] background, or undefined: 0
// All defined inputs on one device, one dtype (float32 or float64). Errors: one line naming the
// function and the argument.
RenderOutput composite(const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t = {},
                       const at::Tensor& bg = {}, double eps = kNeusAlphaEps);

// Tensor-op reference (any device/dtype, gradients to every input by autograd).
RenderOutput composite_reference(const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t = {},
                                 const at::Tensor& bg = {}, double eps = kNeusAlphaEps);

// Fused forward + hand-written backward (CPU loop or CUDA kernel).
RenderOutput composite_fused(const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t = {},
                             const at::Tensor& bg = {}, double eps = kNeusAlphaEps);

}  // namespace nf
