#pragma once
// Deterministic synthetic images for tests and frequency experiments. All return float32 CPU
// tensors [H, W, C] in [0, 1], computed in float64 and then rounded to float32.
#include <ATen/ATen.h>

#include <cstdint>

namespace nf {

// Circular zone plate, size x size. With pixel centres (i, j) and centre c = (size - 1) / 2,
// r^2 = (i - c)^2 + (j - c)^2 (pixels^2) and k = 0.9 * pi / (2 * r_max), r_max = c * sqrt(2):
//   channel ch = 0.5 + 0.5 * cos(k * r^2 + ch * 2 * pi / 3)
// The local frequency d(k r^2)/dr = 2 k r rises from 0 at the centre to 0.9 * pi rad/pixel
// (0.9 x Nyquist) at the corners, so nothing aliases. Channels differ by a phase of 120 degrees.
at::Tensor zone_plate(int64_t size, int channels = 3);  // -> [size, size, channels]

// Checkerboard of square cells `cell` pixels wide; cell (0, 0) is black (0), the others alternate
// with white (1). -> [height, width, channels]
at::Tensor checkerboard(int64_t height, int64_t width, int64_t cell = 8, int channels = 3);

// Smooth colour pattern (i = row, j = column, ch = channel):
//   0.5 + 0.4 * sin(0.21 * j + 0.13 * i + phase + ch) * cos(0.07 * i - 0.05 * j + 0.5 * ch)
// Used by the metric tests (the skimage reference values were computed on this formula).
at::Tensor smooth_pattern(int64_t height, int64_t width, int channels = 3, double phase = 0.0);

}  // namespace nf
