// CPU kernels of the fused CN and GN (fields/norm_fused.h); the row-kernel machinery is in
// fields/norm_fused_cpu_common.h, BN and LN in fields/norm_fused_cpu_bn_ln.cpp.
#include <ATen/Dispatch.h>

#include "fields/norm_fused_cpu.h"
#include "fields/norm_fused_cpu_common.h"

namespace nf::fused_cpu {
namespace {
using namespace detail;

// One output row of CN: y = xhat * g + b, xhat = (oa x - rA - cA) s, s = rsqrt(cV + vr); kRelu:
// max(0, y). The backward recomputes y with the same expression for the ReLU mask.
template <bool kReluOut, typename T>
NF_INLINE void cn_out_row(int64_t C, const T* __restrict xr, const T* __restrict cA, const T* __restrict cV,
                          const T* __restrict g, const T* __restrict be, T oa, T rA, T vr, T* __restrict yr) {
  for (int64_t i = 0; i < C; ++i) {
    const T v = (oa * xr[i] - rA - cA[i]) * rsqrt_nr(cV[i] + vr) * g[i] + be[i];
    yr[i] = kReluOut ? (T(0) > v ? T(0) : v) : v;  // max(0, v), NaN kept
  }
}

// CN output. kLiveRows: row statistics computed here (and stored), else read. kRelu: max(0, y).
template <typename T>
NF_INLINE void cn_apply_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const bool relu = A.flags & kRelu;
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
    if (relu)
      cn_out_row<true>(C, xr, A.cA, A.cV, A.gam, A.bet, A.one_a, rA, vr, yr);
    else
      cn_out_row<false>(C, xr, A.cA, A.cV, A.gam, A.bet, A.one_a, rA, vr, yr);
  }
}

// One row of cn_bwd1_rows. Restrict parameters (not locals) tell GCC that the 6 outputs alias
// nothing, without which it gives up on vectorising (too many runtime alias checks). kReluOut: dy
// is masked by y > 0, y recomputed as the forward computed it (cn_out_row).
template <bool kReluOut, typename T>
NF_INLINE void cn_bwd1_row(int64_t C, const T* __restrict xr, const T* __restrict gr, const T* __restrict cA,
                           const T* __restrict cV, const T* __restrict g, const T* __restrict be, T oa, T rA,
                           T vr, T* __restrict pb, T* __restrict wb, T* __restrict PC, T* __restrict WC,
                           T* __restrict DB, T* __restrict DG) {
  for (int64_t i = 0; i < C; ++i) {
    const T s = rsqrt_nr(cV[i] + vr);
    const T xh = (oa * xr[i] - rA - cA[i]) * s;
    const T d = kReluOut ? (xh * g[i] + be[i] > T(0) ? gr[i] : T(0)) : gr[i];
    const T p = d * g[i] * s;
    const T w = p * xh * s;
    pb[i] = p;
    wb[i] = w;
    PC[i] += p;
    WC[i] += w;
    DB[i] += d;
    DG[i] += d * xh;
  }
}

// CN backward, pass 1. part [4, C]: sum_t p, sum_t p*xhat*s, sum_t dy, sum_t dy*xhat, with
// s = rsqrt(v + eps), xhat = (x - u) * s, p = dy * weight * s (kRelu: dy masked by y > 0).
// p goes to dx (out); kFrozen: dx finished here (row terms only); else rP/rW stored for pass 2.
template <typename T>
NF_INLINE void cn_bwd1_rows(const Args<T>& A, int64_t b, int64_t e, double* part) {
  const int64_t C = A.C;
  std::vector<T> blk(4 * C, T(0)), buf(C);
  T* __restrict PC = blk.data();
  T* __restrict WC = PC + C;
  T* __restrict DB = WC + C;
  T* __restrict DG = DB + C;
  T* __restrict wb = buf.data();
  const bool relu = A.flags & kRelu;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    const T* __restrict gr = A.dy + t * C;
    T* __restrict dr = A.out + t * C;
    const T mr = A.rmean[t], vr = A.rvar[t];
    const T rA = A.aC * mr;
    const T oa = A.one_a;
    if (relu)
      cn_bwd1_row<true>(C, xr, gr, A.cA, A.cV, A.gam, A.bet, oa, rA, vr, dr, wb, PC, WC, DB, DG);
    else
      cn_bwd1_row<false>(C, xr, gr, A.cA, A.cV, A.gam, A.bet, oa, rA, vr, dr, wb, PC, WC, DB, DG);
    const T P = row_sum(dr, C), W = row_sum(wb, C);
    if (A.flags & kFrozen) {
      // dx = (1+a) p - a P - (W / nC) (x - mr)
      const T ar = W * A.inv_nC;
      const T k = -A.a * P;
      for (int64_t i = 0; i < C; ++i) dr[i] = oa * dr[i] - ar * (xr[i] - mr) + k;
    } else {
      A.rP[t] = P;
      A.rW[t] = W;
    }
    if ((t - b + 1) % kBlock == 0 || t + 1 == e) flush(blk.data(), part, 4 * C);
  }
}

// CN backward, pass 2 (batch), in place on dx = p from pass 1:
// dx = (1+a) p - ar_t (x - mr_t) - ac_i (x - mc_i) + kr_t + kc_i
// (deviations formed explicitly: the terms can be large when a variance is near zero).
template <typename T>
NF_INLINE void cn_bwd2_rows(const Args<T>& A, int64_t b, int64_t e, double*) {
  const int64_t C = A.C;
  const T* __restrict ac = A.ac;
  const T* __restrict kc = A.kc;
  const T* __restrict mc = A.mc;
  for (int64_t t = b; t < e; ++t) {
    const T* __restrict xr = A.x + t * C;
    T* __restrict dr = A.out + t * C;
    const T ar = A.rW[t] * A.inv_nC;
    const T kr = -A.a * A.rP[t];
    const T mr = A.rmean[t];
    const T oa = A.one_a;
    for (int64_t i = 0; i < C; ++i)
      dr[i] = oa * dr[i] - ar * (xr[i] - mr) - ac[i] * (xr[i] - mc[i]) + (kr + kc[i]);
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

NF_ROW_KERNEL(cn_apply_rows)
NF_ROW_KERNEL(cn_bwd1_rows)
NF_ROW_KERNEL(cn_bwd2_rows)
NF_ROW_KERNEL(gn_bwd2_rows)

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
                        bool frozen, double t_ref, bool relu, at::Tensor& y, at::Tensor& rs, at::Tensor& cs) {
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
    A.flags = (frozen ? kLiveRows : 0) | (relu ? kRelu : 0);
    run_rows<T>(A, Tn, 0, cn_apply_rows_fn<T>());
  });
}

void cross_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                         const at::Tensor& rs, const at::Tensor& cs, double eps, bool frozen,
                         double t_ref, bool relu, at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (empty_backward(x, dw, db)) return;
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cross_norm_backward_cpu", [&] {
    using T = scalar_t;
    const double rows = frozen ? t_ref : static_cast<double>(Tn);
    Args<T> A = cn_args<T>(Tn, C, rows, x.data_ptr<T>(), const_cast<T*>(rs.data_ptr<T>()));
    const T* csp = cs.data_ptr<T>();
    std::vector<T> cA, cV;
    cn_columns<T>(csp, C, rows, eps, cA, cV);
    const auto gam = vec_or<T>(w, C, T(1)), bet = vec_or<T>(b, C, T(0));
    std::vector<T> rPW(frozen ? 0 : static_cast<size_t>(2 * Tn));
    A.cA = cA.data();
    A.cV = cV.data();
    A.gam = gam.data();
    A.bet = bet.data();
    A.dy = dy.data_ptr<T>();
    A.out = dx.data_ptr<T>();
    A.flags = (frozen ? kFrozen : 0) | (relu ? kRelu : 0);
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
    const std::vector<T> mvec(static_cast<size_t>(C), st[0]);
    A.mc = mvec.data();
    A.gA = gA.data();
    A.bet = bet.data();
    A.out = y.data_ptr<T>();
    run_rows<T>(A, Tn, 0, affine_rows_fn<T>());
  });
}

void global_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                          const at::Tensor& stats, double eps, bool frozen, at::Tensor& dx,
                          at::Tensor& dw, at::Tensor& db) {
  const int64_t Tn = x.size(0), C = x.size(1);
  if (empty_backward(x, dw, db)) return;
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
    const std::vector<T> mvec(static_cast<size_t>(C), st[0]);
    A.mc = mvec.data();
    const auto S = run_rows<T>(A, Tn, 2, dy_colsums_rows_fn<T>());
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

}  // namespace nf::fused_cpu
