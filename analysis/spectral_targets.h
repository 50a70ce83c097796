#pragma once
// Test signals for the spectral analyses (paper Figs. 1 and 3) and the frequency-band error of a
// field fitted to one: a target sampled on a grid (coordinates, values, spatial layout, bands) and
// the relative error per band (analysis/band_error.h) of the field's prediction on it.
// The fitting runs themselves (fit_spectrum, run_ntk) are in tasks/spectral.h.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>
#include <vector>

#include "fields/field.h"

namespace nf {

// A target sampled on a grid: coordinates [N, d] and values [N, C]; `shape` is the spatial layout
// of the N samples ({N} in 1-D, {H, W} in 2-D) used for the FFT.
struct SpectralTarget {
  std::string name;
  at::Tensor coords;               // [N, d] in [-1, 1]
  at::Tensor values;               // [N, C]
  std::vector<int64_t> shape;      // {N} or {H, W}
  int64_t n_bins = 10;             // bands for relative_band_error
  double max_freq = 0;             // band range (fraction of Nyquist), see analysis/band_error.h
  std::vector<double> band_labels; // [n_bins] y coordinate of each band in plots
  std::string band_unit;           // what band_labels mean
  // 1-D sums of sines: when set, the error is measured at these FFT indices only (one per band,
  // relative_error_at_frequencies) instead of summed over bands.
  std::vector<int64_t> frequency_indices;
};

// 1-D: n points x_j = -1 + 2j/n and the sum of `components` unit sines sin(pi c_i x + phi_i),
// c_i = i * base_cycles cycles over [-1, 1) (i = 1..components; phases from `seed`), scaled by
// 1/components. The error is measured at the FFT indices c_i (frequency_indices); labels are c_i.
SpectralTarget sine_sum_target(int64_t n, int64_t components, int64_t base_cycles, uint64_t seed);
// 2-D zone plate [size, size] in [0, 1]: 0.5 + 0.5 cos(pi/4 * size * r^2), r = distance from the
// centre in [-1, 1] units; the local frequency rises linearly, about r/2 cycles per pixel (Nyquist
// at the edge midpoints; the corners alias).
SpectralTarget zone_plate_target(int64_t size, int64_t n_bins);
// 2-D image [H, W, C] in [0, 1]; coordinates: both axes divided by (H - 1), mapped to [-1, ...]
// (the reference convention). Bands over [0, sqrt 2] Nyquist.
SpectralTarget image_target(const at::Tensor& hwc, const std::string& name, int64_t n_bins);

// The field's relative error per band on the target (no grad; the field's norm mode as it is):
// relative_band_error, or relative_error_at_frequencies when target.frequency_indices is set.
// -> n_bins values (NaN where the target has no amplitude).
std::vector<double> target_band_errors(FieldImpl& field, const SpectralTarget& target);

}  // namespace nf
