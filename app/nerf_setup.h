#pragma once
// What `nerf train` and `nerf batch-eval` share: finding a NeRF config, and turning a config plus
// command-line overrides into one training job (field config, task options, trainer options).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>

#include "app/train_flags.h"
#include "tasks/nerf_task.h"
#include "tasks/trainer.h"

namespace nf::app {

// --config: an existing file, else a name in assets/configs/nerf (".json" optional); the error lists
// the available names.
std::filesystem::path resolve_nerf_config(const std::string& name);
// The same for assets/configs/<folder> (e.g. "neus").
std::filesystem::path resolve_task_config(const std::string& name, const std::string& folder);
// Throws "--scene DIR: no such scene folder".
void require_scene(const std::string& scene);

// Flags that override a NeRF config's "nerf" block (0 / -2: keep the config's value).
struct NerfOverrides {
  std::string norm;  // none, bn, ln, gn, cn ("" keeps the config's)
  int64_t batch = 0, n_coarse = 0, n_fine = 0, chunk = 0;
  int downscale = 0;
  int max_views = -2, max_train_frames = -2;
  int skip = 0;
  // --batch --n-coarse --n-fine --chunk --downscale --max-views --skip --max-train-frames (+ --norm)
  void add_to(CLI::App* sub, bool with_norm = true);
  // The overrides that change results, as "k=v" pairs joined by ',' ("" when none is set).
  std::string tag() const;
};

struct NerfJob {
  std::string name;      // the config's file stem, e.g. mipnerf_small_cn
  nlohmann::json field;  // MipNeRF field config
  NerfOptions task;
  TrainOptions train;
};

// flags (task "nerf") must already hold the config's values (TrainFlags::apply_config); lr is then
// the config's or the nerf task's default, mip-NeRF's 5e-4.
NerfJob make_nerf_job(const TrainFlags& flags, const nlohmann::json& config, const std::string& scene,
                      const NerfOverrides& overrides);

// Registers `nerf batch-eval` under the nerf subcommand; returns its action.
std::function<int()> add_nerf_batch_eval(CLI::App* nerf);

}  // namespace nf::app
