#pragma once
// CUDA launchers of fused volume rendering (kernels in volume_render.cu, the per-ray math they run
// in render/volume_render_ray.h). Plain header: no CUDA or torch types.
#include <cstdint>

namespace nf {
namespace vr {

// CUDA launchers (defined in volume_render.cu; one thread per ray, all pointers device memory,
// contiguous). stream: a cudaStream_t as void* (nullptr = default stream). Throw
// std::runtime_error on a launch error.
// density [N, S], rgb [N, S, 3], t [N, S + 1], dirs [N, 3], bg [N, 3]
//   -> out_rgb [N, 3], out_depth [N], out_acc [N], out_w [N, S]
void forward_cuda(int64_t N, int64_t S, const float* density, const float* rgb, const float* t,
                  const float* dirs, const float* bg, float* out_rgb, float* out_depth, float* out_acc,
                  float* out_w, void* stream);
void forward_cuda(int64_t N, int64_t S, const double* density, const double* rgb, const double* t,
                  const double* dirs, const double* bg, double* out_rgb, double* out_depth,
                  double* out_acc, double* out_w, void* stream);
// + g_rgb [N, 3], g_depth [N], g_acc [N], g_w [N, S] -> grad_density [N, S], grad_rgb [N, S, 3]
void backward_cuda(int64_t N, int64_t S, const float* density, const float* rgb, const float* t,
                   const float* dirs, const float* bg, const float* g_rgb, const float* g_depth,
                   const float* g_acc, const float* g_w, float* grad_density, float* grad_rgb,
                   void* stream);
void backward_cuda(int64_t N, int64_t S, const double* density, const double* rgb, const double* t,
                   const double* dirs, const double* bg, const double* g_rgb, const double* g_depth,
                   const double* g_acc, const double* g_w, double* grad_density, double* grad_rgb,
                   void* stream);

}  // namespace vr
}  // namespace nf
