#pragma once
// Fused normalizations: the exact semantics of nf::ref:: (fields/norm_reference.h), computed in a
// few passes over x without full-size temporaries, with hand-written backward passes
// (torch::autograd::Function). CPU kernels live in fields/norm_fused_cpu.cpp, CUDA kernels in
// fields/cuda/norm_fused.cu; fields/norm_fused.cpp holds the one CPU/CUDA dispatch point per op.
//
// Shapes: x [T, C]; weight, bias [C] or undefined (identity); float or double (weight/bias are cast
// to x's dtype). Unbiased variances use the denominator max(n-1, 1), as the reference does.
//
// Memory: forward saves x plus [2, T] row and [2, C] column statistics; backward allocates dx and
// O(T + C) temporaries. Passes over x (CPU): CN batch forward 2, backward 2; CN frozen forward 1,
// backward 1; GN batch forward 2, backward 2; GN frozen forward 1, backward 1. CN's second backward
// pass reads x and its own first pass's output (p, in dx), not dy. CPU entry points:
// fields/norm_fused_cpu.h (internal).
//
// Double backward (backward with create_graph, e.g. an eikonal loss through a norm layer) is
// supported: backward then falls back to differentiating the reference formulas.
#include <ATen/ATen.h>

namespace nf {

// True when the fused kernels handle x: a 2-D float or double tensor (CPU, or CUDA in a CUDA build).
bool fused_norm_supported(const at::Tensor& x);

// CN: u[t,i] = (rowsum_t + colsum_i - x[t,i]) / (T + C); v = var_T(col i) + var_C(row t);
// out = (x - u) / sqrt(v + eps) * weight + bias.       x: [T, C] -> [T, C]
at::Tensor cross_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            double eps);
// CN frozen: colsum = t_ref * col_mean, var_T = col_var (constants, no gradient); rows live.
// col_mean, col_var: [C]; x: [T, C] -> [T, C]. relu: max(0, out) in the same pass (as below).
at::Tensor cross_norm_frozen_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                   const at::Tensor& col_mean, const at::Tensor& col_var, double t_ref,
                                   double eps, bool relu = false);

// GN: one mean and one unbiased variance over all T*C entries, per-channel affine. [T, C] -> [T, C]
at::Tensor global_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             double eps);
// GN frozen: mean, var are [1] constants (no gradient).                        [T, C] -> [T, C]
at::Tensor global_norm_frozen_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                    const at::Tensor& mean, const at::Tensor& var, double eps);

// The batch-mode ops again, also returning the statistics their forward computed, for a running
// estimate without a pass of its own (detached; undefined where the op fell back to another path:
// empty x, or BN on CUDA): CN [2, C] (column mean, unbiased column variance), GN [2] (mean, unbiased
// variance), BN [2, C] (column mean, biased column variance).
struct NormWithStats {
  at::Tensor y;      // [T, C]
  at::Tensor stats;  // see above, or undefined
};
// relu: y = max(0, CN(x)) from CN's output pass; the backward recomputes the mask from x (nothing
// more is saved), so CN + ReLU costs what CN alone does (fused == at::relu(reference) in the tests).
NormWithStats cross_norm_fused_stats(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                     double eps, bool relu = false);
NormWithStats global_norm_fused_stats(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                      double eps);
NormWithStats batch_norm_fused_stats(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                     double eps);

// BN and LN with the reference's semantics (BN: biased variance over T per channel; LN: biased
// variance over C per row; frozen BN: mean/var [C]). CPU: the row kernels below, one statistics pass
// + one output pass (BN), one pass (LN), backward 2 passes (BN) / 1 pass (LN); LibTorch 1.13's CPU
// batch_norm/layer_norm were 2-4x slower on [T, C] with small C. CUDA and frozen BN: at::batch_norm /
// at::layer_norm (cuDNN).                                                      [T, C] -> [T, C]
at::Tensor batch_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            double eps);
at::Tensor batch_norm_frozen_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                   const at::Tensor& mean, const at::Tensor& var, double eps);
at::Tensor layer_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                            double eps);

}  // namespace nf
