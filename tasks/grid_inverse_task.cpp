// Whole-grid inverse problems: the training step, the calibrated evaluation and the grid's device.
#include "tasks/grid_inverse_task.h"

#include <c10/core/GradMode.h>

#include <cmath>

namespace nf {
namespace {

double mse_psnr(double mse) { return mse > 0 ? -10 * std::log10(mse) : 100.0; }

}  // namespace

GridInverseTask::GridInverseTask(std::string source, std::string loss_key, std::string grid)
    : source_(std::move(source)), loss_key_(std::move(loss_key)), grid_(std::move(grid)) {}

void GridInverseTask::to(const c10::Device& d) {
  coords_ = coords_.to(d);
  move_to(d);
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
  auto j = metrics_of(recon);
  j[loss_key_] = final_loss;
  j["params"] = field.num_parameters();
  j["norm_mode"] =
      field.norm_layers().empty() ? "none" : "batch (" + grid_ + "; frozen statistics calibrated on it)";
  return j;
}

GridInverseTask::OnCpu GridInverseTask::on_cpu(const at::Tensor& recon, const at::Tensor& baseline) const {
  return {recon.to(at::kCPU).clamp(0, 1), truth().to(at::kCPU), baseline.to(at::kCPU)};
}

}  // namespace nf
