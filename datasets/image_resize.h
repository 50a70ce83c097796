#pragma once
// Integer resizing of images [H, W, C] (float, CPU): box downscale for preparing data sets, nearest
// upscale for readable montages of small renders.
#include <ATen/ATen.h>

namespace nf {

// Box average of s x s blocks. hwc: [H, W, C] float in [0, 1], s must divide H and W. With C = 4
// (RGBA, straight alpha) the colour is averaged premultiplied — rgb' = mean(rgb * a) / mean(a),
// a' = mean(a) (0 where a' = 0) — so compositing the result over any background equals averaging
// the composited full-size pixels (what load_blender's downscale does). -> [H / s, W / s, C]
at::Tensor box_downscale(const at::Tensor& hwc, int64_t s);

// Nearest-neighbour upscale by the smallest integer factor that makes the image at least
// min_height rows tall (factor 1, a plain copy, when it already is). hwc: [H, W, C] or [H, W]
// -> [H * f, W * f, C] (or [H * f, W * f]). For montages of small renders (100 px NeRF views).
at::Tensor upscale_nearest(const at::Tensor& hwc, int64_t min_height = 300);
// The factor upscale_nearest(hwc, min_height) uses for an image of `height` rows.
int64_t upscale_factor(int64_t height, int64_t min_height = 300);

}  // namespace nf
