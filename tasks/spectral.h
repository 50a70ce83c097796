#pragma once
// Spectral analysis runs behind `normfield ntk` and `normfield spectrum` (paper Figs. 1 and 3):
// full-batch fits of a test signal (analysis/spectral_targets.h) through the shared Trainer, NTK
// statistics per method (analysis/ntk.h) and the relative error per frequency band over training.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "analysis/ntk.h"
#include "analysis/spectral_targets.h"
#include "fields/field.h"

namespace nf {

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

// Fits the target with the shared Trainer (Adam, constant lr, MSE, full batch, norms in batch mode),
// recording target_band_errors every `every` steps (and at 0 and iters).
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
