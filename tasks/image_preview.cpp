// ImageTask's viewer hook: the target, the reconstruction, the error map and the error spectrum.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "tasks/image_task.h"

namespace nf {

at::Tensor tukey_window(int64_t n, double alpha) {
  auto opt = at::TensorOptions().dtype(at::kDouble);
  if (n < 3) return at::ones({n}, opt);
  auto x = at::arange(n, opt).div(static_cast<double>(n - 1));  // [0, 1]
  auto edge = at::minimum(x, 1.0 - x);                          // distance to the nearer end
  auto taper = 0.5 * (1.0 - at::cos(2.0 * 3.141592653589793 * edge / alpha));
  return at::where(edge < alpha / 2, taper, at::ones_like(x));
}

at::Tensor error_spectrum_db(const at::Tensor& diff) {
  // Per-channel spectra (averaging the signed error over channels first would cancel e.g. the
  // zone plate's phase-shifted channels), power averaged over channels. A Tukey window (cosine
  // taper over the outer 12.5% of each side) keeps the non-periodic image borders from smearing a
  // bright cross over the spectrum; dividing by sum(w^2) keeps the mean power = windowed MSE.
  const int64_t H = diff.size(0), W = diff.size(1);
  auto e = diff.to(at::kDouble).permute({2, 0, 1});                        // [C, H, W]
  auto win = tukey_window(H).unsqueeze(1) * tukey_window(W).unsqueeze(0);  // [H, W]
  auto power = at::fft_fft2(e * win).abs().pow(2).mean(0).div(win.pow(2).sum().item<double>());
  return at::fft_fftshift(power.add(1e-20).log10().mul(10.0)).to(at::kFloat);  // [H, W]
}

Preview ImageTask::preview(FieldImpl& field, const PreviewRequest& request) {
  c10::NoGradGuard no_grad;
  auto truth = image_.to(at::kCPU, at::kFloat);
  auto recon = reconstruct(field).to(at::kCPU, at::kFloat).clamp(0, 1).contiguous();  // [H, W, C]
  auto diff = recon - truth;
  Preview p;
  const auto rgb = [](const at::Tensor& t) { return t.size(2) == 3 ? t.contiguous() : to_rgb(t).contiguous(); };
  p.images.push_back({"truth", {rgb(truth), "rgb"}});
  p.images.push_back({"reconstruction", {rgb(recon), "rgb"}});
  p.images.push_back({"error", {diff.abs().mean(2).contiguous(), "error"}});
  p.images.push_back({"spectrum", {error_spectrum_db(diff), "db"}});
  p.scalars["psnr"] = psnr(recon, truth);
  if (request.heldout) p.scalars["heldout_psnr"] = p.scalars["psnr"];  // the image is its own held-out view
  return p;
}

PreviewInfo ImageTask::preview_info() const {
  PreviewInfo i;
  i.heldout = source_.empty() ? "the image" : source_;
  return i;
}

}  // namespace nf
