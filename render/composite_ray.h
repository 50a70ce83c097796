#pragma once
// Compositing from alphas: the per-ray math shared by the CPU loop (render/composite.cpp) and the
// CUDA kernels (render/cuda/composite.cu; launchers in render/cuda/composite.h).
// Plain C++ header: no CUDA or torch types (NF_CR_HD expands to __host__ __device__ under nvcc).
//
// For one ray with S samples (alpha_i in [0, 1], colour c_i [C], depth m_i, background b [C]):
//   T_i = prod_{j<i} (1 - alpha_j + eps),  w_i = alpha_i T_i        (NeuS: eps = 1e-7)
//   acc = sum_i w_i,  depth = sum_i w_i m_i,  rgb = sum_i w_i c_i + (1 - acc) b
// Backward: with upstream gradients gC [C], gD, gA, gW_i every output is linear in w, so
//   L = sum_i w_i e_i + const,  e_i = gC.(c_i - b) + gD m_i + gA + gW_i,
//   dL/dalpha_k = T_k (e_k - R_k),  R_k = sum_{i>k} alpha_i e_i prod_{k<j<i} (1 - alpha_j + eps)
//   (the colour composited behind k), by the reverse scan R_{k-1} = alpha_k e_k + (1 - alpha_k + eps) R_k
//   (no division by 1 - alpha_k + eps, exact at alpha = 1);  dL/dc_k = w_k gC.
#include <cstdint>

#if defined(__CUDACC__)
#define NF_CR_HD __host__ __device__ __forceinline__
#else
#define NF_CR_HD inline
#endif

namespace nf {
namespace cr {

// Forward of one ray. alpha [S], rgb [S, C], t [S] (nullptr: no depth), bg [C] (nullptr: 0);
// writes out_rgb [C], *out_depth (when t), *out_acc, out_w [S].
template <typename T>
NF_CR_HD void composite_ray_forward(int64_t S, int64_t C, T eps, const T* alpha, const T* rgb, const T* t,
                                    const T* bg, T* out_rgb, T* out_depth, T* out_acc, T* out_w) {
  for (int64_t c = 0; c < C; ++c) out_rgb[c] = T(0);
  T trans = T(1), depth = T(0), acc = T(0);
  for (int64_t i = 0; i < S; ++i) {
    const T a = alpha[i];
    const T w = a * trans;
    out_w[i] = w;
    for (int64_t c = 0; c < C; ++c) out_rgb[c] += w * rgb[i * C + c];
    if (t) depth += w * t[i];
    acc += w;
    trans *= T(1) - a + eps;
  }
  if (bg)
    for (int64_t c = 0; c < C; ++c) out_rgb[c] += (T(1) - acc) * bg[c];
  if (t) *out_depth = depth;
  *out_acc = acc;
}

// Backward of one ray. Inputs as in composite_ray_forward plus upstream gradients g_rgb [C],
// g_depth (ignored without t), g_acc, g_w [S]. Writes grad_alpha [S] and grad_rgb [S, C]
// (both double as scratch space).
template <typename T>
NF_CR_HD void composite_ray_backward(int64_t S, int64_t C, T eps, const T* alpha, const T* rgb, const T* t,
                                     const T* bg, const T* g_rgb, T g_depth, T g_acc, const T* g_w,
                                     T* grad_alpha, T* grad_rgb) {
  T gb = T(0);
  if (bg)
    for (int64_t c = 0; c < C; ++c) gb += g_rgb[c] * bg[c];
  // Pass 1 (front to back): T_k -> grad_alpha[k], e_k -> grad_rgb[k * C].
  T trans = T(1);
  for (int64_t k = 0; k < S; ++k) {
    T e = g_acc + g_w[k] - gb;
    for (int64_t c = 0; c < C; ++c) e += g_rgb[c] * rgb[k * C + c];
    if (t) e += g_depth * t[k];
    grad_alpha[k] = trans;
    grad_rgb[k * C] = e;
    trans *= T(1) - alpha[k] + eps;
  }
  // Pass 2 (back to front): R_k is the suffix composite behind sample k.
  T R = T(0);
  for (int64_t k = S - 1; k >= 0; --k) {
    const T a = alpha[k], tk = grad_alpha[k], e = grad_rgb[k * C];
    grad_alpha[k] = tk * (e - R);
    R = a * e + (T(1) - a + eps) * R;
    const T w = a * tk;
    for (int64_t c = 0; c < C; ++c) grad_rgb[k * C + c] = w * g_rgb[c];
  }
}

}  // namespace cr
}  // namespace nf
