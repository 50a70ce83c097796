#pragma once
// Internal to the fused CPU norm kernels (fields/norm_fused_cpu.cpp: CN, GN; fields/norm_fused_cpu_bn_ln.cpp:
// BN, LN): the row-kernel machinery they share.
//
// Layout: rows are split into one chunk per thread (at::parallel_for); a chunk walks its rows once
// per pass. Row statistics are reduced inside the row (it sits in L1); column sums go to per-chunk
// partial accumulators (scalar_t over blocks of kBlock rows, then double), summed after the pass.
// Inner loops run over the channels of one row with no cross-iteration dependence, so the compiler
// vectorises them; the row kernels are compiled twice (baseline and AVX2+FMA) and picked at run
// time, because the library is built without -march flags.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define NF_X86_CLONES 1
#define NF_INLINE inline __attribute__((always_inline))
#define NF_AVX2 __attribute__((target("avx2,fma")))
#else
#define NF_INLINE inline
#endif

namespace nf::fused_cpu::detail {

constexpr int64_t kBlock = 64;             // rows summed in scalar_t before flushing to double
constexpr int64_t kMinChunk = 1 << 14;     // elements per chunk below which fewer threads are used

enum Flags : int { kRowStats = 1, kLiveRows = 2, kFrozen = 4, kRelu = 8 };

// Everything a row kernel reads or writes; unused fields stay null. [C] arrays are per channel,
// [T] arrays per row.
template <typename T>
struct Args {
  int64_t C = 0;
  int flags = 0;
  const T* x = nullptr;      // [T, C]
  const T* dy = nullptr;     // [T, C]
  T* out = nullptr;          // [T, C] y or dx
  const T* gam = nullptr;    // [C] weight (ones when undefined)
  const T* bet = nullptr;    // [C] bias (zeros when undefined)
  const T* shift = nullptr;  // [C] column shift of the statistics pass (row 0 of x)
  T inv_nC = 1;              // 1 / max(C-1, 1)
  // CN
  T a = 0, one_a = 1;        // a = 1 / (T + C) (batch) or 1 / (t_ref + C) (frozen)
  T aC = 0;                  // a * C (row sum = C * row mean)
  const T* cA = nullptr;     // [C] a * column sum
  const T* cV = nullptr;     // [C] column variance + eps
  T* rmean = nullptr;        // [T] row mean
  T* rvar = nullptr;         // [T] row variance
  T* rP = nullptr;           // [T] backward: sum_i p
  T* rW = nullptr;           // [T] backward: sum_i p * xhat * s
  const T* ac = nullptr;     // [C] backward: x coefficient of the column terms
  const T* kc = nullptr;     // [C] backward: constant of the column terms
  const T* mc = nullptr;     // [C] column mean
  // GN
  T m = 0;                   // global mean
  const T* gA = nullptr;     // [C] rstd * weight
  T k0 = 0, k1 = 0;          // backward: dx = dy * gA + (x - m) * k1 + k0
};

template <typename T>
NF_INLINE T row_sum(const T* __restrict p, int64_t n) {
  constexpr int L = 32 / sizeof(T);
  T acc[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int k = 0; k < L; ++k) acc[k] += p[i + k];
  T s = 0;
  for (; i < n; ++i) s += p[i];
  for (int k = 0; k < L; ++k) s += acc[k];
  return s;
}

// sum_i (p_i - m)^2
template <typename T>
NF_INLINE T row_ssd(const T* __restrict p, int64_t n, T m) {
  constexpr int L = 32 / sizeof(T);
  T acc[L] = {};
  int64_t i = 0;
  for (; i + L <= n; i += L)
    for (int k = 0; k < L; ++k) {
      const T d = p[i + k] - m;
      acc[k] += d * d;
    }
  T s = 0;
  for (; i < n; ++i) s += (p[i] - m) * (p[i] - m);
  for (int k = 0; k < L; ++k) s += acc[k];
  return s;
}

// 1 / sqrt(v) in plain arithmetic, so that loops using it vectorise: GCC keeps an errno branch
// around sqrt unless built with -fno-math-errno (an optimize pragma does not switch it off), and
// will not if-convert a floating-point select. Bit-trick start (rel. error < 3.5%), then Newton
// steps: 3 for float, 4 for double, leaving <= 2 ulp. For finite v; v <= 0 gives +inf (as
// 1 / sqrt(0) does; negative v cannot occur: v = variance + eps).
NF_INLINE float rsqrt_nr(float v) {
  uint32_t b;
  __builtin_memcpy(&b, &v, sizeof b);
  const uint32_t i = 0x5f375a86u - (b >> 1);
  float y;
  __builtin_memcpy(&y, &i, sizeof y);
  const float h = 0.5f * v;
  y = y * (1.5f - h * y * y);
  y = y * (1.5f - h * y * y);
  y = y * (1.5f - h * y * y);
  uint32_t yb;
  __builtin_memcpy(&yb, &y, sizeof yb);
  const uint32_t bad = 0u - static_cast<uint32_t>(static_cast<int32_t>(b) <= 0);  // all ones: inf
  yb = (yb & ~bad) | (0x7f800000u & bad);
  __builtin_memcpy(&y, &yb, sizeof y);
  return y;
}
NF_INLINE double rsqrt_nr(double v) {
  uint64_t b;
  __builtin_memcpy(&b, &v, sizeof b);
  const uint64_t i = 0x5fe6eb50c7b537a9ull - (b >> 1);
  double y;
  __builtin_memcpy(&y, &i, sizeof y);
  const double h = 0.5 * v;
  y = y * (1.5 - h * y * y);
  y = y * (1.5 - h * y * y);
  y = y * (1.5 - h * y * y);
  y = y * (1.5 - h * y * y);
  uint64_t yb;
  __builtin_memcpy(&yb, &y, sizeof yb);
  const uint64_t bad = 0ull - static_cast<uint64_t>(static_cast<int64_t>(b) <= 0);
  yb = (yb & ~bad) | (0x7ff0000000000000ull & bad);
  __builtin_memcpy(&y, &yb, sizeof y);
  return y;
}

template <typename T>
NF_INLINE void flush(T* __restrict blk, double* __restrict part, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    part[j] += static_cast<double>(blk[j]);
    blk[j] = T(0);
  }
}

// Statistics pass. part [2, C]: sum of (x - shift), sum of (x - shift)^2 per column.
// kRowStats: also rmean/rvar per row.
template <typename T>
NF_INLINE void stats_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(2 * C, T(0));
  T* __restrict s1 = blk.data();
  T* __restrict s2 = s1 + C;
  const T* __restrict sh = A.shift;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    if (A.flags & kRowStats) {
      const T mr = row_sum(xr, C) / T(C);
      A.rmean[t] = mr;
      A.rvar[t] = row_ssd(xr, C, mr) * A.inv_nC;
    }
    for (int64_t i = 0; i < C; ++i) {
      const T d = xr[i] - sh[i];
      s1[i] += d;
      s2[i] += d * d;
    }
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 2 * C);
  }
}

// Each row kernel twice: baseline ISA and AVX2+FMA, picked once at run time.
template <typename T>
using RowFn = void (*)(const Args<T>&, int64_t, int64_t, double*);

#ifdef NF_X86_CLONES
inline bool have_avx2() {
  static const bool v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return v;
}
#define NF_ROW_KERNEL(name)                                                                  \
  template <typename T>                                                                      \
  void name##_base(const Args<T>& A, int64_t b, int64_t e, double* p) { name<T>(A, b, e, p); } \
  template <typename T>                                                                      \
  NF_AVX2 void name##_avx2(const Args<T>& A, int64_t b, int64_t e, double* p) {              \
    name<T>(A, b, e, p);                                                                     \
  }                                                                                          \
  template <typename T>                                                                      \
  RowFn<T> name##_fn() {                                                                     \
    return have_avx2() ? &name##_avx2<T> : &name##_base<T>;                                  \
  }
#else
#define NF_ROW_KERNEL(name) \
  template <typename T>     \
  RowFn<T> name##_fn() {    \
    return &name<T>;        \
  }
#endif
NF_ROW_KERNEL(stats_rows)

// Output of BN and GN: y = (x - mc) * gA + bias (BN: column means and gA = weight / sqrt(var + eps);
// GN: the global mean and rstd in every channel).
template <typename T>
NF_INLINE void affine_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict gA = A.gA;
  const T* __restrict be = A.bet;
  const T* __restrict mc = A.mc;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    T* __restrict yr = A.out + t * C;
    for (int64_t i = 0; i < C; ++i) yr[i] = (xr[i] - mc[i]) * gA[i] + be[i];
  }
}

NF_ROW_KERNEL(affine_rows)

// Backward pass 1 of GN and BN. part [2, C]: sum_t dy, sum_t dy * (x - mc_i) (GN: mc = the global
// mean in every channel). kFrozen: also dx = dy * gA here.
template <typename T>
NF_INLINE void dy_colsums_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(2 * C, T(0));
  T* __restrict DB = blk.data();
  T* __restrict DG = DB + C;
  const T* __restrict gA = A.gA;
  const T* __restrict mc = A.mc;
  const bool frozen = A.flags & kFrozen;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    for (int64_t i = 0; i < C; ++i) {
      DB[i] += gr[i];
      DG[i] += gr[i] * (xr[i] - mc[i]);
    }
    if (frozen) {
      T* __restrict dr = A.out + t * C;
      for (int64_t i = 0; i < C; ++i) dr[i] = gr[i] * gA[i];
    }
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 2 * C);
  }
}
NF_ROW_KERNEL(dy_colsums_rows)

// Backward of an empty x: zeroes dw/db where asked for. Returns true when x is empty.
inline bool empty_backward(const at::Tensor& x, at::Tensor& dw, at::Tensor& db) {
  if (x.size(0) != 0 && x.size(1) != 0) return false;
  if (dw.defined()) dw.zero_();
  if (db.defined()) db.zero_();
  return true;
}

// Runs fn over row chunks in parallel; returns the K*C column partials summed over chunks.
template <typename T>
std::vector<double> run_rows(const Args<T>& A, int64_t Tn, int K, RowFn<T> fn) {
  const int64_t C = A.C;
  int64_t n = std::max<int64_t>(1, std::min<int64_t>(at::get_num_threads(), Tn * C / kMinChunk));
  n = std::min(n, Tn);
  std::vector<double> part(static_cast<size_t>(n * K * C), 0.0);
  at::parallel_for(0, n, 1, [&](int64_t cb, int64_t ce) {
    for (int64_t c = cb; c < ce; ++c) fn(A, Tn * c / n, Tn * (c + 1) / n, part.data() + c * K * C);
  });
  std::vector<double> sum(static_cast<size_t>(K * C), 0.0);
  for (int64_t c = 0; c < n; ++c)
    for (int64_t j = 0; j < K * C; ++j) sum[j] += part[c * K * C + j];
  return sum;
}

template <typename T>
std::vector<T> vec_or(const at::Tensor& t, int64_t C, T fill) {
  std::vector<T> v(static_cast<size_t>(C), fill);
  if (t.defined()) std::copy(t.data_ptr<T>(), t.data_ptr<T>() + C, v.begin());
  return v;
}

inline double max1(int64_t n) { return static_cast<double>(std::max<int64_t>(n - 1, 1)); }

}  // namespace nf::fused_cpu::detail
