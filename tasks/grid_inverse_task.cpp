// Whole-grid inverse problems: the training step, the calibrated evaluation and its metrics, the
// config and the grid's device.
#include "tasks/grid_inverse_task.h"

#include <c10/core/GradMode.h>

#include <cmath>

#include "datasets/image_metrics.h"

namespace nf {
namespace {

double mse_psnr(double mse) { return mse > 0 ? -10 * std::log10(mse) : 100.0; }

// SSIM on float values: an image [S, S] as skimage's default, a volume [D, H, W] as ssim3d.
double float_ssim(const at::Tensor& pred, const at::Tensor& truth) {
  return pred.dim() == 3 ? ssim3d(pred, truth, /*quantize=*/false) : ssim(pred, truth, /*quantize=*/false);
}

}  // namespace

GridInverseTask::GridInverseTask(GridInverseNames names, std::string source)
    : source_(std::move(source)), names_(std::move(names)) {}

void GridInverseTask::to(const c10::Device& d) {
  coords_ = coords_.to(d);
  baseline_ = baseline_.to(d);
  for (auto* t : device_tensors()) *t = t->to(d);
}

at::Tensor GridInverseTask::to_signal(const at::Tensor& out) const { return out.reshape(truth().sizes()); }

at::Tensor GridInverseTask::field_signal(FieldImpl& field) { return to_signal(field.forward(coords_)); }

StepResult GridInverseTask::step(FieldImpl& field, int64_t /*step*/) {
  auto signal = field_signal(field);
  auto loss = loss_of(signal);
  // Monitoring only (not used for training): PSNR of the clamped signal against the ground truth.
  const double mse = (signal.detach().clamp(0, 1) - truth()).pow(2).mean().item<double>();
  return {loss, {{"psnr_gt", mse_psnr(mse)}}};
}

at::Tensor GridInverseTask::reconstruct(FieldImpl& field) {
  c10::NoGradGuard ng;
  return field_signal(field);
}

nlohmann::json GridInverseTask::evaluate(FieldImpl& field) {
  field.set_norm_mode(NormMode::Batch);
  field.calibrate(coords_);  // exact: frozen mode now reproduces the whole-grid batch output
  auto recon = reconstruct(field);
  double final_loss;
  {
    c10::NoGradGuard ng;
    final_loss = loss_of(recon).item<double>();
  }
  const auto c = on_cpu(recon);
  auto j = extra_metrics();
  j["psnr"] = psnr_float(c.pred, c.truth);
  j["ssim"] = float_ssim(c.pred, c.truth);
  j["psnr_8bit"] = psnr(c.pred, c.truth);
  j[names_.baseline + "_psnr"] = psnr_float(c.baseline, c.truth);
  j[names_.baseline + "_ssim"] = float_ssim(c.baseline, c.truth);
  j[names_.loss] = final_loss;
  j["params"] = field.num_parameters();
  j["norm_mode"] =
      field.norm_layers().empty() ? "none" : "batch (" + names_.grid + "; frozen statistics calibrated on it)";
  return j;
}

nlohmann::json GridInverseTask::config() const {
  auto j = settings();
  j["task"] = names_.task;
  j["source"] = source_;
  return j;
}

GridInverseTask::OnCpu GridInverseTask::on_cpu(const at::Tensor& recon) const {
  return {recon.to(at::kCPU).clamp(0, 1), truth().to(at::kCPU), baseline_.to(at::kCPU)};
}

}  // namespace nf
