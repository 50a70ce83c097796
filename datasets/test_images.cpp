// Synthetic test images; formulas documented in test_images.h.
#include "datasets/test_images.h"

#include <cmath>
#include <stdexcept>
#include <vector>

namespace nf {
namespace {

// Row and column index grids, float64. -> {[H, W], [H, W]}
std::pair<at::Tensor, at::Tensor> grid(int64_t h, int64_t w) {
  auto opt = at::TensorOptions().dtype(at::kDouble);
  at::Tensor i = at::arange(h, opt).view({h, 1}).expand({h, w});
  at::Tensor j = at::arange(w, opt).view({1, w}).expand({h, w});
  return {i, j};
}

void check(int64_t h, int64_t w, int channels, const char* who) {
  if (h <= 0 || w <= 0 || channels <= 0)
    throw std::runtime_error(std::string(who) + ": sizes and channels must be positive");
}

}  // namespace

at::Tensor zone_plate(int64_t size, int channels) {
  check(size, size, channels, "zone_plate");
  auto [i, j] = grid(size, size);
  const double c = (size - 1) / 2.0;
  const double r_max = std::max(c * std::sqrt(2.0), 1.0);
  const double k = 0.9 * M_PI / (2.0 * r_max);
  at::Tensor phase = k * ((i - c).pow(2) + (j - c).pow(2));  // [H, W]
  std::vector<at::Tensor> chans;
  for (int ch = 0; ch < channels; ++ch) chans.push_back(0.5 + 0.5 * at::cos(phase + ch * 2.0 * M_PI / 3.0));
  return at::stack(chans, 2).to(at::kFloat);  // [size, size, channels]
}

at::Tensor checkerboard(int64_t height, int64_t width, int64_t cell, int channels) {
  check(height, width, channels, "checkerboard");
  if (cell <= 0) throw std::runtime_error("checkerboard: cell must be positive");
  auto opt = at::TensorOptions().dtype(at::kLong);
  at::Tensor ci = at::arange(height, opt).div(cell, "floor").view({height, 1});
  at::Tensor cj = at::arange(width, opt).div(cell, "floor").view({1, width});
  at::Tensor v = (ci + cj).remainder(2).to(at::kFloat);  // [H, W]
  return v.unsqueeze(2).expand({height, width, channels}).contiguous();  // [H, W, C]
}

at::Tensor smooth_pattern(int64_t height, int64_t width, int channels, double phase) {
  check(height, width, channels, "smooth_pattern");
  auto [i, j] = grid(height, width);
  std::vector<at::Tensor> chans;
  for (int ch = 0; ch < channels; ++ch)
    chans.push_back(0.5 + 0.4 * at::sin(0.21 * j + 0.13 * i + (phase + ch)) * at::cos(0.07 * i - 0.05 * j + 0.5 * ch));
  return at::stack(chans, 2).to(at::kFloat);  // [H, W, C]
}

}  // namespace nf
