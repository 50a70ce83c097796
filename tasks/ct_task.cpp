// CT task: field image -> Radon -> sinogram MSE; FBP baseline.
#include "tasks/ct_task.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "datasets/radon.h"
#include "tasks/image_task.h"

namespace nf {
namespace {

// Inscribed disc of an S x S grid: 1 where the pixel centre is within S/2 of the centre.
at::Tensor disc(int64_t S) {
  auto c = at::arange(S, at::kFloat) - (S - 1) / 2.0;
  auto r2 = c.reshape({S, 1}).pow(2) + c.reshape({1, S}).pow(2);
  return (r2 <= (S / 2.0) * (S / 2.0)).to(at::kFloat);
}

double mse_psnr(double mse) { return mse > 0 ? -10 * std::log10(mse) : 100.0; }

std::string norm_mode_note(FieldImpl& field) {
  return field.norm_layers().empty() ? "none" : "batch (full grid; frozen statistics calibrated on it)";
}

}  // namespace

nlohmann::json CtTaskOptions::to_json() const {
  return {{"angles", angles}, {"noise", noise}, {"noise_seed", noise_seed}, {"coords", coords},
          {"support", support}};
}

CtTask::CtTask(const at::Tensor& image, CtTaskOptions options, std::string source)
    : options_(std::move(options)), source_(std::move(source)) {
  if (image.dim() != 2 || image.size(0) != image.size(1))
    throw std::runtime_error("ct task: image must be square [S, S], got " + std::to_string(image.dim()) + " dims");
  if (options_.angles <= 0) throw std::runtime_error("ct task: angles must be positive");
  if (image.size(0) < 7)
    throw std::runtime_error(source_ + ": CT grid is " + std::to_string(image.size(0)) + "x" +
                             std::to_string(image.size(0)) + ", at least 7x7 needed (SSIM window; --size)");
  if (!(options_.noise >= 0) || !std::isfinite(options_.noise))
    throw std::runtime_error(source_ + ": sinogram noise must be a finite number >= 0");
  const auto device = image.device();
  problem_ = make_ct_problem(image.to(at::kCPU, at::kFloat), options_.angles, options_.noise, options_.noise_seed);
  const int64_t S = problem_.image.size(0);
  coords_ = image_coordinates(S, S, options_.coords);
  support_ = options_.support ? disc(S) : at::ones({S, S}, at::kFloat);
  grid_ = radon_grid(S, S, problem_.angles, S, 1.0, problem_.image);
  fbp_ = (fbp(problem_.sinogram, problem_.angles, S) * support_).clamp(0, 1);
  to(device);
}

void CtTask::to(const c10::Device& d) {
  problem_.image = problem_.image.to(d);
  problem_.angles = problem_.angles.to(d);
  problem_.sinogram = problem_.sinogram.to(d);
  coords_ = coords_.to(d);
  support_ = support_.to(d);
  grid_ = grid_.to(d);
  fbp_ = fbp_.to(d);
}

at::Tensor CtTask::loss_of(const at::Tensor& image) const {
  auto sino = radon_with_grid(image * support_, grid_, options_.angles);  // [A, S]
  return (sino - problem_.sinogram).pow(2).mean();
}

at::Tensor CtTask::field_image(FieldImpl& field) {
  const int64_t S = problem_.image.size(0);
  return field.forward(coords_).reshape({S, S}) * support_;
}

StepResult CtTask::step(FieldImpl& field, int64_t /*step*/) {
  auto img = field_image(field);
  auto loss = loss_of(img);
  // Monitoring only (not used for training): PSNR of the clamped image against the ground truth.
  const double mse = (img.detach().clamp(0, 1) - problem_.image).pow(2).mean().item<double>();
  return {loss, {{"psnr_gt", mse_psnr(mse)}}};
}

at::Tensor CtTask::reconstruct(FieldImpl& field) {
  c10::NoGradGuard ng;
  return field_image(field);
}

nlohmann::json CtTask::evaluate(FieldImpl& field) {
  field.set_norm_mode(NormMode::Batch);
  field.calibrate(coords_);  // exact: frozen mode now reproduces the full-grid batch output
  auto pred = reconstruct(field).to(at::kCPU).clamp(0, 1);
  auto gt = problem_.image.to(at::kCPU);
  auto fb = fbp_.to(at::kCPU);
  double final_loss;
  {
    c10::NoGradGuard ng;
    final_loss = loss_of(reconstruct(field)).item<double>();
  }
  return {{"psnr", psnr_float(pred, gt)},
          {"ssim", ssim(pred, gt, /*quantize=*/false)},
          {"psnr_8bit", psnr(pred, gt)},
          {"fbp_psnr", psnr_float(fb, gt)},
          {"fbp_ssim", ssim(fb, gt, false)},
          {"sinogram_mse", final_loss},
          {"params", field.num_parameters()},
          {"norm_mode", norm_mode_note(field)},
          {"metric_notes",
           "image and FBP clamped to [0,1], data range 1, whole SxS image; psnr/ssim on float values "
           "(no 8-bit quantisation), psnr_8bit quantised; SSIM skimage default 7x7"}};
}

void CtTask::write_outputs(FieldImpl& field, const std::string& dir) {
  const std::filesystem::path d(dir);
  auto pred = reconstruct(field).to(at::kCPU).clamp(0, 1);
  auto gt = problem_.image.to(at::kCPU);
  auto fb = fbp_.to(at::kCPU);
  write_png(d / "reconstruction.png", pred);
  write_png(d / "comparison.png", side_by_side({to_rgb(gt), to_rgb(pred), to_rgb(fb), error_map(pred, gt)}));
  at::Tensor pred_sino;
  {
    c10::NoGradGuard ng;
    pred_sino = radon_with_grid(reconstruct(field), grid_, options_.angles).to(at::kCPU);
  }
  auto obs = problem_.sinogram.to(at::kCPU);
  const double peak = std::max(obs.abs().max().item<double>(), 1e-12);
  write_png(d / "sinogram.png",
            side_by_side({to_rgb(obs / peak), to_rgb(pred_sino / peak), error_map(pred_sino / peak, obs / peak, 0.05)}));
}

nlohmann::json CtTask::config() const {
  auto j = options_.to_json();
  j["task"] = "ct";
  j["source"] = source_;
  j["size"] = problem_.image.size(0);
  return j;
}

}  // namespace nf
