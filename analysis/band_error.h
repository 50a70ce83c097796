#pragma once
// Frequency-resolved error of a fitted signal (paper Fig. 3): the residual's Fourier amplitude,
// summed over radial frequency bands, divided by the target's amplitude in the same bands.
//
// Frequencies are radii in units of the Nyquist frequency along one axis: r = |f| / 0.5 with f in
// cycles per sample (1-D: r in [0, 1]; 2-D: r = sqrt(fy^2 + fx^2) / 0.5 in [0, sqrt 2]). Band b of
// n_bins covers [b, b+1) * max_freq / n_bins (the last band includes r = max_freq); frequencies
// above max_freq are ignored. max_freq <= 0 means the largest radius present (1 in 1-D, sqrt 2 in
// 2-D), so every coefficient is counted. The DC term is in band 0.
#include <ATen/ATen.h>

#include <vector>

namespace nf {

// signal: [N] (1-D), [H, W] or [H, W, C] (2-D, amplitudes summed over the C channels).
// -> [n_bins] double: sum of |FFT(signal)| over the coefficients in each band (unnormalised FFT).
at::Tensor radial_spectrum(const at::Tensor& signal, int64_t n_bins, double max_freq = 0.0);

// Band radius of every FFT coefficient, same layout as at::fft_fft / fft_fft2 over the spatial
// dims: [N] or [H, W] (in units of Nyquist, see above).
at::Tensor frequency_radius(at::IntArrayRef spatial_shape);

// pred, target: same shape, as radial_spectrum. -> [n_bins] double:
// radial_spectrum(pred - target) / radial_spectrum(target). Bands where the target has no
// amplitude (below 1e-12 of its total) are NaN.
at::Tensor relative_band_error(const at::Tensor& pred, const at::Tensor& target, int64_t n_bins,
                               double max_freq = 0.0);

// 1-D only, at single frequencies (the measure of Rahaman et al. and the paper's Fig. 3 for a sum of
// sines): pred, target [N]; k: FFT indices (cycles over the N samples), 0 <= k <= N/2.
// -> [k.size()] double: |FFT(pred - target)[k]| / |FFT(target)[k]| (NaN where the target has none).
at::Tensor relative_error_at_frequencies(const at::Tensor& pred, const at::Tensor& target,
                                         const std::vector<int64_t>& k);

}  // namespace nf
