// CUDA kernels of the fused CN and GN (see fields/cuda/norm_fused.h for the launchers' contract and
// fields/norm_fused.h for the math). No torch headers: raw pointers and a cudaStream_t.
//
// Building blocks:
//  - row kernels: one warp per row, lanes stride over the channels, warp-shuffle reductions;
//  - column reductions: blocks of 32 channels x 8 row-lanes over a slice of rows, a shared-memory
//    reduction over the row-lanes, per-slice partials in the workspace, then a finalize kernel
//    summing the slices in double (deterministic: no atomics);
//  - elementwise kernels: grid-stride over T*C with per-row / per-column parameters.
#include <cuda_runtime.h>

#include <algorithm>
#include <stdexcept>
#include <string>

#include "fields/cuda/norm_fused.h"

namespace nf::cuda {
namespace {

constexpr int kThreads = 256;      // threads of row / elementwise / finalize kernels
constexpr int kRowLanes = 8;       // blockDim.y of the column-reduction kernel (blockDim.x = 32)
constexpr int64_t kMaxSlices = 1024;

inline int64_t num_slices(int64_t rows) { return std::min<int64_t>(kMaxSlices, std::max<int64_t>(1, (rows + 63) / 64)); }
inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline double max1(int64_t n) { return static_cast<double>(std::max<int64_t>(n - 1, 1)); }

void check(const char* what) {
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess)
    throw std::runtime_error(std::string("fields/cuda/norm_fused.cu: ") + what + ": " + cudaGetErrorString(e));
}

unsigned elementwise_blocks(int64_t n) {
  return static_cast<unsigned>(std::max<int64_t>(1, std::min<int64_t>(ceil_div(n, kThreads), 1 << 20)));
}

__device__ __forceinline__ float rsqrt_(float v) { return rsqrtf(v); }
__device__ __forceinline__ double rsqrt_(double v) { return rsqrt(v); }

template <typename T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

// Sums v over the block (blockDim.x == kThreads) in double; the result is valid in every thread.
__device__ double block_sum(double v) {
  __shared__ double sh[kThreads / 32];
  __shared__ double total;
  v = warp_sum(v);
  if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = v;
  __syncthreads();
  if (threadIdx.x == 0) {
    double s = 0;
    for (int k = 0; k < kThreads / 32; ++k) s += sh[k];
    total = s;
  }
  __syncthreads();
  const double r = total;
  __syncthreads();
  return r;
}

// Column i = blockIdx.x of K partial-sum planes part [K, slices, C], summed over the slices in
// double by the whole block; S[k] is valid in every thread.
template <int K, typename T>
__device__ void column_sums(const T* __restrict__ part, int64_t slices, int64_t C, double* S) {
  const int64_t i = blockIdx.x;
#pragma unroll
  for (int k = 0; k < K; ++k) {
    double v = 0;
    for (int64_t q = threadIdx.x; q < slices; q += blockDim.x) v += part[(k * slices + q) * C + i];
    S[k] = block_sum(v);
  }
}

// Per-row mean and unbiased variance.
// x [rows, C] -> rmean [rows], rvar [rows]. One warp per row; grid ceil(rows / 8) x 256 threads.
template <typename T>
__global__ void k_row_stats(const T* __restrict__ x, int64_t rows, int64_t C, T* __restrict__ rmean,
                            T* __restrict__ rvar) {
  const int64_t r = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (r >= rows) return;  // uniform per warp
  const T* xr = x + r * C;
  T s = 0;
  for (int64_t i = lane; i < C; i += 32) s += xr[i];
  const T m = warp_sum(s) / static_cast<T>(C);
  T q = 0;
  for (int64_t i = lane; i < C; i += 32) {
    const T d = xr[i] - m;
    q += d * d;
  }
  q = warp_sum(q);
  if (lane == 0) {
    rmean[r] = m;
    rvar[r] = q / static_cast<T>(C > 1 ? C - 1 : 1);
  }
}

// Column partial sums: for each slice s of rows and channel i, part[(k * slices + s) * C + i] =
// sum over the slice's rows t of f(t, i)[k], k < K. Block (32, 8), grid (ceil(C / 32), slices).
template <int K, typename T, typename F>
__global__ void k_col_partials(int64_t rows, int64_t C, int64_t rows_per_slice, F f, T* __restrict__ part) {
  __shared__ T sh[K][kRowLanes][33];
  const int64_t i = static_cast<int64_t>(blockIdx.x) * 32 + threadIdx.x;
  const int64_t r0 = static_cast<int64_t>(blockIdx.y) * rows_per_slice;
  const int64_t r1 = r0 + rows_per_slice < rows ? r0 + rows_per_slice : rows;
  T acc[K];
#pragma unroll
  for (int k = 0; k < K; ++k) acc[k] = 0;
  if (i < C)
    for (int64_t t = r0 + threadIdx.y; t < r1; t += kRowLanes) f(t, i, acc);
#pragma unroll
  for (int k = 0; k < K; ++k) sh[k][threadIdx.y][threadIdx.x] = acc[k];
  __syncthreads();
  if (threadIdx.y == 0 && i < C) {
#pragma unroll
    for (int k = 0; k < K; ++k) {
      T s = 0;
      for (int y = 0; y < kRowLanes; ++y) s += sh[k][y][threadIdx.x];
      part[(k * static_cast<int64_t>(gridDim.y) + blockIdx.y) * C + i] = s;
    }
  }
}

template <int K, typename T, typename F>
void col_partials(int64_t rows, int64_t C, F f, T* part, cudaStream_t st) {
  const int64_t slices = num_slices(rows);
  const dim3 grid(static_cast<unsigned>(ceil_div(C, 32)), static_cast<unsigned>(slices));
  k_col_partials<K, T, F><<<grid, dim3(32, kRowLanes), 0, st>>>(rows, C, ceil_div(rows, slices), f, part);
  check("k_col_partials");
}

// Shifted sums for column statistics: (x - x[0, i]), (x - x[0, i])^2.
template <typename T>
struct StatsF {
  const T* x;
  int64_t C;
  __device__ void operator()(int64_t t, int64_t i, T* acc) const {
    const T d = x[t * C + i] - x[i];
    acc[0] += d;
    acc[1] += d * d;
  }
};

// Column mean / unbiased variance from StatsF partials. part [2, slices, C], x row 0 = shift ->
// cs [2, C]. One block of kThreads per channel (grid C).
template <typename T>
__global__ void k_col_stats_finalize(const T* __restrict__ part, int64_t slices, int64_t rows, int64_t C,
                                     const T* __restrict__ x, T* __restrict__ cs) {
  double S[2];
  column_sums<2>(part, slices, C, S);
  if (threadIdx.x != 0) return;
  const int64_t i = blockIdx.x;
  cs[i] = static_cast<T>(static_cast<double>(x[i]) + S[0] / rows);
  cs[C + i] = static_cast<T>(fmax(S[1] - S[0] * S[0] / rows, 0.0) / static_cast<double>(rows > 1 ? rows - 1 : 1));
}

// CN constants: a = 1 / (R + C) with R = T (batch) or t_ref (frozen).
template <typename T>
struct CnP {
  T a, one_a, aC, aR, eps, inv_nC;
};

template <typename T>
CnP<T> cn_params(double R, int64_t C, double eps) {
  const double a = 1.0 / (R + static_cast<double>(C));
  return {static_cast<T>(a), static_cast<T>(1.0 + a), static_cast<T>(a * C), static_cast<T>(a * R),
          static_cast<T>(eps), static_cast<T>(1.0 / max1(C))};
}

// CN output. x [rows, C], rs [2, rows], cs [2, C], w/b [C] or null -> y [rows, C]; relu: max(0, y)
// (CnElem recomputes y with the same expression for the mask). Grid-stride.
template <typename T>
__global__ void k_cn_apply(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                           const T* __restrict__ rs, const T* __restrict__ cs, int64_t rows, int64_t C,
                           CnP<T> P, bool relu, T* __restrict__ y) {
  const int64_t n = rows * C;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = k / C, i = k - t * C;
    const T s = rsqrt_(cs[C + i] + P.eps + rs[rows + t]);
    const T d = P.one_a * x[k] - P.aC * rs[t] - P.aR * cs[i];
    const T v = d * s * (w ? w[i] : T(1)) + (b ? b[i] : T(0));
    y[k] = relu && T(0) > v ? T(0) : v;
  }
}

// Per-element CN backward quantities: s = rsqrt(v + eps), xhat = (x - u) s, p = g w s with g = dy
// (relu: dy where the forward's output xhat w + b was > 0, else 0).
template <typename T>
struct CnElem {
  const T *x, *dy, *w, *rs, *cs;
  int64_t rows, C;
  CnP<T> P;
  const T* b;
  bool relu;
  __device__ __forceinline__ void at(int64_t t, int64_t i, T& s, T& xh, T& p, T& g) const {
    const int64_t k = t * C + i;
    s = rsqrt_(cs[C + i] + P.eps + rs[rows + t]);
    xh = (P.one_a * x[k] - P.aC * rs[t] - P.aR * cs[i]) * s;
    const T wi = w ? w[i] : T(1);
    g = dy[k];
    if (relu && !(xh * wi + (b ? b[i] : T(0)) > T(0))) g = T(0);
    p = g * wi * s;
  }
};

// Column partials of the CN backward: sum p, sum p xhat s, sum dy, sum dy xhat.
template <typename T>
struct CnBwdF {
  CnElem<T> E;
  __device__ void operator()(int64_t t, int64_t i, T* acc) const {
    T s, xh, p, g;
    E.at(t, i, s, xh, p, g);
    acc[0] += p;
    acc[1] += p * xh * s;
    acc[2] += g;
    acc[3] += g * xh;
  }
};

// CN backward row sums P = sum_i p, W = sum_i p xhat s. One warp per row.
// frozen: dx[t, :] = (1+a) p - a P - (W / nC)(x - mean_t) written directly; else rPW [2, rows] stored.
template <typename T>
__global__ void k_cn_bwd_rows(CnElem<T> E, bool frozen, T* __restrict__ rPW, T* __restrict__ dx) {
  const int64_t r = (static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x) >> 5;
  const int lane = threadIdx.x & 31;
  if (r >= E.rows) return;  // uniform per warp
  T P = 0, W = 0;
  for (int64_t i = lane; i < E.C; i += 32) {
    T s, xh, p, g;
    E.at(r, i, s, xh, p, g);
    P += p;
    W += p * xh * s;
  }
  P = warp_sum(P);
  W = warp_sum(W);
  if (!frozen) {
    if (lane == 0) {
      rPW[r] = P;
      rPW[E.rows + r] = W;
    }
    return;
  }
  const T ar = W * E.P.inv_nC;
  const T kr = -E.P.a * P, mr = E.rs[r];
  for (int64_t i = lane; i < E.C; i += 32) {
    T s, xh, p, g;
    E.at(r, i, s, xh, p, g);
    dx[r * E.C + i] = E.P.one_a * p - ar * (E.x[r * E.C + i] - mr) + kr;
  }
}

// CN backward column finalize: part [4, slices, C] -> dw = sum dy xhat, db = sum dy (if not null);
// batch: column terms ac = WC / nT, kc = -a PC into ack [2, C]. One block per channel (grid C).
template <typename T>
__global__ void k_cn_bwd_col_finalize(const T* __restrict__ part, int64_t slices, int64_t rows, int64_t C,
                                      double a, bool frozen, T* __restrict__ dw, T* __restrict__ db,
                                      T* __restrict__ ack) {
  double S[4];
  column_sums<4>(part, slices, C, S);
  if (threadIdx.x != 0) return;
  const int64_t i = blockIdx.x;
  if (dw) dw[i] = static_cast<T>(S[3]);
  if (db) db[i] = static_cast<T>(S[2]);
  if (frozen) return;
  ack[i] = static_cast<T>(S[1] / static_cast<double>(rows > 1 ? rows - 1 : 1));
  ack[C + i] = static_cast<T>(-a * S[0]);
}

// CN backward (batch) dx = (1+a) p - ar_t (x - mr_t) - ac_i (x - mc_i) + kr_t + kc_i. Grid-stride.
template <typename T>
__global__ void k_cn_bwd_apply(CnElem<T> E, const T* __restrict__ rPW, const T* __restrict__ ack,
                               T* __restrict__ dx) {
  const int64_t n = E.rows * E.C;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t t = k / E.C, i = k - t * E.C;
    T s, xh, p, g;
    E.at(t, i, s, xh, p, g);
    const T ar = rPW[E.rows + t] * E.P.inv_nC;
    const T xk = E.x[k];
    dx[k] = E.P.one_a * p - ar * (xk - E.rs[t]) - ack[i] * (xk - E.cs[i]) - E.P.a * rPW[t] + ack[E.C + i];
  }
}

// GN statistics, step 1: part [2, slices, C] (StatsF) -> col [2, C] = per-column (mean, M2).
// One block per channel (grid C).
template <typename T>
__global__ void k_gn_col_stats(const T* __restrict__ part, int64_t slices, int64_t rows, int64_t C,
                               const T* __restrict__ x, T* __restrict__ col) {
  double S[2];
  column_sums<2>(part, slices, C, S);
  if (threadIdx.x != 0) return;
  const int64_t i = blockIdx.x;
  col[i] = static_cast<T>(static_cast<double>(x[i]) + S[0] / rows);
  col[C + i] = static_cast<T>(fmax(S[1] - S[0] * S[0] / rows, 0.0));
}

// GN statistics, step 2: col [2, C] -> stats [2] = (mean, unbiased variance), pooling the
// per-column (mean, M2) (Chan et al.). One block of kThreads.
template <typename T>
__global__ void k_gn_stats_finalize(const T* __restrict__ col, int64_t rows, int64_t C, T* __restrict__ stats) {
  double acc = 0;
  for (int64_t i = threadIdx.x; i < C; i += blockDim.x) acc += col[i];
  const double m = block_sum(acc) / C;
  acc = 0;
  for (int64_t i = threadIdx.x; i < C; i += blockDim.x) {
    const double d = static_cast<double>(col[i]) - m;
    acc += static_cast<double>(col[C + i]) + rows * d * d;
  }
  const double M2 = block_sum(acc);
  if (threadIdx.x == 0) {
    const int64_t n = rows * C;
    stats[0] = static_cast<T>(m);
    stats[1] = static_cast<T>(M2 / static_cast<double>(n > 1 ? n - 1 : 1));
  }
}

// GN output y = (x - m) rsqrt(var + eps) w_i + b_i. stats [2]. Grid-stride.
template <typename T>
__global__ void k_gn_apply(const T* __restrict__ x, const T* __restrict__ w, const T* __restrict__ b,
                           const T* __restrict__ stats, int64_t n, int64_t C, double eps, T* __restrict__ y) {
  const T m = stats[0], s = static_cast<T>(1.0 / sqrt(static_cast<double>(stats[1]) + eps));  // as on the CPU
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = k % C;
    y[k] = (x[k] - m) * s * (w ? w[i] : T(1)) + (b ? b[i] : T(0));
  }
}

template <typename T>
struct GnBwdF {
  const T *x, *dy, *stats;
  int64_t C;
  __device__ void operator()(int64_t t, int64_t i, T* acc) const {
    const int64_t k = t * C + i;
    acc[0] += dy[k];
    acc[1] += dy[k] * (x[k] - stats[0]);
  }
};

// GN backward, per channel: part [2, slices, C] -> dw = s sum dy (x - m), db = sum dy (if not
// null), col [2, C] = (sum dy, sum dy (x - m)). One block per channel (grid C).
template <typename T>
__global__ void k_gn_bwd_col(const T* __restrict__ part, int64_t slices, int64_t C, const T* __restrict__ stats,
                             double eps, T* __restrict__ dw, T* __restrict__ db, T* __restrict__ col) {
  double S[2];
  column_sums<2>(part, slices, C, S);
  if (threadIdx.x != 0) return;
  const int64_t i = blockIdx.x;
  const double s = 1.0 / sqrt(static_cast<double>(stats[1]) + eps);
  if (dw) dw[i] = static_cast<T>(s * S[1]);
  if (db) db[i] = static_cast<T>(S[0]);
  col[i] = static_cast<T>(S[0]);
  col[C + i] = static_cast<T>(S[1]);
}

// GN backward (batch) constants: col [2, C] -> kk [2] = (-s G / N, -s^2 S1 / (N - 1)),
// G = sum w dy, S1 = sum w dy xhat. One block of kThreads.
template <typename T>
__global__ void k_gn_bwd_finalize(const T* __restrict__ col, int64_t rows, int64_t C, const T* __restrict__ w,
                                  const T* __restrict__ stats, double eps, T* __restrict__ kk) {
  const double s = 1.0 / sqrt(static_cast<double>(stats[1]) + eps);
  double G = 0, S1 = 0;
  for (int64_t i = threadIdx.x; i < C; i += blockDim.x) {
    const double wi = w ? static_cast<double>(w[i]) : 1.0;
    G += wi * static_cast<double>(col[i]);
    S1 += wi * s * static_cast<double>(col[C + i]);
  }
  G = block_sum(G);
  S1 = block_sum(S1);
  if (threadIdx.x == 0) {
    const int64_t n = rows * C;
    kk[0] = static_cast<T>(-s * G / static_cast<double>(n));
    kk[1] = static_cast<T>(-s * s * S1 / static_cast<double>(n > 1 ? n - 1 : 1));
  }
}

// GN backward dx = dy rsqrt(var + eps) w_i (+ (x - m) k1 + k0 unless frozen). Grid-stride.
template <typename T>
__global__ void k_gn_bwd_apply(const T* __restrict__ dy, const T* __restrict__ x, const T* __restrict__ w,
                               const T* __restrict__ stats, const T* __restrict__ kk, int64_t n, int64_t C,
                               double eps, bool frozen, T* __restrict__ dx) {
  const T m = stats[0], s = static_cast<T>(1.0 / sqrt(static_cast<double>(stats[1]) + eps));
  const T k0 = frozen ? T(0) : kk[0], k1 = frozen ? T(0) : kk[1];
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t i = k % C;
    dx[k] = dy[k] * s * (w ? w[i] : T(1)) + (x[k] - m) * k1 + k0;
  }
}

unsigned row_blocks(int64_t rows) { return static_cast<unsigned>(ceil_div(rows, kThreads / 32)); }

}  // namespace

int64_t norm_fused_workspace(int64_t rows, int64_t cols) {
  return 4 * num_slices(rows) * cols + 2 * rows + 2 * cols + 8;
}

template <typename T>
void cross_norm_forward(const T* x, const T* w, const T* b, int64_t rows, int64_t C, double eps, bool frozen,
                        double t_ref, bool relu, T* y, T* rs, T* cs, T* work, void* stream) {
  if (rows == 0 || C == 0) return;
  auto st = static_cast<cudaStream_t>(stream);
  k_row_stats<T><<<row_blocks(rows), kThreads, 0, st>>>(x, rows, C, rs, rs + rows);
  check("k_row_stats");
  if (!frozen) {
    col_partials<2, T>(rows, C, StatsF<T>{x, C}, work, st);
    k_col_stats_finalize<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(work, num_slices(rows), rows, C, x, cs);
    check("k_col_stats_finalize");
  }
  const auto P = cn_params<T>(frozen ? t_ref : static_cast<double>(rows), C, eps);
  k_cn_apply<T><<<elementwise_blocks(rows * C), kThreads, 0, st>>>(x, w, b, rs, cs, rows, C, P, relu, y);
  check("k_cn_apply");
}

template <typename T>
void cross_norm_backward(const T* dy, const T* x, const T* w, const T* b, const T* rs, const T* cs, int64_t rows,
                         int64_t C, double eps, bool frozen, double t_ref, bool relu, T* dx, T* dw, T* db, T* work,
                         void* stream) {
  if (rows == 0 || C == 0) return;
  auto st = static_cast<cudaStream_t>(stream);
  const double R = frozen ? t_ref : static_cast<double>(rows);
  const CnElem<T> E{x, dy, w, rs, cs, rows, C, cn_params<T>(R, C, eps), b, relu};
  const int64_t slices = num_slices(rows);
  T* part = work;
  T* rPW = work + 4 * slices * C;
  T* ack = rPW + 2 * rows;
  k_cn_bwd_rows<T><<<row_blocks(rows), kThreads, 0, st>>>(E, frozen, rPW, dx);
  check("k_cn_bwd_rows");
  if (frozen && !dw && !db) return;
  col_partials<4, T>(rows, C, CnBwdF<T>{E}, part, st);
  k_cn_bwd_col_finalize<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(part, slices, rows, C,
                                                               1.0 / (R + static_cast<double>(C)), frozen,
                                                               dw, db, ack);
  check("k_cn_bwd_col_finalize");
  if (frozen) return;
  k_cn_bwd_apply<T><<<elementwise_blocks(rows * C), kThreads, 0, st>>>(E, rPW, ack, dx);
  check("k_cn_bwd_apply");
}

template <typename T>
void global_norm_forward(const T* x, const T* w, const T* b, int64_t rows, int64_t C, double eps, bool frozen,
                         T* y, T* stats, T* work, void* stream) {
  if (rows == 0 || C == 0) return;
  auto st = static_cast<cudaStream_t>(stream);
  if (!frozen) {
    const int64_t slices = num_slices(rows);
    T* col = work + 4 * slices * C + 2 * rows;
    col_partials<2, T>(rows, C, StatsF<T>{x, C}, work, st);
    k_gn_col_stats<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(work, slices, rows, C, x, col);
    check("k_gn_col_stats");
    k_gn_stats_finalize<T><<<1, kThreads, 0, st>>>(col, rows, C, stats);
    check("k_gn_stats_finalize");
  }
  k_gn_apply<T><<<elementwise_blocks(rows * C), kThreads, 0, st>>>(x, w, b, stats, rows * C, C, eps, y);
  check("k_gn_apply");
}

template <typename T>
void global_norm_backward(const T* dy, const T* x, const T* w, const T* stats, int64_t rows, int64_t C,
                          double eps, bool frozen, T* dx, T* dw, T* db, T* work, void* stream) {
  if (rows == 0 || C == 0) return;
  auto st = static_cast<cudaStream_t>(stream);
  const int64_t slices = num_slices(rows);
  T* col = work + 4 * slices * C + 2 * rows;
  T* kk = col + 2 * C;
  if (!frozen || dw || db) {
    col_partials<2, T>(rows, C, GnBwdF<T>{x, dy, stats, C}, work, st);
    k_gn_bwd_col<T><<<static_cast<unsigned>(C), kThreads, 0, st>>>(work, slices, C, stats, eps, dw, db, col);
    check("k_gn_bwd_col");
    if (!frozen) {
      k_gn_bwd_finalize<T><<<1, kThreads, 0, st>>>(col, rows, C, w, stats, eps, kk);
      check("k_gn_bwd_finalize");
    }
  }
  k_gn_bwd_apply<T><<<elementwise_blocks(rows * C), kThreads, 0, st>>>(dy, x, w, stats, kk, rows * C, C, eps,
                                                                       frozen, dx);
  check("k_gn_bwd_apply");
}

#define NF_INSTANTIATE(T)                                                                            \
  template void cross_norm_forward<T>(const T*, const T*, const T*, int64_t, int64_t, double, bool,   \
                                      double, bool, T*, T*, T*, T*, void*);                           \
  template void cross_norm_backward<T>(const T*, const T*, const T*, const T*, const T*, const T*,    \
                                       int64_t, int64_t, double, bool, double, bool, T*, T*, T*, T*,  \
                                       void*);                                                        \
  template void global_norm_forward<T>(const T*, const T*, const T*, int64_t, int64_t, double, bool,  \
                                       T*, T*, T*, void*);                                            \
  template void global_norm_backward<T>(const T*, const T*, const T*, const T*, int64_t, int64_t,     \
                                        double, bool, T*, T*, T*, T*, void*);
NF_INSTANTIATE(float)
NF_INSTANTIATE(double)

}  // namespace nf::cuda
