#pragma once
// What fit-ct and fit-mri share (the whole-grid inverse problems, tasks/grid_inverse_task.h): the
// order of a run (config, device, --out check before any data is loaded; the task; the fit; the
// summary) and the summary's three lines:
//   <method> <arch>: PSNR <psnr> dB  SSIM <ssim>  (<baseline> baseline: PSNR <..> dB  SSIM <..>)
//   <describe(metrics)>, <iters> iters, <ms> ms/iter, norm mode: <norm_mode>
//   outputs in <out> (results.json, <outputs>, checkpoint.pt)
#include <CLI/CLI.hpp>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/train_flags.h"
#include "tasks/grid_inverse_task.h"

namespace nf::app {

struct InverseFit {
  std::string command;       // "fit-ct": the training label's prefix
  std::string baseline;      // "FBP": the baseline's name in the summary
  std::string baseline_key;  // "fbp": its metrics are <key>_psnr, <key>_ssim
  std::string outputs;       // the task's output files, as the summary lists them
  // The grid and the task's settings, from fit_task's metrics (its "task" object is config()).
  std::function<std::string(const nlohmann::json& metrics)> describe;
};

// Builds the task from the config (--config's JSON, flags already merged by the caller) on the device.
using MakeInverseTask =
    std::function<std::unique_ptr<GridInverseTask>(const nlohmann::json& cfg, const c10::Device& device)>;

// The action of fit-ct / fit-mri: applies --config (allowed keys: the common ones plus config_keys),
// sets up the device, checks --out, builds the task, fits a field (in_dim = the task's coordinates,
// one output) with the flags' protocol through fit_task and prints the summary. Returns 0.
int run_inverse_fit(const InverseFit& fit, TrainFlags& flags, CLI::App* sub,
                    const std::vector<std::string>& config_keys, const MakeInverseTask& make_task);

}  // namespace nf::app
