// Spectral test signals and the band error of a field on them (see spectral_targets.h).
#include "analysis/spectral_targets.h"

#include <cmath>
#include <random>
#include <stdexcept>

#include "analysis/band_error.h"

namespace nf {
namespace {

at::Tensor to_spatial(const at::Tensor& v, const std::vector<int64_t>& shape) {  // [N, C] -> [N] / [H, W, C]
  if (shape.size() == 1) return v.size(1) == 1 ? v.reshape({shape[0]}) : v;
  return v.reshape({shape[0], shape[1], v.size(1)});
}

}  // namespace

std::vector<double> target_band_errors(FieldImpl& f, const SpectralTarget& t) {
  at::NoGradGuard ng;
  auto pred = f.forward(t.coords);
  auto e = t.frequency_indices.empty()
               ? relative_band_error(to_spatial(pred, t.shape), to_spatial(t.values, t.shape), t.n_bins, t.max_freq)
               : relative_error_at_frequencies(to_spatial(pred, t.shape), to_spatial(t.values, t.shape),
                                               t.frequency_indices);
  auto c = e.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}


SpectralTarget sine_sum_target(int64_t n, int64_t components, int64_t base_cycles, uint64_t seed) {
  if (n < 8 || components < 1 || base_cycles < 1 || 2 * (components + 0.5) * base_cycles > n)
    throw std::runtime_error("analysis/spectral_targets.cpp: sine_sum_target: need n >= 8 and the highest frequency below Nyquist");
  SpectralTarget t;
  t.name = "sine-sum";
  auto x = -1.0 + 2.0 * at::arange(n, at::kDouble) / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> phase(0, 2 * M_PI);
  auto y = at::zeros({n}, at::kDouble);
  for (int64_t i = 1; i <= components; ++i) {
    const int64_t c = i * base_cycles;
    y += at::sin(M_PI * static_cast<double>(c) * x + phase(rng));
    t.band_labels.push_back(static_cast<double>(c));
    t.frequency_indices.push_back(c);
  }
  y /= static_cast<double>(components);
  t.coords = x.to(at::kFloat).view({n, 1});
  t.values = y.to(at::kFloat).view({n, 1});
  t.shape = {n};
  t.n_bins = components;
  // (band alternative: component i sits at r = 2 c_i / n in Nyquist units, one per band up to this)
  t.max_freq = 2.0 * (components + 0.5) * base_cycles / n;
  t.band_unit = "cycles over [-1, 1]";
  return t;
}

namespace {
at::Tensor grid_coords(int64_t H, int64_t W) {  // reference convention: both axes / (H - 1)
  auto r = at::arange(H, at::kFloat) / static_cast<float>(H - 1) * 2 - 1;
  auto c = at::arange(W, at::kFloat) / static_cast<float>(H - 1) * 2 - 1;
  auto g = at::meshgrid({r, c}, "ij");
  return at::stack({g[1].reshape({-1}), g[0].reshape({-1})}, 1);  // (x = column, y = row)
}
void radial_labels(SpectralTarget& t) {
  const double mf = t.max_freq > 0 ? t.max_freq : std::sqrt(2.0);
  t.band_labels.clear();
  for (int64_t b = 0; b < t.n_bins; ++b) t.band_labels.push_back((b + 0.5) * mf / t.n_bins);
  t.band_unit = "radial frequency (fraction of Nyquist)";
}
}  // namespace

SpectralTarget zone_plate_target(int64_t size, int64_t n_bins) {
  SpectralTarget t;
  t.name = "zone-plate";
  auto xy = grid_coords(size, size);
  auto r2 = xy.pow(2).sum(1, true);
  // phase pi/4 * size * r^2: size * r / 4 cycles per unit, one unit = (size - 1) / 2 pixels, so about
  // r / 2 cycles per pixel: Nyquist at r = 1 (the corners, r up to sqrt 2, alias).
  t.values = 0.5 + 0.5 * at::cos(M_PI / 4 * size * r2);
  t.coords = xy;
  t.shape = {size, size};
  t.n_bins = n_bins;
  t.max_freq = 0;
  radial_labels(t);
  return t;
}

SpectralTarget image_target(const at::Tensor& hwc, const std::string& name, int64_t n_bins) {
  if (hwc.dim() != 3) throw std::runtime_error(name + ": image must be [H, W, C]");
  SpectralTarget t;
  t.name = name;
  const int64_t H = hwc.size(0), W = hwc.size(1), C = hwc.size(2);
  t.coords = grid_coords(H, W);
  t.values = hwc.to(at::kFloat).reshape({H * W, C}).contiguous();
  t.shape = {H, W};
  t.n_bins = n_bins;
  t.max_freq = 0;
  radial_labels(t);
  return t;
}

}  // namespace nf
