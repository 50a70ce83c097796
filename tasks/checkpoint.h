#pragma once
// Checkpoints: one file holding the field's weights and buffers (frozen norm statistics included),
// the Adam state, the step, and the JSON configs of the field, the task and the training run.
// Written atomically (to "<path>.tmp", then renamed), so a crash never leaves a half-written file.
#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>

#include <filesystem>
#include <optional>

#include "fields/field.h"

namespace nf {

struct CheckpointMeta {
  int64_t step = 0;
  nlohmann::json field_config;
  nlohmann::json task_config;
  nlohmann::json train_config;
};

void save_checkpoint(const std::filesystem::path& path, FieldImpl& field, torch::optim::Optimizer* optimizer,
                     const CheckpointMeta& meta);
// Reads the metadata only (no field needed).
CheckpointMeta read_checkpoint_meta(const std::filesystem::path& path);
// Loads weights (and optimizer state when given) into an existing field built from meta.field_config.
void load_checkpoint(const std::filesystem::path& path, FieldImpl& field, torch::optim::Optimizer* optimizer);
// Builds the field from the stored config and loads its weights (for evaluation / export).
Field load_field(const std::filesystem::path& path, CheckpointMeta* meta = nullptr);

}  // namespace nf
