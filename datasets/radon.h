#pragma once
// Parallel-beam Radon transform in tensor ops (differentiable: autograd flows to the image), its
// exact adjoint, and the classical filtered backprojection (FBP) baseline.
//
// Geometry (all lengths in pixels):
//  - image pixel (row i, col j) sits at x = j - (W-1)/2 (right), y = (H-1)/2 - i (up).
//  - angle θ: detector axis e = (cos θ, sin θ), ray direction d = (-sin θ, cos θ); θ = 0 integrates
//    along the columns (sums over rows), like skimage.transform.radon.
//  - detector j sits at s_j = (j - (n_det-1)/2) * ds with ds = min(H, W) / n_det (1 for n_det = W
//    on a square image), so the detector spans the inscribed circle's diameter.
//  - each ray is sampled at t_k = (k - (n_t-1)/2) * step, n_t = ceil(min(H, W) / step), with
//    bilinear interpolation (grid_sampler, align_corners = false, zero padding), and the line
//    integral is sum_k image(s e + t_k d) * step. A constant-1 disc of radius r at the centre thus
//    projects to the chord length 2 sqrt(r^2 - s^2).
// The image is ASSUMED ZERO OUTSIDE ITS INSCRIBED CIRCLE (radius min(H, W)/2): rays only cover
// |t| <= min(H, W)/2, so content in the corners would be seen at some angles and not others.
#include <ATen/ATen.h>

#include <cstdint>

namespace nf {

// n angles evenly spaced over [0, span_deg) in radians (float32, CPU). -> [n]
at::Tensor ct_angles(int64_t n = 100, double span_deg = 180.0);

// Sample positions of all rays as a grid for at::grid_sampler, in normalised coordinates.
// angles_rad: [A]; dtype/device of the result follow `like`. -> [1, A * n_det, n_t, 2] (x, y)
// Reusable across calls with the same geometry (see radon_with_grid).
at::Tensor radon_grid(int64_t height, int64_t width, const at::Tensor& angles_rad,
                      int64_t n_detectors = -1, double step = 1.0, const at::Tensor& like = {});

// Radon transform. image: [H, W] or [B, H, W]; angles_rad: [A] (any float dtype, any device);
// n_detectors: -1 for W; step: ray sampling step in pixels.
// -> [A, n_det] (or [B, A, n_det]), same dtype and device as the image.
at::Tensor radon(const at::Tensor& image, const at::Tensor& angles_rad, int64_t n_detectors = -1,
                 double step = 1.0);

// Same, with a grid from radon_grid() (saves rebuilding it every training step).
// image: [H, W] or [B, H, W]; grid: [1, A * n_det, n_t, 2]. -> [A, n_det] (or [B, A, n_det])
at::Tensor radon_with_grid(const at::Tensor& image, const at::Tensor& grid, int64_t n_angles,
                           double step = 1.0);

// Exact adjoint of radon() (same geometry and step): <radon(x), y> == <x, radon_adjoint(y)> up to
// rounding. Not differentiable. sinogram: [A, n_det] or [B, A, n_det]. -> [H, W] (or [B, H, W])
at::Tensor radon_adjoint(const at::Tensor& sinogram, const at::Tensor& angles_rad, int64_t height,
                         int64_t width, double step = 1.0);

// Pixel-driven unfiltered backprojection: out(x) = sum_a sinogram[a](s = x·e_a), with the sinogram
// linearly interpolated between detectors (0 outside). Approximately (1/ds) times the adjoint.
// sinogram: [A, n_det] or [B, A, n_det]; angles_rad: [A]. -> [H, W] (or [B, H, W])
at::Tensor backproject(const at::Tensor& sinogram, const at::Tensor& angles_rad, int64_t height,
                       int64_t width);

// Ram-Lak ramp filter along the detector axis (the spatial Ram-Lak kernel, zero-padded FFT to a
// power of two >= 2 n_det, as skimage's iradon "ramp"). sinogram: [..., n_det] -> same shape.
at::Tensor ramp_filter(const at::Tensor& sinogram);

// Filtered backprojection: (π / A) (1 / ds) backproject(ramp_filter(sinogram)); for angles over
// [0, π). sinogram: [A, n_det] or [B, A, n_det]; angles_rad: [A]; size: output side (square).
// -> [size, size] (or [B, size, size])
at::Tensor fbp(const at::Tensor& sinogram, const at::Tensor& angles_rad, int64_t size);

}  // namespace nf
