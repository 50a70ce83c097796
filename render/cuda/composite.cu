// CUDA kernels for compositing from alphas (math in render/composite_ray.h).
// Contract: one thread per ray; every pointer is contiguous device memory of the shapes listed in
// render/cuda/composite.h (t, bg, g_depth may be nullptr); N rays, S samples, C channels; results
// identical in formula to the CPU loop of render/composite.cpp.
#include "render/composite_ray.h"
#include "render/cuda/composite.h"

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace nf {
namespace cr {
namespace {

constexpr int kThreads = 256;

template <typename T>
__global__ void forward_kernel(int64_t N, int64_t S, int64_t C, T eps, const T* __restrict__ alpha,
                               const T* __restrict__ rgb, const T* __restrict__ t, const T* __restrict__ bg,
                               T* out_rgb, T* out_depth, T* out_acc, T* out_w) {
  const int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  composite_ray_forward<T>(S, C, eps, alpha + r * S, rgb + r * S * C, t ? t + r * S : nullptr,
                           bg ? bg + r * C : nullptr, out_rgb + r * C, t ? out_depth + r : nullptr, out_acc + r,
                           out_w + r * S);
}

template <typename T>
__global__ void backward_kernel(int64_t N, int64_t S, int64_t C, T eps, const T* __restrict__ alpha,
                                const T* __restrict__ rgb, const T* __restrict__ t, const T* __restrict__ bg,
                                const T* __restrict__ g_rgb, const T* __restrict__ g_depth,
                                const T* __restrict__ g_acc, const T* __restrict__ g_w, T* grad_alpha,
                                T* grad_rgb) {
  const int64_t r = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= N) return;
  composite_ray_backward<T>(S, C, eps, alpha + r * S, rgb + r * S * C, t ? t + r * S : nullptr,
                            bg ? bg + r * C : nullptr, g_rgb + r * C, t ? g_depth[r] : T(0), g_acc[r],
                            g_w + r * S, grad_alpha + r * S, grad_rgb + r * S * C);
}

void check_launch(const char* what) {
  const cudaError_t err = cudaGetLastError();
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("composite ") + what + ": CUDA error: " + cudaGetErrorString(err));
}

unsigned blocks_for(int64_t N) { return unsigned((N + kThreads - 1) / kThreads); }

template <typename T>
void forward_impl(int64_t N, int64_t S, int64_t C, double eps, const T* alpha, const T* rgb, const T* t,
                  const T* bg, T* out_rgb, T* out_depth, T* out_acc, T* out_w, void* stream) {
  if (N == 0) return;
  forward_kernel<T><<<blocks_for(N), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      N, S, C, T(eps), alpha, rgb, t, bg, out_rgb, out_depth, out_acc, out_w);
  check_launch("forward");
}

template <typename T>
void backward_impl(int64_t N, int64_t S, int64_t C, double eps, const T* alpha, const T* rgb, const T* t,
                   const T* bg, const T* g_rgb, const T* g_depth, const T* g_acc, const T* g_w, T* grad_alpha,
                   T* grad_rgb, void* stream) {
  if (N == 0) return;
  backward_kernel<T><<<blocks_for(N), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(
      N, S, C, T(eps), alpha, rgb, t, bg, g_rgb, g_depth, g_acc, g_w, grad_alpha, grad_rgb);
  check_launch("backward");
}

}  // namespace

void composite_forward_cuda(int64_t N, int64_t S, int64_t C, double eps, const float* alpha, const float* rgb,
                            const float* t, const float* bg, float* out_rgb, float* out_depth, float* out_acc,
                            float* out_w, void* stream) {
  forward_impl(N, S, C, eps, alpha, rgb, t, bg, out_rgb, out_depth, out_acc, out_w, stream);
}
void composite_forward_cuda(int64_t N, int64_t S, int64_t C, double eps, const double* alpha,
                            const double* rgb, const double* t, const double* bg, double* out_rgb,
                            double* out_depth, double* out_acc, double* out_w, void* stream) {
  forward_impl(N, S, C, eps, alpha, rgb, t, bg, out_rgb, out_depth, out_acc, out_w, stream);
}
void composite_backward_cuda(int64_t N, int64_t S, int64_t C, double eps, const float* alpha, const float* rgb,
                             const float* t, const float* bg, const float* g_rgb, const float* g_depth,
                             const float* g_acc, const float* g_w, float* grad_alpha, float* grad_rgb,
                             void* stream) {
  backward_impl(N, S, C, eps, alpha, rgb, t, bg, g_rgb, g_depth, g_acc, g_w, grad_alpha, grad_rgb, stream);
}
void composite_backward_cuda(int64_t N, int64_t S, int64_t C, double eps, const double* alpha,
                             const double* rgb, const double* t, const double* bg, const double* g_rgb,
                             const double* g_depth, const double* g_acc, const double* g_w, double* grad_alpha,
                             double* grad_rgb, void* stream) {
  backward_impl(N, S, C, eps, alpha, rgb, t, bg, g_rgb, g_depth, g_acc, g_w, grad_alpha, grad_rgb, stream);
}

}  // namespace cr
}  // namespace nf
