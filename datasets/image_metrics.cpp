// PSNR, SSIM (skimage defaults) and bits per pixel. See image_metrics.h for the exact definitions.
#include "datasets/image_metrics.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nf {
namespace {

std::string shape_str(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t i = 0; i < t.dim(); ++i) s += (i ? ", " : "") + std::to_string(t.size(i));
  return s + "]";
}

void check_same(const at::Tensor& a, const at::Tensor& b, const char* who) {
  if (!a.defined() || !b.defined()) throw std::runtime_error(std::string(who) + ": undefined tensor");
  if (!a.sizes().equals(b.sizes()))
    throw std::runtime_error(std::string(who) + ": shape mismatch " + shape_str(a) + " vs " + shape_str(b));
  if (a.numel() == 0) throw std::runtime_error(std::string(who) + ": empty input");
}

at::Tensor f64(const at::Tensor& x) { return x.detach().to(at::kCPU, at::kDouble); }

double psnr_of(const at::Tensor& a, const at::Tensor& b) {
  const double mse = (a - b).pow(2).mean().item<double>();
  if (mse <= 0) return 100.0;
  return 10.0 * std::log10(1.0 / mse);
}

// Mean SSIM over the valid region of N single-channel images. x, y: [N, 1, H, W] float64.
// Mean over all N maps = mean over channels of per-channel means (all maps have the same size).
double ssim_maps(const at::Tensor& x, const at::Tensor& y) {
  constexpr int64_t win = 7;
  const double np = win * win, cov_norm = np / (np - 1);  // use_sample_covariance=True
  const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;        // (K * data_range)^2, data_range = 1
  if (x.size(2) < win || x.size(3) < win)
    throw std::runtime_error("ssim: images must be at least 7x7, got " + shape_str(x));
  // Un-padded 7x7 mean filter = skimage's uniform_filter restricted to the cropped valid region.
  auto filt = [](const at::Tensor& t) { return at::avg_pool2d(t, {win, win}, {1, 1}); };  // [N, 1, H-6, W-6]
  at::Tensor ux = filt(x), uy = filt(y);
  at::Tensor uxx = filt(x * x), uyy = filt(y * y), uxy = filt(x * y);
  at::Tensor vx = cov_norm * (uxx - ux * ux);
  at::Tensor vy = cov_norm * (uyy - uy * uy);
  at::Tensor vxy = cov_norm * (uxy - ux * uy);
  at::Tensor a1 = 2 * ux * uy + c1, a2 = 2 * vxy + c2;
  at::Tensor b1 = ux * ux + uy * uy + c1, b2 = vx + vy + c2;
  return (a1 * a2 / (b1 * b2)).mean().item<double>();
}

}  // namespace

at::Tensor quantize_8bit(const at::Tensor& x) { return f64(x).clamp(0, 1).mul(255).round().div(255); }

double psnr(const at::Tensor& pred, const at::Tensor& target) {
  check_same(pred, target, "psnr");
  return psnr_of(quantize_8bit(pred), quantize_8bit(target));
}

double psnr_float(const at::Tensor& pred, const at::Tensor& target) {
  check_same(pred, target, "psnr_float");
  return psnr_of(f64(pred), f64(target));
}

double ssim(const at::Tensor& pred, const at::Tensor& target, bool quantize) {
  check_same(pred, target, "ssim");
  if (pred.dim() != 2 && pred.dim() != 3)
    throw std::runtime_error("ssim: expected [H, W, C] or [H, W], got " + shape_str(pred));
  at::Tensor x = quantize ? quantize_8bit(pred) : f64(pred);
  at::Tensor y = quantize ? quantize_8bit(target) : f64(target);
  if (x.dim() == 2) {  // [H, W] -> [1, 1, H, W]
    x = x.unsqueeze(0).unsqueeze(0);
    y = y.unsqueeze(0).unsqueeze(0);
  } else {  // [H, W, C] -> [C, 1, H, W]
    x = x.permute({2, 0, 1}).unsqueeze(1).contiguous();
    y = y.permute({2, 0, 1}).unsqueeze(1).contiguous();
  }
  return ssim_maps(x, y);
}

double ssim3d(const at::Tensor& vol_a, const at::Tensor& vol_b, bool quantize) {
  check_same(vol_a, vol_b, "ssim3d");
  if (vol_a.dim() != 3) throw std::runtime_error("ssim3d: expected [D, H, W], got " + shape_str(vol_a));
  at::Tensor x = (quantize ? quantize_8bit(vol_a) : f64(vol_a)).unsqueeze(1);  // [D, 1, H, W]
  at::Tensor y = (quantize ? quantize_8bit(vol_b) : f64(vol_b)).unsqueeze(1);  // [D, 1, H, W]
  return ssim_maps(x, y);  // mean over slices of each slice's mean SSIM
}

double bits_per_pixel(int64_t n_params, int64_t n_pixels, int bits) {
  if (n_pixels <= 0) throw std::runtime_error("bits_per_pixel: n_pixels must be > 0");
  return static_cast<double>(n_params) * bits / static_cast<double>(n_pixels);
}

}  // namespace nf
