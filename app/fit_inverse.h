#pragma once
// What fit-ct and fit-mri share (the whole-grid inverse problems, tasks/grid_inverse_task.h): the
// subcommand's shape (its own flags, then the training flags with the task's protocol defaults), the
// order of a run (config, device, --out check before any data is loaded; the task; fit_task, the
// field mapping the task's coordinates to one value) and the summary's three lines:
//   <method> <arch>: PSNR <psnr> dB  SSIM <ssim>  (<baseline> baseline: PSNR <..> dB  SSIM <..>)
//   <describe(metrics)>, <iters> iters, <ms> ms/iter, norm mode: <norm_mode>
//   outputs in <out> (results.json, <outputs>, checkpoint.pt)
// (<baseline>: the task's names().baseline_title; <outputs>: its names().outputs).
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

struct InverseCommand {
  std::string name;                      // "fit-ct": the subcommand and the training label's prefix
  std::string task;                      // "ct": the task whose protocol gives the training flags' defaults
  std::string help;                      // the subcommand's description
  std::vector<std::string> config_keys;  // the config keys of the command's own flags
  // The grid and the task's settings, from fit_task's metrics (its "task" object is config()).
  std::function<std::string(const nlohmann::json& metrics)> describe;
};

// Adds the command's own flags (and its --help footer).
using AddTaskFlags = std::function<void(CLI::App* sub)>;
// The task from the flags given on sub, else the config's keys, else the defaults, on the device.
using MakeInverseTask = std::function<std::unique_ptr<GridInverseTask>(CLI::App* sub, const nlohmann::json& cfg,
                                                                       const c10::Device& device)>;

// Adds the subcommand to app: add_flags, then the training flags (TrainFlags::add_to, with the task's
// protocol defaults: set_task). Its action applies --config (allowed keys: the common ones plus
// config_keys), sets up the device, checks --out, builds the task, fits it with the flags' protocol
// and prints the summary; it returns 0. flags are held until the action has run.
void add_inverse_command(CLI::App& app, const InverseCommand& command, std::shared_ptr<TrainFlags> flags,
                         const AddTaskFlags& add_flags, MakeInverseTask make_task);

// The same for a command whose state (its TrainFlags `flags` and its own flag values) is a State,
// made here and shared by add_flags (at registration) and make_task (when the command runs).
template <class State>
void add_inverse_command(CLI::App& app, const InverseCommand& command, void (*add_flags)(State&, CLI::App*),
                         std::unique_ptr<GridInverseTask> (*make_task)(const State&, CLI::App*, const nlohmann::json&,
                                                                      const c10::Device&)) {
  auto st = std::make_shared<State>();
  add_inverse_command(
      app, command, std::shared_ptr<TrainFlags>(st, &st->flags),  // shares ownership of st
      [st, add_flags](CLI::App* sub) { add_flags(*st, sub); },
      [st, make_task](CLI::App* sub, const nlohmann::json& cfg, const c10::Device& device) {
        return make_task(*st, sub, cfg, device);
      });
}

}  // namespace nf::app
