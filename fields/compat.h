#pragma once
// The one place where LibTorch 1.13 (Debian, CPU) and LibTorch 2.x (CUDA) differ for normfield.
#include <ATen/ATen.h>
#include <torch/version.h>

#if defined(__has_include)
// Debian ships c10/cuda headers without the generated cuda_cmake_macros.h: test for both.
#if __has_include(<c10/cuda/CUDAStream.h>) && __has_include(<c10/cuda/impl/cuda_cmake_macros.h>) && \
    defined(NORMFIELD_WITH_CUDA)
#include <c10/cuda/CUDAStream.h>
#define NORMFIELD_TORCH_HAS_CUDA 1
#endif
#endif

namespace nf {

// Version as "major.minor.patch" of the LibTorch we were compiled against.
inline const char* torch_version() { return TORCH_VERSION; }

// The CUDA stream torch is currently using, as an opaque pointer for raw-pointer kernels.
// nullptr (the legacy default stream) where LibTorch has no CUDA parts.
inline void* current_cuda_stream() {
#ifdef NORMFIELD_TORCH_HAS_CUDA
  return static_cast<void*>(c10::cuda::getCurrentCUDAStream().stream());
#else
  return nullptr;
#endif
}

// True when this build can run CUDA kernels on this tensor.
inline bool cuda_dispatch(const at::Tensor& t) {
#ifdef NORMFIELD_WITH_CUDA
  return t.is_cuda();
#else
  (void)t;
  return false;
#endif
}

}  // namespace nf
