#pragma once
// 2-D image fitting (the paper's image compression task): f(x, y) -> RGB.
#include <ATen/ATen.h>

#include "tasks/task.h"

namespace nf {

struct ImageTaskOptions {
  // "reference": the public Norm-INR code: column and row both divided by (H - 1), mapped to
  //              [-1, 1] (a landscape image's column axis spans about [-1, 2]);
  // "aspect":    the longer side spans [-1, 1], aspect kept.
  std::string coords = "reference";
  int64_t batch = 0;   // 0: the full image every step (paper); else random pixels per step
  uint64_t seed = 0;   // minibatch sampling
  nlohmann::json to_json() const;
};

// Pixel-centre coordinates [H*W, 2] as (x = column, y = row) under the convention.
at::Tensor image_coordinates(int64_t H, int64_t W, const std::string& convention);

// Tukey window of n points, the outer alpha/2 of each side a raised-cosine taper. -> [n] float64
at::Tensor tukey_window(int64_t n, double alpha = 0.25);
// Error power spectrum in dB, fftshifted (DC at the centre): 10*log10(mean_c |FFT2(e_c * w)|^2 /
// sum(w^2)), e_c the signed error of channel c, w a Tukey window. Its mean over pixels in linear
// units is the window-weighted MSE (Parseval). diff: [H, W, C] -> [H, W] float
at::Tensor error_spectrum_db(const at::Tensor& diff);

class ImageTask : public Task {
 public:
  // image: [H, W, C] float in [0, 1]
  ImageTask(at::Tensor image, ImageTaskOptions options, std::string source = "");
  std::string name() const override { return "image"; }
  StepResult step(FieldImpl& field, int64_t step) override;
  // PSNR (8-bit, clamped), SSIM (skimage default), bpp; full-batch runs evaluate the whole image in
  // batch mode (the reference protocol) and then calibrate frozen statistics on it.
  nlohmann::json evaluate(FieldImpl& field) override;
  // reconstruction.png, error.png, comparison.png (ground truth | reconstruction | error)
  void write_outputs(FieldImpl& field, const std::string& dir) override;
  nlohmann::json config() const override;
  int64_t points_per_step() const override { return options_.batch > 0 ? options_.batch : targets_.size(0); }
  // truth, reconstruction (clamped, in the field's current norm mode), error (mean |error| over
  // channels), spectrum (error_spectrum_db); scalar psnr (tasks/image_preview.cpp).
  Preview preview(FieldImpl& field, const PreviewRequest& request) override;
  PreviewInfo preview_info() const override;

  at::Tensor reconstruct(FieldImpl& field);  // -> [H, W, C] (no grad)
  const at::Tensor& image() const { return image_; }
  const at::Tensor& coords() const { return coords_; }
  void to(const at::Device& d);

 private:
  at::Tensor image_;    // [H, W, C]
  at::Tensor coords_;   // [H*W, 2]
  at::Tensor targets_;  // [H*W, C]
  ImageTaskOptions options_;
  std::string source_;
};

}  // namespace nf
