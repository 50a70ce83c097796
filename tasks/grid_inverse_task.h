#pragma once
// What the whole-grid inverse problems (CT: tasks/ct_task.h, MRI: tasks/mri_task.h) share: a field
// evaluated at every point of a fixed grid gives a signal (an image [S, S] or a volume [D, H, W])
// whose forward model (Radon, FFT) is compared with an observation; the ground truth serves only for
// monitoring and metrics, next to a classical baseline reconstruction (FBP, zero-filled).
//
// Training batch: the whole grid every step (the forward model needs all of it), so the field always
// sees the same batch and evaluation uses that batch too:
//  - step: signal (with graph) -> loss_of -> StepResult, plus "psnr_gt" (monitoring only: PSNR of
//    the clamped signal against the ground truth);
//  - evaluate: batch norm mode, frozen statistics calibrated on the grid (exact: frozen mode then
//    reproduces the batch output), one no-grad pass. The reconstruction clamped to [0, 1] against
//    the ground truth (data range 1, float values): psnr, ssim (an image: skimage's default 7x7
//    window; a volume: ssim3d, the mean 2-D SSIM over the slices of axis 0), psnr_8bit (8-bit
//    quantised); the baseline's <baseline>_psnr, <baseline>_ssim; the final loss <loss>; "params";
//    "norm_mode"; and the task's extra_metrics();
//  - preview: truth, reconstruction (clamped), error; a volume as its middle slices along each axis
//    (tasks/slice_previews.cpp);
//  - config: the task's settings() plus "task" (its name) and "source".
// A subclass supplies the forward model (loss_of), the ground truth, the baseline, how the field's
// output becomes the signal, its settings, extra metrics and outputs.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "tasks/task.h"

namespace nf {

// How a task names itself, its numbers and its files.
struct GridInverseNames {
  std::string task;            // "ct": name() and config's "task"
  std::string loss;            // "sinogram_mse": the final loss in evaluate's JSON
  std::string baseline;        // "fbp": the baseline's metrics are <baseline>_psnr, <baseline>_ssim
  std::string baseline_title;  // "FBP": the baseline as a summary names it
  std::string grid;            // "full grid": how the norm-mode note names the batch
  std::string outputs;         // "comparison.png, ...": the files write_outputs writes
};

class GridInverseTask : public Task {
 public:
  std::string name() const override { return names_.task; }
  StepResult step(FieldImpl& field, int64_t step) override;
  nlohmann::json evaluate(FieldImpl& field) override;
  nlohmann::json config() const override;
  int64_t points_per_step() const override { return coords_.size(0); }
  Preview preview(FieldImpl& field, const PreviewRequest& request) override;

  // The training loss of a signal (no field). signal: [grid] -> scalar (keeps the graph)
  virtual at::Tensor loss_of(const at::Tensor& signal) const = 0;
  // The ground truth in [0, 1]. -> [grid]
  virtual const at::Tensor& truth() const = 0;
  // The field's signal, no grad, one whole-grid pass (in the field's current norm mode). -> [grid]
  at::Tensor reconstruct(FieldImpl& field);
  const at::Tensor& baseline() const { return baseline_; }  // [grid] in [0, 1]
  const at::Tensor& coords() const { return coords_; }      // [n_points, in_dim]
  const GridInverseNames& names() const { return names_; }
  // Moves the grid, the baseline and the task's device_tensors() to d.
  void to(const c10::Device& d);

 protected:
  GridInverseTask(GridInverseNames names, std::string source);
  // The field's output on the grid as the signal. out: [n_points, 1] -> [grid] (default: reshaped
  // to truth's shape)
  virtual at::Tensor to_signal(const at::Tensor& out) const;
  // The task's own settings (options, grid size) for config().
  virtual nlohmann::json settings() const = 0;
  // Metrics beyond the shared ones (notes, mask statistics); an object.
  virtual nlohmann::json extra_metrics() const = 0;
  // The subclass's tensors that live on the task's device (coords and baseline are the base's).
  virtual std::vector<at::Tensor*> device_tensors() = 0;

  // A reconstruction clamped to [0, 1], the ground truth and the baseline, all on the CPU: what the
  // metrics and the outputs compare. recon: [grid]
  struct OnCpu {
    at::Tensor pred, truth, baseline;  // [grid]
  };
  OnCpu on_cpu(const at::Tensor& recon) const;

  std::string source_;
  at::Tensor coords_;    // [n_points, in_dim]
  at::Tensor baseline_;  // [grid] in [0, 1]

 private:
  at::Tensor field_signal(FieldImpl& field);  // [grid], with graph
  GridInverseNames names_;
};

}  // namespace nf
