#pragma once
// What `nerf train` and `nerf batch-eval` share: finding a NeRF config, and turning a config plus
// command-line overrides into one training job (field config, task options, trainer options).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

#include "app/task_setup.h"
#include "app/train_flags.h"
#include "tasks/nerf_task.h"

namespace nf::app {

// --config: resolve_task_config(name, "nerf") (app/task_setup.h).
std::filesystem::path resolve_nerf_config(const std::string& name);

// Flags that override a NeRF config's "nerf" block (0 / -2: keep the config's value).
struct NerfOverrides : SceneOverrides {
  int64_t n_coarse = 0, n_fine = 0, chunk = 0;
  int downscale = 0, skip = 0, max_train_frames = -2;
  // --batch --n-coarse --n-fine --chunk --downscale --max-views --skip --max-train-frames (+ --norm)
  void add_to(CLI::App* sub, bool with_norm = true);
  // The overrides that change results, as "k=v" pairs joined by ',' ("" when none is set).
  std::string tag() const;
};

using NerfJob = TaskJob<NerfOptions>;  // field: a MipNeRF field config

// flags (task "nerf") must already hold the config's values (TrainFlags::apply_config); lr is then
// the config's or the nerf task's default, mip-NeRF's 5e-4.
NerfJob make_nerf_job(const TrainFlags& flags, const nlohmann::json& config, const std::string& scene,
                      const NerfOverrides& overrides);

// Registers `nerf batch-eval` under the nerf subcommand; returns its action.
std::function<int()> add_nerf_batch_eval(CLI::App* nerf);

}  // namespace nf::app
