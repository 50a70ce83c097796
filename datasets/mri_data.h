#pragma once
// 3-D MRI reconstruction problem: a volume, its orthonormal 3-D Fourier transform (k-space), an
// undersampling mask and the observed coefficients (volumes are read with load_npy, datasets/npy.h).
//
// k-space layout: UNSHIFTED FFT order (DC at index 0 of every axis, as at::fft_fftn returns it).
// The masks are built with fftshift-aware frequencies f = i for i < (n+1)/2, else i - n.
#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "datasets/npy.h"  // load_npy

namespace nf {

// A volume from a .npy file as float32 [D, H, W] in [0, 1]: uint8 data / 255, anything else
// min-max normalised. Axes as stored (the Colin27 files are z, y, x).
at::Tensor load_mri(const std::filesystem::path& path);

// Orthonormal 3-D FFT over the last three axes (norm "ortho": sum |x|^2 == sum |X|^2).
// volume: [D, H, W] (or [..., D, H, W]) real or complex -> complex, same shape (unshifted).
at::Tensor mri_forward(const at::Tensor& volume);

// Its inverse (= adjoint): orthonormal inverse 3-D FFT. kspace: [..., D, H, W] -> complex.
at::Tensor mri_inverse(const at::Tensor& kspace);

// Sampling mask with round(rate * numel) ones (never fewer than the fully sampled centre block of
// half-width max(1, n/24) frequencies per axis), float32 {0, 1} on the CPU, reproducible from
// `seed` (CPU generator). sizes: [D, H, W] (any number of axes works). Patterns:
//  - "random":   centre block + uniform random samples without replacement.
//  - "gaussian": centre block + variable density: weighted sampling without replacement with
//                weight exp(-r^2 / (2 * 0.3^2)), r = |f / (n/2)| the normalised frequency radius.
//  - "lines":    Cartesian: whole readout lines along the LAST axis, the line positions drawn on
//                the other axes as "gaussian" (the rate is then the fraction of lines).
// -> [sizes...] float32
at::Tensor kspace_mask(at::IntArrayRef sizes, const std::string& pattern, double rate,
                       uint64_t seed);

struct MriProblem {
  at::Tensor volume;    // [D, H, W] float32 ground truth in [0, 1]
  at::Tensor mask;      // [D, H, W] float32 {0, 1}, same device as volume
  at::Tensor observed;  // [D, H, W] complex64: (mri_forward(volume) + noise) * mask
};

// Builds the problem. noise: complex Gaussian, std noise_std on both the real and the imaginary
// part (orthonormal FFT: the same std as white noise in the image domain), drawn from a CPU
// generator seeded with seed + 1 (the mask uses seed).
// volume: [D, H, W] real.
MriProblem make_mri_problem(const at::Tensor& volume, const std::string& pattern, double rate,
                            uint64_t seed, double noise_std = 0.0);

// Classical baseline: |inverse FFT of the observed (zero-filled) k-space|. -> [D, H, W] float32
at::Tensor mri_zero_filled(const MriProblem& problem);

}  // namespace nf
