#pragma once
// Empirical neural tangent kernel (NTK) of a field and its eigenvalue statistics (paper Fig. 1, Eq. 6).
//
// Jacobian: J = d out.view(-1) / d theta, shape [T*C, P], where out = field.forward(x) is the output
// of ONE joint forward pass over the whole batch x [T, in_dim] (row k = t*C + c), and theta are all
// trainable parameters flattened in parameters() order. With batch-dependent norms in batch mode
// (BN, GN, CN) every output depends on every sample, and this J contains those cross-sample terms.
// J is built in reverse mode, one backward per output row (retain_graph). K = J J^T [T*C, T*C].
// See docs/ntk.md.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <vector>

#include "fields/field.h"

namespace nf {

// x: [T, in_dim] -> J [T*C, P] (C = field.out_dim(), P = trainable scalars).
// double_precision: the field is converted to double for the computation and converted back
// afterwards (float -> double -> float is exact). Buffers changed by the forward pass (the norm
// layers' running statistics) are restored, so the field is left as it was found.
// J is returned on the CPU, in double when double_precision, else in the field's dtype.
at::Tensor ntk_jacobian(FieldImpl& field, const at::Tensor& x, bool double_precision = false);

// x: [T, in_dim] -> K = J J^T, [T*C, T*C] on the CPU (see ntk_jacobian).
at::Tensor empirical_ntk(FieldImpl& field, const at::Tensor& x, bool double_precision = false);

struct NtkStats {
  int64_t n = 0;                  // N = C*T, the size of K
  at::Tensor eigenvalues;         // [N] double, ascending (at::linalg_eigvalsh)
  double trace = 0;               // trace(K)
  double mean = 0;                // m = trace(K) / N, the mean eigenvalue
  double second_moment = 0;       // s = sum(lambda^2) / N = ||K||_F^2 / N
  double variance = 0;            // s - m^2 (population variance of the eigenvalues)
  double min = 0, max = 0, median = 0;
  std::vector<double> thresholds;  // {1e-3, 1e-2, 1e-1, 1, 10}
  std::vector<double> fraction_above;  // fraction of eigenvalues > thresholds[i]
  // Eq. 6: s/m <= lambda_max <= sqrt(N s), true for any PSD K. Checked with a relative tolerance
  // of 1e-6 (float eigensolvers).
  double lower_bound = 0, upper_bound = 0;
  bool lower_bound_holds = false, upper_bound_holds = false;
};

// K: [N, N] symmetric PSD (symmetrised as (K + K^T)/2 before the eigensolver; computed in double).
NtkStats ntk_statistics(const at::Tensor& K);
// Without the eigenvalue vector; with_eigenvalues adds "eigenvalues" as an array.
nlohmann::json to_json(const NtkStats& s, bool with_eigenvalues = false);

// Histogram of log10(eigenvalue) over [lo, hi] in `bins` equal bins (eigenvalues <= 0 or below
// 10^lo count in the first bin, above 10^hi in the last). -> counts, size bins.
std::vector<int64_t> log10_histogram(const at::Tensor& eigenvalues, double lo, double hi, int64_t bins);

}  // namespace nf
