#include "datasets/image_resize.h"

#include <stdexcept>
#include <string>

namespace nf {

at::Tensor box_downscale(const at::Tensor& hwc, int64_t s) {
  if (hwc.dim() != 3) throw std::runtime_error("box_downscale: expected [H, W, C], got " + std::to_string(hwc.dim()) + " dims");
  const int64_t H = hwc.size(0), W = hwc.size(1), C = hwc.size(2);
  if (s < 1 || H % s != 0 || W % s != 0)
    throw std::runtime_error("box_downscale: factor " + std::to_string(s) + " does not divide " + std::to_string(W) +
                             "x" + std::to_string(H));
  if (s == 1) return hwc.clone();
  const at::Tensor x = hwc.to(at::kDouble).reshape({H / s, s, W / s, s, C});
  if (C != 4) return x.mean({1, 3}).to(at::kFloat);  // [H / s, W / s, C]
  const at::Tensor a = x.select(4, 3);                                           // [h, s, w, s]
  const at::Tensor a_mean = a.mean({1, 3});                                      // [h, w]
  const at::Tensor premult = (x.narrow(4, 0, 3) * a.unsqueeze(4)).mean({1, 3});  // [h, w, 3]
  const at::Tensor rgb = at::where(a_mean.unsqueeze(2) > 0, premult / a_mean.clamp_min(1e-12).unsqueeze(2),
                                   at::zeros_like(premult));
  return at::cat({rgb, a_mean.unsqueeze(2)}, 2).to(at::kFloat);  // [h, w, 4]
}

int64_t upscale_factor(int64_t height, int64_t min_height) {
  if (height <= 0 || min_height <= height) return 1;
  return (min_height + height - 1) / height;
}

at::Tensor upscale_nearest(const at::Tensor& hwc, int64_t min_height) {
  if (hwc.dim() != 2 && hwc.dim() != 3)
    throw std::runtime_error("upscale_nearest: expected [H, W] or [H, W, C], got " + std::to_string(hwc.dim()) + " dims");
  const int64_t f = upscale_factor(hwc.size(0), min_height);
  if (f == 1) return hwc.clone();
  return hwc.repeat_interleave(f, 0).repeat_interleave(f, 1);  // [H * f, W * f(, C)]
}

}  // namespace nf
