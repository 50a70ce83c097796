// MRI task: field volume -> 3-D FFT -> masked k-space MSE; zero-filled baseline.
#include "tasks/mri_task.h"

#include <algorithm>
#include <cmath>
#include <fstream>

#include "fields/file_io.h"
#include "datasets/image_io.h"
#include "datasets/image_metrics.h"

namespace nf {
namespace {

// Middle slice along `axis`, as an image [rows, cols]; along D it is [H, W], along H [D, W] and
// along W [D, H], with D drawn upwards (flipped) for the latter two.
at::Tensor mid_slice(const at::Tensor& vol, int64_t axis) {
  auto s = vol.select(axis, vol.size(axis) / 2);
  return axis == 0 ? s : s.flip({0});
}

// Stacks rows [h_i, w_i, 3] vertically, each padded with white on the right to the widest, with
// `gap` white rows between them. -> [sum h_i + gaps, max w_i, 3]
at::Tensor stack_rows(const std::vector<at::Tensor>& rows, int64_t gap = 4) {
  int64_t w = 0;
  for (const auto& r : rows) w = std::max(w, r.size(1));
  std::vector<at::Tensor> parts;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (i > 0) parts.push_back(at::ones({gap, w, 3}, rows[i].options()));
    parts.push_back(at::constant_pad_nd(rows[i], {0, 0, 0, w - rows[i].size(1)}, 1.0));
  }
  return at::cat(parts, 0);
}

}  // namespace

nlohmann::json MriTaskOptions::to_json() const {
  return {{"mask", mask}, {"rate", rate}, {"mask_seed", mask_seed}, {"noise", noise}};
}

at::Tensor volume_coordinates(int64_t D, int64_t H, int64_t W) {
  auto axis = [](int64_t n) {
    return n > 1 ? at::linspace(-1.0, 1.0, n, at::kFloat) : at::zeros({n}, at::kFloat);
  };
  auto g = at::meshgrid({axis(D), axis(H), axis(W)}, "ij");  // z, y, x
  return at::stack({g[2].reshape(-1), g[1].reshape(-1), g[0].reshape(-1)}, 1);
}

MriTask::MriTask(const at::Tensor& volume, MriTaskOptions options, std::string source)
    : GridInverseTask({"mri", "kspace_mse", "zf", "zero-filled", "whole grid",
                       "comparison.png, reconstruction.png, mask.png, mask.npy"},
                      std::move(source)),
      options_(std::move(options)) {
  if (volume.dim() != 3) throw std::runtime_error("mri task: volume must be [D, H, W]");
  if (volume.size(1) < 7 || volume.size(2) < 7)
    throw std::runtime_error(source_ + ": volume is " + std::to_string(volume.size(0)) + "x" +
                             std::to_string(volume.size(1)) + "x" + std::to_string(volume.size(2)) +
                             ", slices of at least 7x7 needed (SSIM window; check --downsample)");
  if (!(options_.noise >= 0) || !std::isfinite(options_.noise))
    throw std::runtime_error(source_ + ": k-space noise must be a finite number >= 0");
  const auto device = volume.device();
  problem_ = make_mri_problem(volume.to(at::kCPU, at::kFloat), options_.mask, options_.rate, options_.mask_seed,
                              options_.noise);
  coords_ = volume_coordinates(volume.size(0), volume.size(1), volume.size(2));
  baseline_ = mri_zero_filled(problem_).clamp(0, 1);
  to(device);
}

std::vector<at::Tensor*> MriTask::device_tensors() {
  return {&problem_.volume, &problem_.mask, &problem_.observed};
}

at::Tensor MriTask::loss_of(const at::Tensor& volume) const {
  auto diff = (mri_forward(volume) - problem_.observed) * problem_.mask;  // [D, H, W] complex
  return at::view_as_real(diff).pow(2).sum(-1).mean();
}

nlohmann::json MriTask::extra_metrics() const {
  return {{"sampled_fraction", problem_.mask.to(at::kCPU).mean().item<double>()},
          {"metric_notes",
           "volume clamped to [0,1], data range 1; psnr over all voxels on float values (psnr_8bit "
           "quantised); ssim = mean of 2-D SSIM (skimage default 7x7) over the slices of axis 0"}};
}

void MriTask::write_outputs(FieldImpl& field, const std::string& dir) {
  const std::filesystem::path d(dir);
  const auto c = on_cpu(reconstruct(field));
  auto mask = problem_.mask.to(at::kCPU);
  std::vector<at::Tensor> rows, recon, mask_rows;
  // Centred (fftshifted) mask for display.
  auto shifted = at::roll(mask, {mask.size(0) / 2, mask.size(1) / 2, mask.size(2) / 2}, {0, 1, 2});
  for (int64_t axis = 0; axis < 3; ++axis) {
    auto g = mid_slice(c.truth, axis), p = mid_slice(c.pred, axis), z = mid_slice(c.baseline, axis);
    rows.push_back(side_by_side({to_rgb(g), to_rgb(p), to_rgb(z), error_map(p, g)}));
    recon.push_back(to_rgb(p));
    mask_rows.push_back(to_rgb(mid_slice(shifted, axis)));
  }
  write_png(d / "comparison.png", stack_rows(rows));
  write_png(d / "reconstruction.png", side_by_side(recon));
  write_png(d / "mask.png", side_by_side(mask_rows));
  save_npy(d / "mask.npy", mask.to(at::kByte));
}

nlohmann::json MriTask::settings() const {
  auto j = options_.to_json();
  j["shape"] = {problem_.volume.size(0), problem_.volume.size(1), problem_.volume.size(2)};
  return j;
}

}  // namespace nf
