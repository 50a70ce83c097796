#pragma once
// What the whole-grid inverse problems (CT: tasks/ct_task.h, MRI: tasks/mri_task.h) share: a field
// evaluated at every point of a fixed grid gives a signal (an image or a volume) whose forward model
// (Radon, FFT) is compared with an observation; the ground truth serves only for monitoring and
// metrics.
//
// Training batch: the whole grid every step (the forward model needs all of it), so the field always
// sees the same batch and evaluation uses that batch too:
//  - step: signal (with graph) -> loss_of -> StepResult, plus "psnr_gt" (monitoring only: PSNR of
//    the clamped signal against the ground truth);
//  - evaluate: batch norm mode, frozen statistics calibrated on the grid (exact: frozen mode then
//    reproduces the batch output), one no-grad pass; the task's metrics plus the final loss (under
//    the task's loss key), "params" and "norm_mode";
//  - preview: truth, reconstruction (clamped), error; a volume as its middle slices along each axis
//    (tasks/slice_previews.cpp).
// A subclass supplies the forward model (loss_of), the ground truth, how the field's output becomes
// the signal, the metrics and the outputs.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>

#include "tasks/task.h"

namespace nf {

class GridInverseTask : public Task {
 public:
  StepResult step(FieldImpl& field, int64_t step) override;
  nlohmann::json evaluate(FieldImpl& field) override;
  int64_t points_per_step() const override { return coords_.size(0); }
  Preview preview(FieldImpl& field, const PreviewRequest& request) override;

  // The training loss of a signal (no field). signal: [grid] -> scalar (keeps the graph)
  virtual at::Tensor loss_of(const at::Tensor& signal) const = 0;
  // The ground truth in [0, 1]. -> [grid]
  virtual const at::Tensor& truth() const = 0;
  // The field's signal, no grad, one whole-grid pass (in the field's current norm mode). -> [grid]
  at::Tensor reconstruct(FieldImpl& field);
  const at::Tensor& coords() const { return coords_; }  // [n_points, in_dim]
  // Moves the grid and the task's own tensors (move_to) to d.
  void to(const c10::Device& d);

 protected:
  // loss_key: the name of the final loss in evaluate's JSON (e.g. "sinogram_mse"); grid: how the
  // norm-mode note names the batch (e.g. "whole grid").
  GridInverseTask(std::string source, std::string loss_key, std::string grid);
  // The field's output on the grid as the signal. out: [n_points, 1] -> [grid] (default: reshaped
  // to truth's shape)
  virtual at::Tensor to_signal(const at::Tensor& out) const;
  // The task's metrics of a reconstruction. recon: [grid] on the task's device, unclamped, no grad
  virtual nlohmann::json metrics_of(const at::Tensor& recon) const = 0;
  // Moves the subclass's tensors (coords are moved by to()).
  virtual void move_to(const c10::Device& d) = 0;

  // A reconstruction clamped to [0, 1], the ground truth and `baseline`, all on the CPU: what the
  // metrics and the outputs compare. recon, baseline: [grid]
  struct OnCpu {
    at::Tensor pred, truth, baseline;  // [grid]
  };
  OnCpu on_cpu(const at::Tensor& recon, const at::Tensor& baseline) const;

  std::string source_;
  at::Tensor coords_;  // [n_points, in_dim]

 private:
  at::Tensor field_signal(FieldImpl& field);  // [grid], with graph
  std::string loss_key_, grid_;
};

}  // namespace nf
