#include "fields/norm_reference.h"

#include <algorithm>

namespace nf::ref {
namespace {
at::Tensor affine(at::Tensor y, const at::Tensor& weight, const at::Tensor& bias) {
  if (weight.defined()) y = y * weight;
  if (bias.defined()) y = y + bias;
  return y;
}
}  // namespace

at::Tensor unbiased_var(const at::Tensor& x, int64_t dim, bool keepdim) {
  const int64_t n = x.size(dim);
  auto mean = x.mean(dim, /*keepdim=*/true);
  auto ss = (x - mean).pow(2).sum(dim, keepdim);
  return ss / static_cast<double>(std::max<int64_t>(n - 1, 1));
}

at::Tensor batch_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  auto mean = x.mean(0, true);
  auto var = (x - mean).pow(2).mean(0, true);
  return affine((x - mean) * at::rsqrt(var + eps), weight, bias);
}

at::Tensor batch_norm_frozen(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor& mean, const at::Tensor& var, double eps) {
  return affine((x - mean) * at::rsqrt(var + eps), weight, bias);
}

at::Tensor layer_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  auto mean = x.mean(1, true);
  auto var = (x - mean).pow(2).mean(1, true);
  return affine((x - mean) * at::rsqrt(var + eps), weight, bias);
}

at::Tensor global_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  auto mean = x.mean();
  auto var = (x - mean).pow(2).sum() / static_cast<double>(std::max<int64_t>(x.numel() - 1, 1));
  return affine((x - mean) * at::rsqrt(var + eps), weight, bias);
}

at::Tensor global_norm_frozen(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                              const at::Tensor& mean, const at::Tensor& var, double eps) {
  return affine((x - mean) * at::rsqrt(var + eps), weight, bias);
}

at::Tensor cross_norm(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  const double T = static_cast<double>(x.size(0));
  const double C = static_cast<double>(x.size(1));
  auto u = (x.sum(1, true) + x.sum(0, true) - x) / (T + C);
  auto v = unbiased_var(x, 0) + unbiased_var(x, 1);
  return affine((x - u) * at::rsqrt(v + eps), weight, bias);
}

at::Tensor cross_norm_frozen(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                             const at::Tensor& col_mean, const at::Tensor& col_var, double t_ref,
                             double eps) {
  const double C = static_cast<double>(x.size(1));
  auto u = (x.sum(1, true) + col_mean * t_ref - x) / (t_ref + C);
  auto v = col_var + unbiased_var(x, 1);
  return affine((x - u) * at::rsqrt(v + eps), weight, bias);
}

}  // namespace nf::ref
