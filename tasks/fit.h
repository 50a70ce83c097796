#pragma once
// One fit end to end, for every task (image, CT, MRI, occupancy, NeRF): build the field, train it on
// the task, evaluate, write outputs. Shared by the fit-* and nerf subcommands and the tests.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

#include "tasks/task.h"
#include "tasks/trainer.h"

namespace nf {

struct FitResult {
  nlohmann::json metrics;      // evaluate() + iters, seconds, ms_per_iter, device, field, task, outputs_summary()
  at::Tensor reconstruction;   // [S, S] (CT) or [D, H, W] (MRI), CPU, unclamped; undefined without reconstruct
  std::vector<LogRecord> history;
};

// Trains a fresh field (make_field(field_config), on device; Task::check_field first) on the task and
// evaluates it. When opts.out_dir is set, also writes checkpoint.pt (with the calibrated statistics),
// metrics.jsonl, the task's outputs (write_outputs; outputs_summary() is merged into the metrics) and
// results.json. The task must already live on `device`. With opts.resume it continues from
// opts.out_dir/checkpoint.pt. reconstruct may be empty (no reconstruction returned). after_step, when
// set, runs after every training step (the Trainer's on_step hook) with the field and the number of
// finished steps: periodic monitoring (NerfTask::after_step), which must leave the field unchanged.
//
// check_out_dir: fails (naming flag and folder) unless dir is, or can be created as, a writable folder:
// called before any training so a bad --out never costs a finished run.
void check_out_dir(const std::filesystem::path& dir, const std::string& flag = "--out");

FitResult fit_task(Task& task, const nlohmann::json& field_config, const TrainOptions& opts,
                   const c10::Device& device, const std::function<at::Tensor(FieldImpl&)>& reconstruct = {},
                   const std::function<void(FieldImpl&, int64_t)>& after_step = {});

}  // namespace nf
