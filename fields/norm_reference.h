#pragma once
// Reference (oracle) implementations of the four normalizations, in plain tensor ops, exactly the
// formulas of the official Norm-INR code (see docs/normalization.md). Every other implementation
// (fused CPU/CUDA kernels) is tested against these.
//
// Shapes: x is a batch of pre-activations [T, C]; weight/bias are [C] (may be undefined = identity).
// Unbiased variances use the denominator max(n-1, 1), so a single row or column gives variance 0
// instead of the NaN torch.var would give (the reference is undefined there).
#include <ATen/ATen.h>

namespace nf::ref {

// Unbiased variance along dim (kept), denominator max(n-1, 1).
at::Tensor unbiased_var(const at::Tensor& x, int64_t dim, bool keepdim = true);

// BN: per channel over T, biased variance (torch BatchNorm1d training semantics).
at::Tensor batch_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);
// BN frozen: mean/var [C] (biased var) fixed.
at::Tensor batch_norm_frozen(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor& mean, const at::Tensor& var, double eps);

// LN: per sample over C, biased variance (torch LayerNorm).
at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);

// GN: one mean and one unbiased variance over all T*C entries, per-channel affine.
at::Tensor global_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);
// GN frozen: scalar mean/var ([1] tensors) fixed.
at::Tensor global_norm_frozen(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                              const at::Tensor& mean, const at::Tensor& var, double eps);

// CN: u[t,i] = (rowsum_t + colsum_i - x[t,i]) / (T + C);
//     v[t,i] = var_T(column i) + var_C(row t)   (both unbiased);
//     out = (x - u) / sqrt(v + eps) * weight + bias.
at::Tensor cross_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps);
// CN frozen: column mean/var [C] and the reference batch size t_ref fixed (colsum = t_ref * mean);
// row statistics stay live, so each output row depends only on its own input row.
at::Tensor cross_norm_frozen(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor& col_mean, const at::Tensor& col_var, double t_ref,
                             double eps);

}  // namespace nf::ref
