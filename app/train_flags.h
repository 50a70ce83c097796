#pragma once
// Flags shared by the training subcommands (fit-image, fit-ct, ...) and the device choice. Their
// defaults are the task's protocol and the merging with an optional JSON config
// (assets/configs/<task>/*.json, "parent" inheritance) is tasks/task_registry.h's merge_protocol:
// flag > config > task default. `--help` shows the values that will be used (config included).
#include <CLI/CLI.hpp>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "tasks/trainer.h"

namespace nf::app {

struct TrainFlags {
  // The protocol defaults of `task` (task_protocol): method, arch, iters, lr, schedule, ...
  explicit TrainFlags(const std::string& task = "image");
  void set_task(const std::string& task);  // resets the protocol fields to that task's defaults
  std::string task = "image";
  std::string config_path;  // --config
  std::string method;
  std::string arch;
  int64_t iters = 0;
  double lr = -1;  // <= 0: the paper's default for the method (resolve_lr)
  double lr_final = -1;
  std::string schedule;
  int64_t log_every = 0;
  int64_t checkpoint_every = 0;
  std::string out = "out";
  bool resume = false;
  uint64_t seed = 0;
  std::string device = "cpu";
  int threads = 0;
  bool quiet = false;

  // Adds the flags to a subcommand (defaults shown: the task's protocol; on --help, the config's
  // values where it sets them). resolve: maps --config to a file (nerf: a name in assets/).
  void add_to(CLI::App* sub, std::function<std::string(const std::string&)> resolve = {});
  // Applies --config values for flags not given on the command line; returns the config JSON.
  nlohmann::json apply_config(CLI::App* sub);
  // The same for a caller without a command line: given(flag) says whether the flag was set.
  nlohmann::json apply_config(const std::function<bool(const std::string&)>& given);
  // setup_device(device, threads, seed).
  c10::Device setup() const;
  // The learning rate: --lr (or the config's / task's), else resolve_lr(method) (tasks/task_registry.h).
  TrainOptions train_options(const std::string& label) const;

 private:
  void from_protocol(const nlohmann::json& p);
  nlohmann::json given_protocol(const std::function<bool(const std::string&)>& given) const;
};

// Field config for --method/--arch (or the config's "field" object when present).
nlohmann::json field_config_for(const TrainFlags& f, const nlohmann::json& cfg, int64_t in_dim, int64_t out_dim);

// --device (cpu or cuda; one line naming the flag otherwise), --threads (> 0: torch's thread count),
// the torch seed; returns the device.
c10::Device setup_device(const std::string& device, int threads = 0, uint64_t seed = 0);

// Writes JSON atomically (tmp + rename), pretty-printed.
void write_json(const std::string& path, const nlohmann::json& j);

}  // namespace nf::app
