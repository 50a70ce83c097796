// CPU kernels of the fused BN and LN (fields/norm_fused.h): BN is one column-statistics pass and
// one output pass forward, two passes backward; LN one pass each way (row statistics in the row).
// The row-kernel machinery is in fields/norm_fused_cpu_common.h.
#include <ATen/Dispatch.h>

#include "fields/norm_fused_cpu.h"
#include "fields/norm_fused_cpu_common.h"

namespace nf::fused_cpu {
namespace {
using namespace detail;

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

NF_ROW_KERNEL(bn_bwd2_rows)
NF_ROW_KERNEL(ln_apply_rows)
NF_ROW_KERNEL(ln_bwd_rows)

}  // namespace

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
    run_rows<T>(A, Tn, 0, affine_rows_fn<T>());
  });
}

void batch_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& cs,
                         double eps, at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (empty_backward(x, dw, db)) return;
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
    const auto S = run_rows<T>(A, Tn, 2, dy_colsums_rows_fn<T>());
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
  if (empty_backward(x, dw, db)) return;
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
