#pragma once
// Image file I/O (PNG/JPEG via stb) and small image helpers for figures:
// side-by-side panels and an error heat map. Images are float32 [H, W, C] in [0, 1] on the CPU.
#include <ATen/ATen.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nf {

struct Image {
  at::Tensor pixels;  // [H, W, C] float32 in [0, 1]; C as stored in the file (1, 2, 3 or 4)
  int bit_depth = 8;  // 8 or 16 (bits per channel in the file)
  int channels = 0;   // 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA
  std::string path;
};

// Loads a PNG or JPEG (8- or 16-bit; gray, gray+alpha, RGB, RGBA), keeping the file's channels.
// 8-bit values are divided by 255, 16-bit values by 65535.
// Throws std::runtime_error naming the file: "<path>: no such file",
// "<path>: not a PNG/JPEG image or corrupt (<reason>)", "<path>: image has zero size".
Image load_image(const std::filesystem::path& path);

// Converts [H, W, C] (C in 1..4) or [H, W] to RGB [H, W, 3]: gray is replicated; alpha is
// composited over white (composite_white) or dropped.
at::Tensor to_rgb(const at::Tensor& hwc, bool composite_white = true);  // -> [H, W, 3]

// Writes an 8-bit PNG. hwc: [H, W, C] with C in {1, 3, 4}, or [H, W]; float values are clamped to
// [0, 1] and rounded to round(x * 255). Creates parent folders; writes "<path>.tmp" then renames it
// over path (atomic on one file system). Throws std::runtime_error naming the file.
void write_png(const std::filesystem::path& path, const at::Tensor& hwc);

// Concatenates images horizontally with white gaps of `gap` columns. Each image [H, W_i, 3]
// (or [H, W_i, 1] / [H, W_i], converted to RGB); all must have the same H. -> [H, sum W_i + gaps, 3]
at::Tensor side_by_side(const std::vector<at::Tensor>& images, int gap = 4);

// Heat map of the per-pixel mean absolute error over channels, |pred - target| averaged over C,
// scaled by 1/max_err and clamped to [0, 1], through a black -> red -> yellow -> white ramp.
// pred, target: [H, W, C] or [H, W], same shape. -> [H, W, 3] float32 in [0, 1]
at::Tensor error_map(const at::Tensor& pred, const at::Tensor& target, double max_err = 0.1);

}  // namespace nf
