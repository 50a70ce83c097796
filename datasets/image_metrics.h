#pragma once
// Image quality metrics as the paper reports them (PSNR on 8-bit output, skimage-default SSIM) and
// the compression rate in bits per pixel.
//
// Quantisation: psnr() and ssim() (by default) first clamp BOTH pred and target to [0, 1] and round
// them to 8 bits, q(x) = round(255 * clamp(x, 0, 1)) / 255 (round half to even, like numpy), as the
// paper does for its saved 8-bit images. For an 8-bit target q() changes nothing.
// All arithmetic is in float64 on the CPU; inputs may be any float dtype / device.
#include <ATen/ATen.h>

#include <cstdint>

namespace nf {

// q(x) above. x: any shape -> same shape, float64.
at::Tensor quantize_8bit(const at::Tensor& x);

// PSNR in dB with peak 1 on quantised pred and target: 10 * log10(1 / MSE), MSE over all entries.
// Identical (after quantisation) inputs give MSE 0: returns 100.0 (not +inf) so averages stay finite.
// pred, target: same shape (e.g. [H, W, C], [H, W], [D, H, W]).
double psnr(const at::Tensor& pred, const at::Tensor& target);

// As psnr() but on the raw float values (no clamping or rounding). MSE 0 -> 100.0.
double psnr_float(const at::Tensor& pred, const at::Tensor& target);

// SSIM equal to skimage.metrics.structural_similarity(target, pred, data_range=1) with its defaults:
// 7x7 uniform window, use_sample_covariance=True (covariances scaled by 49/48), K1 = 0.01,
// K2 = 0.03, the SSIM map averaged over the valid region (3 pixels cropped at every border, so the
// border handling of the filter never matters), and for [H, W, C] the mean over channels
// (channel_axis=-1). pred, target: [H, W, C] or [H, W], same shape, H and W >= 7.
// quantize: apply q() to both first (default, as psnr()); false compares the raw values.
double ssim(const at::Tensor& pred, const at::Tensor& target, bool quantize = true);

// Volume SSIM: the mean of the 2-D SSIM (as ssim(), data_range 1) over the D slices along the
// first axis. vol_a, vol_b: [D, H, W], H and W >= 7.
double ssim3d(const at::Tensor& vol_a, const at::Tensor& vol_b, bool quantize = true);

// Compression rate of a field: n_params * bits / n_pixels.
double bits_per_pixel(int64_t n_params, int64_t n_pixels, int bits = 32);

}  // namespace nf
