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

}  // namespace

nlohmann::json CtTaskOptions::to_json() const {
  return {{"angles", angles}, {"noise", noise}, {"noise_seed", noise_seed}, {"coords", coords},
          {"support", support}};
}

CtTask::CtTask(const at::Tensor& image, CtTaskOptions options, std::string source)
    : GridInverseTask({"ct", "sinogram_mse", "fbp", "FBP", "full grid",
                       "comparison.png, reconstruction.png, sinogram.png"},
                      std::move(source)),
      options_(std::move(options)) {
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
  baseline_ = (fbp(problem_.sinogram, problem_.angles, S) * support_).clamp(0, 1);
  to(device);
}

std::vector<at::Tensor*> CtTask::device_tensors() {
  return {&problem_.image, &problem_.angles, &problem_.sinogram, &support_, &grid_};
}

at::Tensor CtTask::loss_of(const at::Tensor& image) const {
  auto sino = radon_with_grid(image * support_, grid_, options_.angles);  // [A, S]
  return (sino - problem_.sinogram).pow(2).mean();
}

at::Tensor CtTask::to_signal(const at::Tensor& out) const {
  const int64_t S = problem_.image.size(0);
  return out.reshape({S, S}) * support_;
}

nlohmann::json CtTask::extra_metrics() const {
  return {{"metric_notes",
           "image and FBP clamped to [0,1], data range 1, whole SxS image; psnr/ssim on float values "
           "(no 8-bit quantisation), psnr_8bit quantised; SSIM skimage default 7x7"}};
}

void CtTask::write_outputs(FieldImpl& field, const std::string& dir) {
  const std::filesystem::path d(dir);
  c10::NoGradGuard ng;
  const auto recon = reconstruct(field);  // [S, S]
  const auto c = on_cpu(recon);
  write_png(d / "reconstruction.png", c.pred);
  write_png(d / "comparison.png",
            side_by_side({to_rgb(c.truth), to_rgb(c.pred), to_rgb(c.baseline), error_map(c.pred, c.truth)}));
  auto pred_sino = radon_with_grid(recon, grid_, options_.angles).to(at::kCPU);  // [A, S]
  auto obs = problem_.sinogram.to(at::kCPU);
  const double peak = std::max(obs.abs().max().item<double>(), 1e-12);
  write_png(d / "sinogram.png",
            side_by_side({to_rgb(obs / peak), to_rgb(pred_sino / peak), error_map(pred_sino / peak, obs / peak, 0.05)}));
}

nlohmann::json CtTask::settings() const {
  auto j = options_.to_json();
  j["size"] = problem_.image.size(0);
  return j;
}

}  // namespace nf
