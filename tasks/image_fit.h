#pragma once
// One image fit end to end (build field, train, evaluate, write outputs): shared by
// `normfield fit-image`, `normfield demo` and the batch evaluation.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include "tasks/image_task.h"
#include "tasks/trainer.h"

namespace nf {

struct ImageFitResult {
  nlohmann::json metrics;      // psnr, ssim, bpp, params, norm_mode, seconds, ms_per_iter, ...
  at::Tensor reconstruction;   // [H, W, C] on the CPU
  std::vector<LogRecord> history;
};

// image: [H, W, C] in [0, 1]. Writes checkpoint/metrics/PNGs/results.json when opts.out_dir is set.
ImageFitResult fit_image(const at::Tensor& image, const nlohmann::json& field_config, const TrainOptions& opts,
                         const ImageTaskOptions& task_opts, const c10::Device& device, const std::string& source);

}  // namespace nf
