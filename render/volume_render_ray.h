#pragma once
// Fused volume rendering: the per-ray math shared by the CPU loop (render/volume_render.cpp) and
// the CUDA kernels (render/cuda/volume_render.cu; launchers in render/cuda/volume_render.h).
// Plain C++ header: no CUDA or torch types (NF_VR_HD expands to __host__ __device__ under nvcc).
//
// For one ray with S samples (sigma_i >= 0, colour c_i, edges t_0..t_S, direction d, background b):
//   delta_i = (t_{i+1} - t_i) |d|,  s_i = sigma_i delta_i,  T_i = exp(-sum_{j<i} s_j)
//   alpha_i = 1 - exp(-s_i),  w_i = T_i alpha_i,  acc = sum w_i,  depth = sum w_i (t_i + t_{i+1}) / 2
//   rgb = sum w_i c_i + (1 - acc) b
// Backward: with upstream gradients gC [3], gD, gA, gW_i, every output is linear in w, so
//   L = sum_i w_i e_i + const,  e_i = gC.(c_i - b) + gD m_i + gA + gW_i,
//   dL/ds_k = T_{k+1} e_k - sum_{i>k} w_i e_i   (as w_k = T_k - T_{k+1}),
//   dL/dsigma_k = delta_k dL/ds_k,  dL/dc_k = w_k gC.
// The suffix sums come from a reverse scan (as in instant-ngp / nerfacc), without cancellation.
#include <math.h>

#include <cstdint>

#if defined(__CUDACC__)
#define NF_VR_HD __host__ __device__ __forceinline__
#else
#define NF_VR_HD inline
#endif

namespace nf {
namespace vr {

NF_VR_HD float vr_exp(float x) { return expf(x); }
NF_VR_HD double vr_exp(double x) { return exp(x); }
NF_VR_HD float vr_sqrt(float x) { return sqrtf(x); }
NF_VR_HD double vr_sqrt(double x) { return sqrt(x); }

// Forward of one ray. density [S], rgb [S, 3], t [S + 1], dir [3], bg [3] (contiguous);
// writes out_rgb [3], *out_depth, *out_acc, out_w [S].
template <typename T>
NF_VR_HD void render_ray_forward(int64_t S, const T* density, const T* rgb, const T* t, const T* dir,
                                 const T* bg, T* out_rgb, T* out_depth, T* out_acc, T* out_w) {
  const T dnorm = vr_sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  T csum = 0;  // sum_{j<i} s_j
  T r = 0, g = 0, b = 0, depth = 0, acc = 0;
  for (int64_t i = 0; i < S; ++i) {
    const T s = density[i] * ((t[i + 1] - t[i]) * dnorm);
    const T w = vr_exp(-csum) * (T(1) - vr_exp(-s));
    out_w[i] = w;
    r += w * rgb[3 * i + 0];
    g += w * rgb[3 * i + 1];
    b += w * rgb[3 * i + 2];
    depth += w * (T(0.5) * (t[i] + t[i + 1]));
    acc += w;
    csum += s;
  }
  out_rgb[0] = r + (T(1) - acc) * bg[0];
  out_rgb[1] = g + (T(1) - acc) * bg[1];
  out_rgb[2] = b + (T(1) - acc) * bg[2];
  *out_depth = depth;
  *out_acc = acc;
}

// Backward of one ray. Inputs as in render_ray_forward plus upstream gradients g_rgb [3], g_depth,
// g_acc, g_w [S]. Writes grad_density [S] and grad_rgb [S, 3] (grad_rgb doubles as scratch space).
template <typename T>
NF_VR_HD void render_ray_backward(int64_t S, const T* density, const T* rgb, const T* t, const T* dir,
                                  const T* bg, const T* g_rgb, T g_depth, T g_acc, const T* g_w,
                                  T* grad_density, T* grad_rgb) {
  const T dnorm = vr_sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
  const T gb = g_rgb[0] * bg[0] + g_rgb[1] * bg[1] + g_rgb[2] * bg[2];
  // Pass 1 (front to back): T_{k+1} e_k -> grad_density; w_k e_k, w_k -> scratch in grad_rgb.
  T csum = 0;
  for (int64_t k = 0; k < S; ++k) {
    const T s = density[k] * ((t[k + 1] - t[k]) * dnorm);
    const T trans = vr_exp(-csum);
    const T trans_next = vr_exp(-(csum + s));
    const T w = trans * (T(1) - vr_exp(-s));
    const T e = g_rgb[0] * rgb[3 * k] + g_rgb[1] * rgb[3 * k + 1] + g_rgb[2] * rgb[3 * k + 2] - gb +
                g_depth * (T(0.5) * (t[k] + t[k + 1])) + g_acc + g_w[k];
    grad_density[k] = trans_next * e;
    grad_rgb[3 * k + 0] = w * e;
    grad_rgb[3 * k + 1] = w;
    csum += s;
  }
  // Pass 2 (back to front): subtract the suffix sum sum_{i>k} w_i e_i, chain through delta_k.
  T suffix = 0;
  for (int64_t k = S - 1; k >= 0; --k) {
    const T delta = (t[k + 1] - t[k]) * dnorm;
    const T we = grad_rgb[3 * k + 0];
    const T w = grad_rgb[3 * k + 1];
    grad_density[k] = delta * (grad_density[k] - suffix);
    suffix += we;
    grad_rgb[3 * k + 0] = w * g_rgb[0];
    grad_rgb[3 * k + 1] = w * g_rgb[1];
    grad_rgb[3 * k + 2] = w * g_rgb[2];
  }
}

}  // namespace vr
}  // namespace nf
