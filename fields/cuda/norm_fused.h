#pragma once
// Launchers of the fused CN/GN CUDA kernels (fields/cuda/norm_fused.cu). Plain C++: raw device
// pointers, `stream` is a cudaStream_t passed as void*. Called only from fields/norm_fused.cpp.
// T is float or double; all arrays are contiguous device memory of that type.
// Semantics and statistics layouts match the CPU kernels (fields/norm_fused.h, fused_cpu):
//   rs [2, T] = (row mean, unbiased row variance), cs [2, C] = (column mean, unbiased column
//   variance), GN stats [2] = (mean, unbiased variance). w, b, dw, db may be null.
#include <cstdint>

namespace nf::cuda {

// Scratch elements (of type T) the launchers below need for an input of [T, C].
int64_t norm_fused_workspace(int64_t rows, int64_t cols);

// CN forward. frozen: cs is read (colsum = t_ref * cs[0]); else cs is written. rs is written.
// relu: y = max(0, CN(x)).
template <typename T>
void cross_norm_forward(const T* x, const T* w, const T* b, int64_t rows, int64_t cols, double eps,
                        bool frozen, double t_ref, bool relu, T* y, T* rs, T* cs, T* work, void* stream);
// CN backward: dx (and dw, db when not null) from dy, x and the forward's rs, cs; relu: dy masked
// where the forward's output (recomputed from x, w, b) was <= 0.
template <typename T>
void cross_norm_backward(const T* dy, const T* x, const T* w, const T* b, const T* rs, const T* cs,
                         int64_t rows, int64_t cols, double eps, bool frozen, double t_ref, bool relu, T* dx,
                         T* dw, T* db, T* work, void* stream);
// GN forward. frozen: stats is read; else written.
template <typename T>
void global_norm_forward(const T* x, const T* w, const T* b, int64_t rows, int64_t cols, double eps,
                         bool frozen, T* y, T* stats, T* work, void* stream);
template <typename T>
void global_norm_backward(const T* dy, const T* x, const T* w, const T* stats, int64_t rows,
                          int64_t cols, double eps, bool frozen, T* dx, T* dw, T* db, T* work,
                          void* stream);

}  // namespace nf::cuda
