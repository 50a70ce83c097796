#pragma once
// What `neus train` and `neus batch-eval` share: turning a NeuS config plus command-line overrides
// into one training job (field config, task options, trainer options).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "app/task_setup.h"
#include "app/train_flags.h"
#include "tasks/neus_task.h"

namespace nf::app {

// Flags that override a NeuS config's "neus" block (0 / -2: keep the config's value).
struct NeusOverrides : SceneOverrides {
  int64_t mesh_resolution = 0;
  // --batch --mesh-resolution --max-views (+ --norm)
  void add_to(CLI::App* sub, bool with_norm = true);
  // The overrides that change results, as "k=v" pairs joined by ',' ("" when none is set).
  std::string tag() const;
};

using NeusJob = TaskJob<NeusOptions>;  // field: a NeuS field config

// flags must already hold the config's values (TrainFlags::apply_config); lr is the config's, else
// NeuS's 5e-4; the warm-up is the config's "warmup".
NeusJob make_neus_job(const TrainFlags& flags, const nlohmann::json& config, const std::string& scene,
                      const NeusOverrides& overrides);

// Registers `neus batch-eval` under the neus subcommand; returns its action.
std::function<int()> add_neus_batch_eval(CLI::App* neus);

}  // namespace nf::app
