// CPU kernels of the fused CN, GN, BN and LN (fields/norm_fused.h).
//
// Layout: rows are split into one chunk per thread (at::parallel_for); a chunk walks its rows once
// per pass. Row statistics are reduced inside the row (it sits in L1); column sums go to per-chunk
// partial accumulators (scalar_t over blocks of kBlock rows, then double), summed after the pass.
// Inner loops run over the channels of one row with no cross-iteration dependence, so the compiler
// vectorises them; the row kernels are compiled twice (baseline and AVX2+FMA) and picked at run
// time, because the library is built without -march flags.
#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "fields/norm_fused.h"

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define NF_X86_CLONES 1
#define NF_INLINE inline __attribute__((always_inline))
#define NF_AVX2 __attribute__((target("avx2,fma")))
#else
#define NF_INLINE inline
#endif

namespace nf::fused_cpu {
namespace {

constexpr int64_t kBlock = 64;             // rows summed in scalar_t before flushing to double
constexpr int64_t kMinChunk = 1 << 14;     // elements per chunk below which fewer threads are used

enum Flags : int { kRowStats = 1, kLiveRows = 2, kFrozen = 4 };

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

// CN output. kLiveRows: row statistics computed here (and stored), else read.
template <typename T>
NF_INLINE void cn_apply_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict cA = A.cA;
  const T* __restrict cV = A.cV;
  const T* __restrict g = A.gam;
  const T* __restrict be = A.bet;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    T* __restrict yr = A.out + t * C;
    T mr, vr;
    if (A.flags & kLiveRows) {
      mr = row_sum(xr, C) / T(C);
      vr = row_ssd(xr, C, mr) * A.inv_nC;
      A.rmean[t] = mr;
      A.rvar[t] = vr;
    } else {
      mr = A.rmean[t];
      vr = A.rvar[t];
    }
    const T rA = A.aC * mr;
    const T oa = A.one_a;
    for (int64_t i = 0; i < C; ++i)
      yr[i] = (oa * xr[i] - rA - cA[i]) * g[i] * rsqrt_nr(cV[i] + vr) + be[i];
  }
}

// One row of cn_bwd1_rows. Restrict parameters (not locals) tell GCC that the 6 outputs alias
// nothing, without which it gives up on vectorising (too many runtime alias checks).
template <typename T>
NF_INLINE void cn_bwd1_row(int64_t C, const T* __restrict xr, const T* __restrict gr, const T* __restrict cA,
                           const T* __restrict cV, const T* __restrict g, T oa, T rA, T vr, T* __restrict pb,
                           T* __restrict wb, T* __restrict PC, T* __restrict WC, T* __restrict DB,
                           T* __restrict DG) {
  for (int64_t i = 0; i < C; ++i) {
    const T s = rsqrt_nr(cV[i] + vr);
    const T xh = (oa * xr[i] - rA - cA[i]) * s;
    const T p = gr[i] * g[i] * s;
    const T w = p * xh * s;
    pb[i] = p;
    wb[i] = w;
    PC[i] += p;
    WC[i] += w;
    DB[i] += gr[i];
    DG[i] += gr[i] * xh;
  }
}

// CN backward, pass 1. part [4, C]: sum_t p, sum_t p*xhat*s, sum_t dy, sum_t dy*xhat, with
// s = rsqrt(v + eps), xhat = (x - u) * s, p = dy * weight * s.
// kFrozen: dx written here (row terms only); else rP/rW stored for pass 2.
template <typename T>
NF_INLINE void cn_bwd1_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(4 * C, T(0)), buf(2 * C);
  T* __restrict PC = blk.data();
  T* __restrict WC = PC + C;
  T* __restrict DB = WC + C;
  T* __restrict DG = DB + C;
  T* __restrict pb = buf.data();
  T* __restrict wb = pb + C;
  const T* __restrict cA = A.cA;
  const T* __restrict cV = A.cV;
  const T* __restrict g = A.gam;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    const T mr = A.rmean[t], vr = A.rvar[t];
    const T rA = A.aC * mr;
    const T oa = A.one_a;
    cn_bwd1_row(C, xr, gr, cA, cV, g, oa, rA, vr, pb, wb, PC, WC, DB, DG);
    const T P = row_sum(pb, C), W = row_sum(wb, C);
    if (A.flags & kFrozen) {
      // dx = (1+a) p - a P - (W / nC) (x - mr)
      const T ar = W * A.inv_nC;
      const T k = -A.a * P;
      T* __restrict dr = A.out + t * C;
      for (int64_t i = 0; i < C; ++i) dr[i] = oa * pb[i] - ar * (xr[i] - mr) + k;
    } else {
      A.rP[t] = P;
      A.rW[t] = W;
    }
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 4 * C);
  }
}

// CN backward, pass 2 (batch): dx = (1+a) p - ar_t (x - mr_t) - ac_i (x - mc_i) + kr_t + kc_i
// (deviations formed explicitly: the terms can be large when a variance is near zero).
template <typename T>
NF_INLINE void cn_bwd2_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict cV = A.cV;
  const T* __restrict g = A.gam;
  const T* __restrict ac = A.ac;
  const T* __restrict kc = A.kc;
  const T* __restrict mc = A.mc;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    T* __restrict dr = A.out + t * C;
    const T vr = A.rvar[t];
    const T ar = A.rW[t] * A.inv_nC;
    const T kr = -A.a * A.rP[t];
    const T mr = A.rmean[t];
    const T oa = A.one_a;
    for (int64_t i = 0; i < C; ++i) {
      const T p = gr[i] * g[i] * rsqrt_nr(cV[i] + vr);
      dr[i] = oa * p - ar * (xr[i] - mr) - ac[i] * (xr[i] - mc[i]) + (kr + kc[i]);
    }
  }
}

// GN output: y = (x - m) * gA + bias.
template <typename T>
NF_INLINE void gn_apply_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict gA = A.gA;
  const T* __restrict be = A.bet;
  const T m = A.m;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    T* __restrict yr = A.out + t * C;
    for (int64_t i = 0; i < C; ++i) yr[i] = (xr[i] - m) * gA[i] + be[i];
  }
}

// GN backward, pass 1. part [2, C]: sum_t dy, sum_t dy * (x - m). kFrozen: dx = dy * gA here.
template <typename T>
NF_INLINE void gn_bwd1_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(2 * C, T(0));
  T* __restrict DB = blk.data();
  T* __restrict DG = DB + C;
  const T* __restrict gA = A.gA;
  const T m = A.m;
  const bool frozen = A.flags & kFrozen;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    for (int64_t i = 0; i < C; ++i) {
      DB[i] += gr[i];
      DG[i] += gr[i] * (xr[i] - m);
    }
    if (frozen) {
      T* __restrict dr = A.out + t * C;
      for (int64_t i = 0; i < C; ++i) dr[i] = gr[i] * gA[i];
    }
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 2 * C);
  }
}

// GN backward, pass 2 (batch).
template <typename T>
NF_INLINE void gn_bwd2_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict gA = A.gA;
  const T m = A.m, k0 = A.k0, k1 = A.k1;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    T* __restrict dr = A.out + t * C;
    for (int64_t i = 0; i < C; ++i) dr[i] = gr[i] * gA[i] + (xr[i] - m) * k1 + k0;
  }
}

// BN output: y = (x - mc) * gA + bias (per-column mean mc, gA = weight / sqrt(var + eps)).
template <typename T>
NF_INLINE void bn_apply_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
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

// BN backward, pass 1. part [2, C]: sum_t dy, sum_t dy * (x - mc).
template <typename T>
NF_INLINE void bn_bwd1_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(2 * C, T(0));
  T* __restrict DB = blk.data();
  T* __restrict DG = DB + C;
  const T* __restrict mc = A.mc;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    for (int64_t i = 0; i < C; ++i) {
      DB[i] += gr[i];
      DG[i] += gr[i] * (xr[i] - mc[i]);
    }
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 2 * C);
  }
}

// BN backward, pass 2: dx = (dy - kc) * gA + (x - mc) * ac  (kc: column mean of dy, so that a
// column of one row gets exactly 0).
template <typename T>
NF_INLINE void bn_bwd2_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict gA = A.gA;
  const T* __restrict mc = A.mc;
  const T* __restrict ac = A.ac;
  const T* __restrict kc = A.kc;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    T* __restrict dr = A.out + t * C;
    for (int64_t i = 0; i < C; ++i) dr[i] = (gr[i] - kc[i]) * gA[i] + (xr[i] - mc[i]) * ac[i];
  }
}

// LN output, one pass: row mean and rstd (biased variance) computed and stored in rmean/rvar.
template <typename T>
NF_INLINE void ln_apply_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict g = A.gam;
  const T* __restrict be = A.bet;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    T* __restrict yr = A.out + t * C;
    const T mr = row_sum(xr, C) / T(C);
    const T r = rsqrt_nr(row_ssd(xr, C, mr) / T(C) + A.k0);  // k0 = eps
    A.rmean[t] = mr;
    A.rvar[t] = r;
    for (int64_t i = 0; i < C; ++i) yr[i] = (xr[i] - mr) * r * g[i] + be[i];
  }
}

// LN backward, one pass. part [2, C]: sum_t dy, sum_t dy * xhat.
// dx = r (p - sum_i p / C - xhat sum_i (p xhat) / C), p = dy * weight, xhat = (x - mean) r.
template <typename T>
NF_INLINE void ln_bwd_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(2 * C, T(0));
  T* __restrict DB = blk.data();
  T* __restrict DW = DB + C;
  const T* __restrict g = A.gam;
  const T invC = T(1) / T(C);
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    T* __restrict dr = A.out + t * C;
    const T mr = A.rmean[t], r = A.rvar[t];
    T P = 0, Q = 0;
    for (int64_t i = 0; i < C; ++i) {
      const T xh = (xr[i] - mr) * r;
      const T p = gr[i] * g[i];
      P += p;
      Q += p * xh;
      DB[i] += gr[i];
      DW[i] += gr[i] * xh;
    }
    const T kP = P * invC, kQ = Q * invC;
    for (int64_t i = 0; i < C; ++i) dr[i] = r * (gr[i] * g[i] - kP - (xr[i] - mr) * r * kQ);
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 2 * C);
  }
}

// Each row kernel twice: baseline ISA and AVX2+FMA, picked once at run time.
template <typename T>
using RowFn = void (*)(const Args<T>&, int64_t, int64_t, double*);

#ifdef NF_X86_CLONES
bool have_avx2() {
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
NF_ROW_KERNEL(cn_apply_rows)
NF_ROW_KERNEL(cn_bwd1_rows)
NF_ROW_KERNEL(cn_bwd2_rows)
NF_ROW_KERNEL(gn_apply_rows)
NF_ROW_KERNEL(gn_bwd1_rows)
NF_ROW_KERNEL(gn_bwd2_rows)
NF_ROW_KERNEL(bn_apply_rows)
NF_ROW_KERNEL(bn_bwd1_rows)
NF_ROW_KERNEL(bn_bwd2_rows)
NF_ROW_KERNEL(ln_apply_rows)
NF_ROW_KERNEL(ln_bwd_rows)

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

// Column parameters of CN shared by forward and backward: cA = a * colsum, cV = colvar + eps.
template <typename T>
void cn_columns(const T* cs, int64_t C, double rows, double eps, std::vector<T>& cA, std::vector<T>& cV) {
  const double a = 1.0 / (rows + static_cast<double>(C));
  cA.resize(C);
  cV.resize(C);
  for (int64_t i = 0; i < C; ++i) {
    cA[i] = static_cast<T>(a * rows * static_cast<double>(cs[i]));
    cV[i] = static_cast<T>(static_cast<double>(cs[C + i]) + eps);
  }
}

template <typename T>
Args<T> cn_args(int64_t Tn, int64_t C, double rows, const T* x, T* rs) {
  Args<T> A;
  A.C = C;
  A.x = x;
  A.inv_nC = static_cast<T>(1.0 / max1(C));
  const double a = 1.0 / (rows + static_cast<double>(C));
  A.a = static_cast<T>(a);
  A.one_a = static_cast<T>(1.0 + a);
  A.aC = static_cast<T>(a * static_cast<double>(C));
  A.rmean = rs;
  A.rvar = rs + Tn;
  return A;
}

}  // namespace

void cross_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps,
                        bool frozen, double t_ref, at::Tensor& y, at::Tensor& rs, at::Tensor& cs) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) return;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cross_norm_forward_cpu", [&] {
    using T = scalar_t;
    const double rows = frozen ? t_ref : static_cast<double>(Tn);
    Args<T> A = cn_args<T>(Tn, C, rows, x.data_ptr<T>(), rs.data_ptr<T>());
    T* csp = cs.data_ptr<T>();
    if (!frozen) {
      A.flags = kRowStats;
      A.shift = A.x;  // row 0
      const auto S = run_rows<T>(A, Tn, 2, stats_rows_fn<T>());
      for (int64_t i = 0; i < C; ++i) {
        const double s1 = S[i], s2 = S[C + i];
        csp[i] = static_cast<T>(static_cast<double>(A.x[i]) + s1 / Tn);
        csp[C + i] = static_cast<T>(std::max(s2 - s1 * s1 / Tn, 0.0) / max1(Tn));
      }
    }
    std::vector<T> cA, cV;
    cn_columns<T>(csp, C, rows, eps, cA, cV);
    const auto gam = vec_or<T>(w, C, T(1)), bet = vec_or<T>(b, C, T(0));
    A.cA = cA.data();
    A.cV = cV.data();
    A.gam = gam.data();
    A.bet = bet.data();
    A.out = y.data_ptr<T>();
    A.flags = frozen ? kLiveRows : 0;
    run_rows<T>(A, Tn, 0, cn_apply_rows_fn<T>());
  });
}

void cross_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                         const at::Tensor& rs, const at::Tensor& cs, double eps, bool frozen,
                         double t_ref, at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) {
    if (dw.defined()) dw.zero_();
    if (db.defined()) db.zero_();
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cross_norm_backward_cpu", [&] {
    using T = scalar_t;
    const double rows = frozen ? t_ref : static_cast<double>(Tn);
    Args<T> A = cn_args<T>(Tn, C, rows, x.data_ptr<T>(), const_cast<T*>(rs.data_ptr<T>()));
    const T* csp = cs.data_ptr<T>();
    std::vector<T> cA, cV;
    cn_columns<T>(csp, C, rows, eps, cA, cV);
    const auto gam = vec_or<T>(w, C, T(1));
    std::vector<T> rPW(frozen ? 0 : static_cast<size_t>(2 * Tn));
    A.cA = cA.data();
    A.cV = cV.data();
    A.gam = gam.data();
    A.dy = dy.data_ptr<T>();
    A.out = dx.data_ptr<T>();
    A.flags = frozen ? kFrozen : 0;
    A.rP = rPW.data();
    A.rW = frozen ? nullptr : rPW.data() + Tn;
    const auto S = run_rows<T>(A, Tn, 4, cn_bwd1_rows_fn<T>());
    if (dw.defined()) {
      T* p = dw.data_ptr<T>();
      for (int64_t i = 0; i < C; ++i) p[i] = static_cast<T>(S[3 * C + i]);
    }
    if (db.defined()) {
      T* p = db.data_ptr<T>();
      for (int64_t i = 0; i < C; ++i) p[i] = static_cast<T>(S[2 * C + i]);
    }
    if (frozen) return;
    // Column terms: dx -= a * PC_i + (WC_i / nT) (x - mc_i)
    std::vector<T> ac(C), kc(C);
    const double a = 1.0 / (rows + static_cast<double>(C));
    for (int64_t i = 0; i < C; ++i) {
      ac[i] = static_cast<T>(S[C + i] / max1(Tn));
      kc[i] = static_cast<T>(-a * S[i]);
    }
    A.ac = ac.data();
    A.kc = kc.data();
    A.mc = csp;
    run_rows<T>(A, Tn, 0, cn_bwd2_rows_fn<T>());
  });
}

void global_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps,
                         bool frozen, at::Tensor& y, at::Tensor& stats) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) return;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "global_norm_forward_cpu", [&] {
    using T = scalar_t;
    Args<T> A;
    A.C = C;
    A.x = x.data_ptr<T>();
    T* st = stats.data_ptr<T>();
    if (!frozen) {
      A.shift = A.x;
      const auto S = run_rows<T>(A, Tn, 2, stats_rows_fn<T>());
      // Pool the per-column (mean, M2) into the global ones (Chan et al.).
      std::vector<double> cm(C);
      double m = 0;
      for (int64_t i = 0; i < C; ++i) {
        cm[i] = static_cast<double>(A.x[i]) + S[i] / Tn;
        m += cm[i];
      }
      m /= C;
      double m2 = 0;
      for (int64_t i = 0; i < C; ++i)
        m2 += std::max(S[C + i] - S[i] * S[i] / Tn, 0.0) + Tn * (cm[i] - m) * (cm[i] - m);
      st[0] = static_cast<T>(m);
      st[1] = static_cast<T>(m2 / max1(Tn * C));
    }
    const double s = 1.0 / std::sqrt(static_cast<double>(st[1]) + eps);
    const auto gam = vec_or<T>(w, C, T(1)), bet = vec_or<T>(b, C, T(0));
    std::vector<T> gA(C);
    for (int64_t i = 0; i < C; ++i) gA[i] = static_cast<T>(s * static_cast<double>(gam[i]));
    A.m = st[0];
    A.gA = gA.data();
    A.bet = bet.data();
    A.out = y.data_ptr<T>();
    run_rows<T>(A, Tn, 0, gn_apply_rows_fn<T>());
  });
}

void global_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                          const at::Tensor& stats, double eps, bool frozen, at::Tensor& dx,
                          at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) {
    if (dw.defined()) dw.zero_();
    if (db.defined()) db.zero_();
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "global_norm_backward_cpu", [&] {
    using T = scalar_t;
    const T* st = stats.data_ptr<T>();
    const double s = 1.0 / std::sqrt(static_cast<double>(st[1]) + eps);
    const auto gam = vec_or<T>(w, C, T(1));
    std::vector<T> gA(C);
    for (int64_t i = 0; i < C; ++i) gA[i] = static_cast<T>(s * static_cast<double>(gam[i]));
    Args<T> A;
    A.C = C;
    A.x = x.data_ptr<T>();
    A.dy = dy.data_ptr<T>();
    A.out = dx.data_ptr<T>();
    A.m = st[0];
    A.gA = gA.data();
    A.flags = frozen ? kFrozen : 0;
    const auto S = run_rows<T>(A, Tn, 2, gn_bwd1_rows_fn<T>());
    // dgamma_i = s * sum dy (x - m), dbeta_i = sum dy
    if (dw.defined()) {
      T* p = dw.data_ptr<T>();
      for (int64_t i = 0; i < C; ++i) p[i] = static_cast<T>(s * S[C + i]);
    }
    if (db.defined()) {
      T* p = db.data_ptr<T>();
      for (int64_t i = 0; i < C; ++i) p[i] = static_cast<T>(S[i]);
    }
    if (frozen) return;
    // dx = s*w*dy - s*G/N - s^2 * S1/(N-1) * (x - m), G = sum w*dy, S1 = sum w*dy*xhat
    double G = 0, S1 = 0;
    for (int64_t i = 0; i < C; ++i) {
      G += static_cast<double>(gam[i]) * S[i];
      S1 += static_cast<double>(gam[i]) * s * S[C + i];
    }
    const double N = static_cast<double>(Tn) * static_cast<double>(C);
    A.k0 = static_cast<T>(-s * G / N);
    A.k1 = static_cast<T>(-s * s * S1 / max1(Tn * C));
    run_rows<T>(A, Tn, 0, gn_bwd2_rows_fn<T>());
  });
}

void batch_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps, at::Tensor& y,
                        at::Tensor& cs) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) return;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "batch_norm_forward_cpu", [&] {
    using T = scalar_t;
    Args<T> A;
    A.C = C;
    A.x = x.data_ptr<T>();
    A.shift = A.x;  // row 0
    const auto S = run_rows<T>(A, Tn, 2, stats_rows_fn<T>());
    T* csp = cs.data_ptr<T>();
    const auto gam = vec_or<T>(w, C, T(1)), bet = vec_or<T>(b, C, T(0));
    std::vector<T> gA(C);
    for (int64_t i = 0; i < C; ++i) {
      const double s1 = S[i], s2 = S[C + i];
      const double var = std::max(s2 - s1 * s1 / Tn, 0.0) / static_cast<double>(Tn);  // biased, as torch's BN
      csp[i] = static_cast<T>(static_cast<double>(A.x[i]) + s1 / Tn);
      csp[C + i] = static_cast<T>(var);
      gA[i] = static_cast<T>(static_cast<double>(gam[i]) / std::sqrt(var + eps));
    }
    A.mc = csp;
    A.gA = gA.data();
    A.bet = bet.data();
    A.out = y.data_ptr<T>();
    run_rows<T>(A, Tn, 0, bn_apply_rows_fn<T>());
  });
}

void batch_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& cs,
                         double eps, at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) {
    if (dw.defined()) dw.zero_();
    if (db.defined()) db.zero_();
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "batch_norm_backward_cpu", [&] {
    using T = scalar_t;
    const T* csp = cs.data_ptr<T>();
    const auto gam = vec_or<T>(w, C, T(1));
    Args<T> A;
    A.C = C;
    A.x = x.data_ptr<T>();
    A.dy = dy.data_ptr<T>();
    A.out = dx.data_ptr<T>();
    A.mc = csp;
    const auto S = run_rows<T>(A, Tn, 2, bn_bwd1_rows_fn<T>());
    // s = 1/sqrt(var + eps); dx = g s (dy - S1/N) - g s^3 S2/N (x - mc); dw = s S2, db = S1.
    std::vector<T> gA(C), ac(C), kc(C);
    const double N = static_cast<double>(Tn);
    for (int64_t i = 0; i < C; ++i) {
      const double s = 1.0 / std::sqrt(static_cast<double>(csp[C + i]) + eps), g = static_cast<double>(gam[i]);
      gA[i] = static_cast<T>(g * s);
      ac[i] = static_cast<T>(-g * s * s * s * S[C + i] / N);
      kc[i] = static_cast<T>(S[i] / N);
      if (dw.defined()) dw.data_ptr<T>()[i] = static_cast<T>(s * S[C + i]);
      if (db.defined()) db.data_ptr<T>()[i] = static_cast<T>(S[i]);
    }
    A.gA = gA.data();
    A.ac = ac.data();
    A.kc = kc.data();
    run_rows<T>(A, Tn, 0, bn_bwd2_rows_fn<T>());
  });
}

void layer_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps, at::Tensor& y,
                        at::Tensor& rs) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) return;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "layer_norm_forward_cpu", [&] {
    using T = scalar_t;
    const auto gam = vec_or<T>(w, C, T(1)), bet = vec_or<T>(b, C, T(0));
    Args<T> A;
    A.C = C;
    A.x = x.data_ptr<T>();
    A.gam = gam.data();
    A.bet = bet.data();
    A.k0 = static_cast<T>(eps);
    A.rmean = rs.data_ptr<T>();
    A.rvar = A.rmean + Tn;
    A.out = y.data_ptr<T>();
    run_rows<T>(A, Tn, 0, ln_apply_rows_fn<T>());
  });
}

void layer_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& rs,
                         at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (Tn == 0 || C == 0) {
    if (dw.defined()) dw.zero_();
    if (db.defined()) db.zero_();
    return;
  }
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "layer_norm_backward_cpu", [&] {
    using T = scalar_t;
    const auto gam = vec_or<T>(w, C, T(1));
    Args<T> A;
    A.C = C;
    A.x = x.data_ptr<T>();
    A.dy = dy.data_ptr<T>();
    A.out = dx.data_ptr<T>();
    A.gam = gam.data();
    A.rmean = const_cast<T*>(rs.data_ptr<T>());
    A.rvar = A.rmean + Tn;
    const auto S = run_rows<T>(A, Tn, 2, ln_bwd_rows_fn<T>());
    for (int64_t i = 0; i < C; ++i) {
      if (dw.defined()) dw.data_ptr<T>()[i] = static_cast<T>(S[C + i]);
      if (db.defined()) db.data_ptr<T>()[i] = static_cast<T>(S[i]);
    }
  });
}

}  // namespace nf::fused_cpu
