// CUDA kernels for fused volume rendering (math in render/volume_render_ray.h).
// Contract: one thread per ray; every pointer is contiguous device memory of the shapes listed in
// the header; N rays with S samples; results are identical in formula to the CPU loop.
#include "render/cuda/volume_render.h"
#include "render/volume_render_ray.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace nf {
namespace vr {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void forward_kernel(int64_t N, int64_t S, const T* __restrict__ density,
                               const T* __restrict__ rgb, const T* __restrict__ t,
                               const T* __restrict__ dirs, const T* __restrict__ bg, T* out_rgb,
                               T* out_depth, T* out_acc, T* out_w) {
  const int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  render_ray_forward<T>(S, density + r * S, rgb + r * S * 3, t + r * (S + 1), dirs + r * 3, bg + r * 3,
                        out_rgb + r * 3, out_depth + r, out_acc + r, out_w + r * S);
}

template <typename T>
__global__ void backward_kernel(int64_t N, int64_t S, const T* __restrict__ density,
                                const T* __restrict__ rgb, const T* __restrict__ t,
                                const T* __restrict__ dirs, const T* __restrict__ bg,
                                const T* __restrict__ g_rgb, const T* __restrict__ g_depth,
                                const T* __restrict__ g_acc, const T* __restrict__ g_w,
                                T* grad_density, T* grad_rgb) {
  const int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  render_ray_backward<T>(S, density + r * S, rgb + r * S * 3, t + r * (S + 1), dirs + r * 3, bg + r * 3,
                         g_rgb + r * 3, g_depth[r], g_acc[r], g_w + r * S, grad_density + r * S,
                         grad_rgb + r * S * 3);
}

void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("volume_render ") + what + ": CUDA error: " + cudaGetErrorString(err));
}

unsigned blocks_for(int64_t N) { return unsigned((N + kThreads - 1) / kThreads); }

template <typename T>
void forward_impl(int64_t N, int64_t S, const T* density, const T* rgb, const T* t, const T* dirs,
                  const T* bg, T* out_rgb, T* out_depth, T* out_acc, T* out_w, void* stream) {
  if (N == 0) return;
  forward_kernel<T><<<blocks_for(N), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      N, S, density, rgb, t, dirs, bg, out_rgb, out_depth, out_acc, out_w);
  check_launch("forward");
}

template <typename T>
void backward_impl(int64_t N, int64_t S, const T* density, const T* rgb, const T* t, const T* dirs,
                   const T* bg, const T* g_rgb, const T* g_depth, const T* g_acc, const T* g_w,
                   T* grad_density, T* grad_rgb, void* stream) {
  if (N == 0) return;
  backward_kernel<T><<<blocks_for(N), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      N, S, density, rgb, t, dirs, bg, g_rgb, g_depth, g_acc, g_w, grad_density, grad_rgb);
  check_launch("backward");
}

}  // namespace

void forward_cuda(int64_t N, int64_t S, const float* density, const float* rgb, const float* t,
                  const float* dirs, const float* bg, float* out_rgb, float* out_depth, float* out_acc,
                  float* out_w, void* stream) {
  forward_impl(N, S, density, rgb, t, dirs, bg, out_rgb, out_depth, out_acc, out_w, stream);
}
void forward_cuda(int64_t N, int64_t S, const double* density, const double* rgb, const double* t,
                  const double* dirs, const double* bg, double* out_rgb, double* out_depth,
                  double* out_acc, double* out_w, void* stream) {
  forward_impl(N, S, density, rgb, t, dirs, bg, out_rgb, out_depth, out_acc, out_w, stream);
}
void backward_cuda(int64_t N, int64_t S, const float* density, const float* rgb, const float* t,
                   const float* dirs, const float* bg, const float* g_rgb, const float* g_depth,
                   const float* g_acc, const float* g_w, float* grad_density, float* grad_rgb,
                   void* stream) {
  backward_impl(N, S, density, rgb, t, dirs, bg, g_rgb, g_depth, g_acc, g_w, grad_density, grad_rgb, stream);
}
void backward_cuda(int64_t N, int64_t S, const double* density, const double* rgb, const double* t,
                   const double* dirs, const double* bg, const double* g_rgb, const double* g_depth,
                   const double* g_acc, const double* g_w, double* grad_density, double* grad_rgb,
                   void* stream) {
  backward_impl(N, S, density, rgb, t, dirs, bg, g_rgb, g_depth, g_acc, g_w, grad_density, grad_rgb, stream);
}

}  // namespace vr
}  // namespace nf
