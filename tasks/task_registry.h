#pragma once
// Task factory, like the field registry (fields/registry.h): a task's name -> a builder from a JSON
// task config, the task's default training protocol, and the rule that merges that protocol with a
// config file and command-line flags. The CLI commands (fit-*, nerf train) and normfield-viewer
// build tasks and protocols here, so each rule is written once.
//
//   make_task({"task": "nerf", "scene": "$NORMFIELD_DATA/nerf_synthetic/lego_100", "batch": 256}, device)
//   make_task({"task": "image", "image": "zone-plate:64"}, device)
//
// Adding a task: one TaskRegistry::add call in register_builtin_tasks
// (tasks/task_registry.cpp) with its builder, config keys and protocol defaults.
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tasks/task.h"

namespace nf {

struct TaskEntry {
  std::string summary;
  // Task config keys the builder reads (besides "task"); others are a ConfigError.
  std::vector<std::string> keys;
  // Where a config file holds those keys: "" at the top level (fit-ct's "angles"), else a block
  // ("nerf" for assets/configs/nerf/*.json).
  std::string config_block;
  // Training protocol defaults that differ from default_protocol(), e.g. {"arch": "2x128"}.
  nlohmann::json protocol;
  std::function<std::unique_ptr<Task>(const nlohmann::json& cfg, const c10::Device& device)> build;
  // {in_dim, out_dim} of the coordinate field the task trains; null: the config's "field" is complete
  // (nerf: a mipnerf field).
  std::function<std::pair<int64_t, int64_t>(const Task& task)> field_dims;
  // The key naming the task's data (image, volume, mesh, scene); a stored config's "source" maps to it.
  std::string source_key;
};

class TaskRegistry {
 public:
  static TaskRegistry& global();  // image, ct, mri, occupancy, nerf, neus
  void add(const std::string& name, TaskEntry entry);
  const TaskEntry& get(const std::string& name) const;  // ConfigError listing the tasks
  std::vector<std::string> names() const;

 private:
  std::map<std::string, TaskEntry> entries_;
};

// cfg["task"] names the task; the other keys are the task's (TaskEntry::keys). Errors name the key.
std::unique_ptr<Task> make_task(const nlohmann::json& cfg, const c10::Device& device = c10::kCPU);

// The task config in a config file (its block, or its keys at the top level) with `given` on top;
// "task" set. Unknown keys in the block are left for make_task to reject.
nlohmann::json task_config_from(const std::string& task, const nlohmann::json& file_config,
                                const nlohmann::json& given = nlohmann::json::object());

// The task config of a checkpoint (CheckpointMeta::task_config, i.e. Task::config()) as make_task
// takes it: the task's keys, "source" as the data key. Errors name `where`.
nlohmann::json task_config_from_stored(const nlohmann::json& stored, const std::string& where);

// ------------------------------------------------------------------ training protocol
// The protocol keys: method, arch, iters, lr, lr_final, schedule, log_every, checkpoint_every, seed.
// lr < 0 (-1, the default) means the paper's rule (paper_default_lr); lr_final <= 0 means lr / 10.
// Values a config or flag sets are checked (finite; lr > 0; iters, log_every >= 1 and whole; ...).
nlohmann::json default_protocol();
// default_protocol() with the task's defaults.
nlohmann::json task_protocol(const std::string& task);
// The protocol of a run: the task's defaults, then the protocol keys of the config file, then
// `given` (keys set on the command line), each overriding the one before. A task default lr_final
// belongs to the task default lr: it is dropped when the config or the command line sets lr alone.
// Values of the wrong type are a ConfigError naming `where` and the key.
nlohmann::json merge_protocol(const std::string& task, const nlohmann::json& file_config,
                              const nlohmann::json& given, const std::string& where);

// The paper's learning rate for coordinate networks: 1e-2 with a normalization layer, 2e-4 without.
double paper_default_lr(bool has_norm);
double paper_default_lr(const std::string& method);  // method_has_norm(method)
// lr < 0 ? paper_default_lr(the field has norm layers) : lr, which must then be finite and > 0.
double resolve_lr(double lr, FieldImpl& field);
double resolve_lr(double lr, const std::string& method);

}  // namespace nf
