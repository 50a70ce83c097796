#pragma once
// CUDA launchers of compositing from alphas (kernels in composite.cu, the per-ray math they run in
// render/composite_ray.h). Plain header: no CUDA or torch types.
#include <cstdint>

namespace nf {
namespace cr {

// One thread per ray; all pointers contiguous device memory; stream: a cudaStream_t as void*
// (nullptr = default stream). Throw std::runtime_error on a launch error.
// alpha [N, S], rgb [N, S, C], t [N, S] or nullptr, bg [N, C] or nullptr
//   -> out_rgb [N, C], out_depth [N] (unused without t), out_acc [N], out_w [N, S]
void composite_forward_cuda(int64_t N, int64_t S, int64_t C, double eps, const float* alpha, const float* rgb,
                            const float* t, const float* bg, float* out_rgb, float* out_depth, float* out_acc,
                            float* out_w, void* stream);
void composite_forward_cuda(int64_t N, int64_t S, int64_t C, double eps, const double* alpha,
                            const double* rgb, const double* t, const double* bg, double* out_rgb,
                            double* out_depth, double* out_acc, double* out_w, void* stream);
// + g_rgb [N, C], g_depth [N] (or nullptr without t), g_acc [N], g_w [N, S]
//   -> grad_alpha [N, S], grad_rgb [N, S, C]
void composite_backward_cuda(int64_t N, int64_t S, int64_t C, double eps, const float* alpha, const float* rgb,
                             const float* t, const float* bg, const float* g_rgb, const float* g_depth,
                             const float* g_acc, const float* g_w, float* grad_alpha, float* grad_rgb,
                             void* stream);
void composite_backward_cuda(int64_t N, int64_t S, int64_t C, double eps, const double* alpha,
                             const double* rgb, const double* t, const double* bg, const double* g_rgb,
                             const double* g_depth, const double* g_acc, const double* g_w, double* grad_alpha,
                             double* grad_rgb, void* stream);

}  // namespace cr
}  // namespace nf
