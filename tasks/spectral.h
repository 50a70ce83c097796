#pragma once
// Spectral analysis runs behind `normfield ntk` and `normfield spectrum` (paper Figs. 1 and 3):
// test signals, a plain full-batch fitting loop, NTK statistics per method and the relative error per
// frequency band over training.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "fields/field.h"
#include "fields/ntk.h"

namespace nf {

// A target sampled on a grid: coordinates [N, d] and values [N, C]; `shape` is the spatial layout
// of the N samples ({N} in 1-D, {H, W} in 2-D) used for the FFT.
struct SpectralTarget {
  std::string name;
  at::Tensor coords;               // [N, d] in [-1, 1]
  at::Tensor values;               // [N, C]
  std::vector<int64_t> shape;      // {N} or {H, W}
  int64_t n_bins = 10;             // bands for relative_band_error
  double max_freq = 0;             // band range (fraction of Nyquist), see fields/spectrum.h
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

// Learning rate used when none is given: the paper's 1e-2 with a norm layer, 2e-4 without.
double default_lr(const std::string& method);

struct SpectrumFitOptions {
  int64_t iters = 2000;
  int64_t every = 50;   // record the band error every `every` steps (and at 0 and iters)
  double lr = -1;       // < 0: default_lr(method)
  uint64_t seed = 0;    // weights
  int64_t layers = 4, width = 64;
  bool progress = true;
};

struct SpectrumFitResult {
  std::string method;
  double lr = 0;
  std::vector<int64_t> iterations;           // recorded steps
  std::vector<double> loss;                  // MSE at each recorded step
  std::vector<std::vector<double>> band_error;  // [records][n_bins]
  double seconds = 0;
  nlohmann::json field_config;
  // First recorded iteration at which each band's relative error is below `threshold` and stays
  // below it until the end; -1 when never.
  std::vector<int64_t> converged_at(double threshold) const;
  nlohmann::json to_json(double threshold = 0.2) const;
};

// Fits the target with Adam, MSE, full batch (norms in batch mode), recording
// relative_band_error(prediction, target) every `every` steps.
SpectrumFitResult fit_spectrum(const std::string& method, const SpectralTarget& target,
                               const SpectrumFitOptions& options);

struct NtkRunOptions {
  int64_t layers = 4, width = 64;
  uint64_t seed = 0;
  int64_t train_steps = 0;  // > 0: fit the target for this many steps first (Adam, default_lr)
  double lr = -1;
  bool double_precision = false;
};

struct NtkRunResult {
  std::string method;
  uint64_t seed = 0;
  NtkStats stats;
  double seconds = 0;
  double final_loss = -1;  // after train_steps (-1 when untrained)
  int64_t params = 0;
  nlohmann::json field_config;
};

// Empirical NTK of `method` at init (or after train_steps on target) on target.coords.
NtkRunResult run_ntk(const std::string& method, const SpectralTarget& target, const NtkRunOptions& options);

}  // namespace nf
