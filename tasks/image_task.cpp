#include "tasks/image_task.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "datasets/image_io.h"
#include "datasets/image_metrics.h"

namespace nf {

nlohmann::json ImageTaskOptions::to_json() const {
  return {{"coords", coords}, {"batch", batch}, {"seed", seed}};
}

at::Tensor image_coordinates(int64_t H, int64_t W, const std::string& convention) {
  auto rows = at::arange(H, at::kFloat);
  auto cols = at::arange(W, at::kFloat);
  at::Tensor y, x;
  if (convention == "reference") {
    const double d = static_cast<double>(std::max<int64_t>(H - 1, 1));
    y = rows / d * 2 - 1;
    x = cols / d * 2 - 1;
  } else if (convention == "aspect") {
    const double d = static_cast<double>(std::max<int64_t>(std::max(H, W) - 1, 1));
    y = (rows - (H - 1) / 2.0) / d * 2;
    x = (cols - (W - 1) / 2.0) / d * 2;
  } else {
    throw std::invalid_argument("--coords: unknown convention '" + convention + "' (valid: reference, aspect)");
  }
  auto grid = at::meshgrid({y, x}, "ij");
  return at::stack({grid[1].reshape(-1), grid[0].reshape(-1)}, 1);
}

ImageTask::ImageTask(at::Tensor image, ImageTaskOptions options, std::string source)
    : image_(std::move(image)), options_(std::move(options)), source_(std::move(source)) {
  TORCH_CHECK(image_.dim() == 3, "image task expects [H, W, C], got ", image_.sizes());
  // SSIM uses 7x7 windows: refuse before training, not after it.
  if (image_.size(0) < 7 || image_.size(1) < 7)
    throw std::runtime_error((source_.empty() ? std::string("image") : source_) + ": image is " +
                             std::to_string(image_.size(1)) + "x" + std::to_string(image_.size(0)) +
                             " pixels, at least 7x7 needed (SSIM window)");
  if (options_.batch < 0) throw std::runtime_error("image task: batch must be >= 0, got " + std::to_string(options_.batch));
  coords_ = image_coordinates(image_.size(0), image_.size(1), options_.coords).to(image_.device());
  targets_ = image_.reshape({-1, image_.size(2)});
}

void ImageTask::to(const at::Device& d) {
  image_ = image_.to(d);
  coords_ = coords_.to(d);
  targets_ = targets_.to(d);
}

StepResult ImageTask::step(FieldImpl& field, int64_t step) {
  at::Tensor x = coords_, y = targets_;
  if (options_.batch > 0 && options_.batch < coords_.size(0)) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(options_.seed * 1000003ULL + static_cast<uint64_t>(step));
    auto idx = at::randint(coords_.size(0), {options_.batch}, gen, at::TensorOptions().dtype(at::kLong)).to(x.device());
    x = x.index_select(0, idx);
    y = y.index_select(0, idx);
  }
  auto pred = field.forward(x);
  auto loss = (pred - y).pow(2).mean();
  const double mse = loss.item<double>();
  return {loss, {{"psnr", mse > 0 ? -10 * std::log10(mse) : 100.0}}};
}

at::Tensor ImageTask::reconstruct(FieldImpl& field) {
  auto pred = evaluate_chunked(field, coords_, field.batch_dependent() ? 0 : 65536);
  return pred.reshape(image_.sizes());
}

nlohmann::json ImageTask::evaluate(FieldImpl& field) {
  const bool full_batch = options_.batch <= 0 || options_.batch >= coords_.size(0);
  std::string mode = "batch";
  if (full_batch) {
    field.set_norm_mode(NormMode::Batch);
    field.calibrate(coords_);  // exact: frozen mode now reproduces the full-image batch output
    mode = field.norm_layers().empty() ? "none" : "batch (full image; frozen statistics calibrated on it)";
  } else {
    field.set_norm_mode(NormMode::Frozen);
    mode = field.norm_layers().empty() ? "none" : "frozen (running estimate)";
  }
  auto pred = reconstruct(field).to(at::kCPU);
  auto target = image_.to(at::kCPU);
  const int64_t pixels = image_.size(0) * image_.size(1);
  return {{"psnr", psnr(pred, target)},
          {"ssim", ssim(pred, target)},
          {"bpp", bits_per_pixel(field.num_parameters(), pixels)},
          {"params", field.num_parameters()},
          {"norm_mode", mode}};
}

void ImageTask::write_outputs(FieldImpl& field, const std::string& dir) {
  auto pred = reconstruct(field).to(at::kCPU).clamp(0, 1);
  auto target = image_.to(at::kCPU);
  write_png(std::filesystem::path(dir) / "reconstruction.png", pred);
  auto err = error_map(pred, target);
  write_png(std::filesystem::path(dir) / "error.png", err);
  write_png(std::filesystem::path(dir) / "comparison.png", side_by_side({to_rgb(target), to_rgb(pred), err}));
}

nlohmann::json ImageTask::config() const {
  auto j = options_.to_json();
  j["task"] = "image";
  j["source"] = source_;
  j["height"] = image_.size(0);
  j["width"] = image_.size(1);
  j["channels"] = image_.size(2);
  return j;
}

}  // namespace nf
