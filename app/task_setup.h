#pragma once
// What the nerf and neus commands share (app/nerf_setup.h, app/neus_setup.h): finding a task's
// config, checking --scene, the shape of a training job, the "k=v" tag of the overrides, the flags
// of `<task> train` and running the selected subcommand.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "app/train_flags.h"
#include "tasks/trainer.h"

namespace nf::app {

// --config: an existing file, else a name in assets/configs/<folder> (".json" optional, e.g. folder
// "neus"); the error lists the available names.
std::filesystem::path resolve_task_config(const std::string& name, const std::string& folder);
// Throws "--scene DIR: no such scene folder".
void require_scene(const std::string& scene);

// One training job of a scene task: field config, task options, trainer options.
template <class Options>
struct TaskJob {
  std::string name;      // the config's file stem, e.g. mipnerf_small_cn
  nlohmann::json field;  // the field config
  Options task;
  TrainOptions train;
};

// The job's name (the stem of flags.config_path) and field: the config's "field", else
// default_field, with "norm" replaced by `norm` unless it is "".
template <class Options>
TaskJob<Options> start_job(const TrainFlags& flags, const nlohmann::json& config, const nlohmann::json& default_field,
                           const std::string& norm) {
  TaskJob<Options> job;
  job.name = std::filesystem::path(flags.config_path).stem().string();
  job.field = config.contains("field") ? config["field"] : default_field;
  if (!norm.empty()) job.field["norm"] = norm;
  return job;
}

// Flags that override a scene task config's block, common to the scene tasks (nerf, neus): 0 / -2
// keep the config's value.
struct SceneOverrides {
  std::string norm;    // none, bn, ln, gn, cn ("" keeps the config's)
  int64_t batch = 0;   // rays per step
  int max_views = -2;  // views evaluated after training (-1: all)
  // Sets the task options' batch and eval_max_views where given.
  template <class Options>
  void apply_to(Options& o) const {
    if (batch > 0) o.batch = batch;
    if (max_views >= -1) o.eval_max_views = max_views;
  }
};

// The overrides that change results, as "k=v" pairs joined by ',' ("" when none is set).
class OverrideTag {
 public:
  // Appends key=value when `set`.
  OverrideTag& add(bool set, const char* key, const std::string& value);
  OverrideTag& add(bool set, const char* key, int64_t value) { return add(set, key, std::to_string(value)); }
  const std::string& str() const { return tag_; }

 private:
  std::string tag_;
};

// The help of `<task> train` that differs between tasks.
struct TaskTrainHelp {
  std::string config, lr;  // --config, --lr
};
// TrainFlags of `task` on `sub` (`<task> train`): the task's protocol config as --config's default,
// resolved in assets/configs/<config_folder>, outputs in `out`; --method and --arch hidden (the field
// comes from --config, TrainFlags still reads them).
void add_task_train_flags(CLI::App* sub, TrainFlags& flags, const std::string& task, const std::string& config_folder,
                          const std::string& out, const TaskTrainHelp& help);

// The actions of a command's subcommands (nerf train, nerf eval, ...).
using SubcommandActions = std::map<CLI::App*, std::function<int()>>;

// `<task> train` under parent (st: a Train with `flags`, `scene` and `overrides`): --scene (required),
// add_task_train_flags, the overrides (with --norm); its action run(st, sub) goes into actions.
template <class Train>
void add_task_train(CLI::App* parent, SubcommandActions& actions, std::shared_ptr<Train> st, const std::string& task,
                    const std::string& description, const std::string& scene_help, const TaskTrainHelp& help,
                    int (*run)(Train&, CLI::App*)) {
  auto* sub = parent->add_subcommand("train", description);
  sub->add_option("--scene", st->scene, scene_help)->required();
  add_task_train_flags(sub, st->flags, task, task, "out/" + task, help);
  st->overrides.add_to(sub);
  actions[sub] = [st, sub, run]() { return run(*st, sub); };
}
// set_action(parent, ...): runs the action of the selected subcommand; throws `none_given` without one.
void set_subcommand_actions(CLI::App* parent, std::shared_ptr<const SubcommandActions> actions,
                            const std::string& none_given);

}  // namespace nf::app
