#pragma once
// One inverse-problem fit end to end (CT, MRI): build the field, train it on the task, evaluate,
// write outputs. Shared by `normfield fit-ct`, `normfield fit-mri` and the tests.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <vector>

#include "tasks/task.h"
#include "tasks/trainer.h"

namespace nf {

struct InverseFitResult {
  nlohmann::json metrics;      // evaluate() + iters, seconds, ms_per_iter, device, field, task, ...
  at::Tensor reconstruction;   // [S, S] (CT) or [D, H, W] (MRI), CPU, unclamped
  std::vector<LogRecord> history;
};

// The driver shared by every task (fit_image, fit-ct, fit-mri use it): trains a fresh field
// (make_field(field_config), on device) on the task, evaluates it and, when
// opts.out_dir is set, writes checkpoint.pt (with the calibrated statistics), metrics.jsonl, the
// task's PNGs and results.json. The task must already live on `device`.
InverseFitResult fit_inverse(Task& task, const nlohmann::json& field_config, const TrainOptions& opts,
                             const c10::Device& device,
                             const std::function<at::Tensor(FieldImpl&)>& reconstruct);

}  // namespace nf
