#include "analysis/band_error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace nf {
namespace {

// [n] frequencies in cycles per sample, FFT order (as numpy.fft.fftfreq).
at::Tensor fftfreq(int64_t n) {
  auto k = at::arange(n, at::kDouble);
  return at::where(k < (n + 1) / 2, k, k - n) / static_cast<double>(n);
}

}  // namespace

at::Tensor frequency_radius(at::IntArrayRef shape) {
  if (shape.size() == 1) return fftfreq(shape[0]).abs() / 0.5;
  if (shape.size() == 2) {
    auto fy = fftfreq(shape[0]).view({-1, 1});
    auto fx = fftfreq(shape[1]).view({1, -1});
    return at::sqrt(fy * fy + fx * fx) / 0.5;
  }
  throw std::runtime_error("analysis/band_error.cpp: frequency_radius needs a 1-D or 2-D shape");
}

at::Tensor radial_spectrum(const at::Tensor& signal, int64_t n_bins, double max_freq) {
  if (n_bins < 1) throw std::runtime_error("analysis/band_error.cpp: n_bins must be >= 1");
  auto s = signal.detach().to(at::kCPU, at::kDouble);
  at::Tensor amp;  // [N] or [H, W]
  at::Tensor radius;
  if (s.dim() == 1) {
    amp = at::fft_fft(s).abs();
    radius = frequency_radius({s.size(0)});
  } else if (s.dim() == 2 || s.dim() == 3) {
    if (s.dim() == 2) s = s.unsqueeze(2);
    amp = at::fft_fft2(s, c10::nullopt, {0, 1}).abs().sum(2);
    radius = frequency_radius({s.size(0), s.size(1)});
  } else {
    throw std::runtime_error("analysis/band_error.cpp: signal must be [N], [H, W] or [H, W, C]");
  }
  if (max_freq <= 0) max_freq = radius.max().item<double>();
  auto r = radius.reshape({-1});
  auto a = amp.reshape({-1});
  auto keep = r <= max_freq * (1 + 1e-12);
  auto bin = at::floor(r / max_freq * static_cast<double>(n_bins)).clamp(0, n_bins - 1).to(at::kLong);
  auto out = at::zeros({n_bins}, at::kDouble);
  out.index_add_(0, bin.masked_select(keep), a.masked_select(keep));
  return out;
}

at::Tensor relative_band_error(const at::Tensor& pred, const at::Tensor& target, int64_t n_bins,
                               double max_freq) {
  if (!pred.sizes().equals(target.sizes()))
    throw std::runtime_error("analysis/band_error.cpp: pred and target shapes differ");
  auto p = pred.detach().to(at::kCPU, at::kDouble);
  auto t = target.detach().to(at::kCPU, at::kDouble);
  auto num = radial_spectrum(p - t, n_bins, max_freq);
  auto den = radial_spectrum(t, n_bins, max_freq);
  const double floor_ = 1e-12 * std::max(den.sum().item<double>(), 1e-300);
  return at::where(den > floor_, num / den.clamp_min(floor_),
                   at::full_like(num, std::numeric_limits<double>::quiet_NaN()));
}

at::Tensor relative_error_at_frequencies(const at::Tensor& pred, const at::Tensor& target,
                                         const std::vector<int64_t>& k) {
  if (pred.dim() != 1 || !pred.sizes().equals(target.sizes()))
    throw std::runtime_error("analysis/band_error.cpp: relative_error_at_frequencies needs 1-D pred and target of one size");
  const int64_t N = pred.size(0);
  for (auto i : k)
    if (i < 0 || i > N / 2) throw std::runtime_error("analysis/band_error.cpp: frequency index out of [0, N/2]");
  auto t = target.detach().to(at::kCPU, at::kDouble);
  auto num = at::fft_fft(pred.detach().to(at::kCPU, at::kDouble) - t).abs();
  auto den = at::fft_fft(t).abs();
  auto idx = at::tensor(k, at::kLong);
  auto n = num.index_select(0, idx), d = den.index_select(0, idx);
  const double floor_ = 1e-12 * std::max(den.sum().item<double>(), 1e-300);
  return at::where(d > floor_, n / d.clamp_min(floor_), at::full_like(n, std::numeric_limits<double>::quiet_NaN()));
}

}  // namespace nf
