#pragma once
// Flags shared by the training subcommands (fit-image, fit-ct, ...), their defaults from an optional
// JSON config (assets/configs/<task>/*.json, "parent" inheritance), and the device choice.
#include <CLI/CLI.hpp>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <string>

#include "tasks/trainer.h"

namespace nf::app {

struct TrainFlags {
  std::string config_path;  // --config
  std::string method = "pe+cn";
  std::string arch = "10x28";
  int64_t iters = 2000;
  double lr = -1;  // < 0: the paper's default for the method
  double lr_final = -1;
  std::string schedule = "constant";
  int64_t log_every = 100;
  int64_t checkpoint_every = 0;
  std::string out = "out";
  bool resume = false;
  uint64_t seed = 0;
  std::string device = "cpu";
  int threads = 0;
  bool quiet = false;

  // Adds the flags to a subcommand.
  void add_to(CLI::App* sub);
  // Applies --config values for flags not given on the command line; returns the config JSON.
  nlohmann::json apply_config(CLI::App* sub);
  // The same for a caller without a command line: given(flag) says whether the flag was set.
  nlohmann::json apply_config(const std::function<bool(const std::string&)>& given);
  // Sets torch threads, seeds; returns the device.
  c10::Device setup() const;
  // The learning rate: --lr, else the paper's 1e-2 for normalised methods, 2e-4 otherwise.
  TrainOptions train_options(const std::string& label) const;
};

// Field config for --method/--arch (or the config's "field" object when present).
nlohmann::json field_config_for(const TrainFlags& f, const nlohmann::json& cfg, int64_t in_dim, int64_t out_dim);

// Writes JSON atomically (tmp + rename), pretty-printed.
void write_json(const std::string& path, const nlohmann::json& j);

}  // namespace nf::app
