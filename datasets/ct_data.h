#pragma once
// 2-D CT reconstruction problem: a ground-truth slice, projection angles and its parallel-beam
// sinogram (radon.h), optionally with Gaussian noise.
#include <ATen/ATen.h>

#include <cstdint>
#include <filesystem>

namespace nf {

struct CtProblem {
  at::Tensor image;     // [S, S] float32 in [0, 1], zero outside the inscribed circle
  at::Tensor angles;    // [A] float32 radians, evenly over [0, π)
  at::Tensor sinogram;  // [A, S] float32, radon(image, angles) (+ noise)
};

// Modified Shepp–Logan phantom (Toft's contrast, as skimage.data.shepp_logan_phantom), evaluated
// in code with 3x3 supersampling per pixel; the head lies inside the inscribed circle.
// -> [size, size] float32 in [0, 1]
at::Tensor shepp_logan(int64_t size);

// Loads a CT slice (8/16-bit PNG; RGB(A) becomes the mean of R, G, B) as gray in [0, 1], pads it
// with zeros to the smallest centred square whose inscribed circle holds every pixel above 1% of
// the maximum (a non-square or full-frame slice loses nothing), resizes that square to size x size
// (area averaging when shrinking, bilinear when enlarging) and zeroes everything outside the
// inscribed circle (the projector's assumption, see radon.h).
// path: an image file, or "" / "shepp_logan" for the built-in phantom. -> [size, size] float32
at::Tensor load_ct_image(const std::filesystem::path& path, int64_t size);

// The CT problem of an image: angles = ct_angles(n_angles, 180), sinogram = radon(image, angles)
// with S detectors, plus Gaussian noise of standard deviation noise_std * max(sinogram) (relative,
// so independent of the resolution) drawn from a CPU generator seeded with `seed`.
// image: [S, S] float.
CtProblem make_ct_problem(const at::Tensor& image, int64_t n_angles = 100, double noise_std = 0.0,
                          uint64_t seed = 0);

// load_ct_image + make_ct_problem.
CtProblem load_ct(const std::filesystem::path& path, int64_t size, int64_t n_angles = 100,
                  double noise_std = 0.0, uint64_t seed = 0);

}  // namespace nf
