// CT problem construction: phantom, slice loading/resizing, sinogram + noise.
#include "datasets/ct_data.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/image_io.h"
#include "datasets/radon.h"

namespace nf {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Zeroes pixels whose centre lies farther than size/2 from the image centre. img: [S, S]
at::Tensor circle_mask(const at::Tensor& img) {
  const int64_t S = img.size(0);
  auto c = at::arange(S, img.options()) - (S - 1) / 2.0;
  auto r2 = c.reshape({S, 1}).pow(2) + c.reshape({1, S}).pow(2);
  return img * (r2 <= (S / 2.0) * (S / 2.0)).to(img.scalar_type());
}

// Resizes a square [N, N] to [S, S]: area averaging to shrink, bilinear to enlarge.
at::Tensor resize_square(const at::Tensor& img, int64_t S) {
  const int64_t N = img.size(0);
  if (N == S) return img;
  auto x = img.reshape({1, 1, N, N});
  std::vector<int64_t> out_size{S, S};
  auto y = N > S ? at::adaptive_avg_pool2d(x, at::IntArrayRef(out_size))
                 : at::upsample_bilinear2d(x, at::IntArrayRef(out_size), false);
  return y.reshape({S, S});
}

}  // namespace

at::Tensor shepp_logan(int64_t size) {
  if (size <= 0) throw std::runtime_error("shepp_logan: size must be positive");
  // intensity, semi-axis a (x), semi-axis b (y), centre x0, y0, rotation (degrees, CCW);
  // coordinates in [-1, 1] with y pointing up.
  static const double kEllipses[10][6] = {
      {1.0, 0.69, 0.92, 0.0, 0.0, 0.0},         {-0.8, 0.6624, 0.874, 0.0, -0.0184, 0.0},
      {-0.2, 0.11, 0.31, 0.22, 0.0, -18.0},     {-0.2, 0.16, 0.41, -0.22, 0.0, 18.0},
      {0.1, 0.21, 0.25, 0.0, 0.35, 0.0},        {0.1, 0.046, 0.046, 0.0, 0.1, 0.0},
      {0.1, 0.046, 0.046, 0.0, -0.1, 0.0},      {0.1, 0.046, 0.023, -0.08, -0.605, 0.0},
      {0.1, 0.023, 0.023, 0.0, -0.606, 0.0},    {0.1, 0.023, 0.046, 0.06, -0.605, 0.0}};
  // Plain loops: 10 ellipses on (3 size)^2 points, far cheaper than ~100 small tensor ops.
  const int64_t k = 3, n = size * k;  // 3x3 supersampling, averaged below
  std::vector<float> acc(static_cast<size_t>(size * size), 0.0f);
  double cs[10][2];
  for (int e = 0; e < 10; ++e) {
    cs[e][0] = std::cos(kEllipses[e][5] * kPi / 180.0);
    cs[e][1] = std::sin(kEllipses[e][5] * kPi / 180.0);
  }
  for (int64_t i = 0; i < n; ++i) {
    const double y = 1.0 - 2.0 * (i + 0.5) / static_cast<double>(n);  // up
    for (int64_t j = 0; j < n; ++j) {
      const double x = 2.0 * (j + 0.5) / static_cast<double>(n) - 1.0;
      double v = 0.0;
      for (int e = 0; e < 10; ++e) {
        const double* el = kEllipses[e];
        const double dx = x - el[3], dy = y - el[4];
        const double p = (dx * cs[e][0] + dy * cs[e][1]) / el[1];
        const double q = (-dx * cs[e][1] + dy * cs[e][0]) / el[2];
        if (p * p + q * q <= 1.0) v += el[0];
      }
      acc[static_cast<size_t>((i / k) * size + j / k)] += static_cast<float>(v / (k * k));
    }
  }
  auto img = at::from_blob(acc.data(), {size, size}, at::TensorOptions().dtype(at::kFloat)).clone();
  return img.clamp(0.0, 1.0).contiguous();
}

at::Tensor load_ct_image(const std::filesystem::path& path, int64_t size) {
  if (size <= 0) throw std::runtime_error("load_ct_image: size must be positive");
  if (path.empty() || path == "shepp_logan") return circle_mask(shepp_logan(size));
  Image im = load_image(path);
  auto px = im.pixels;  // [H, W, C]
  const int64_t C = px.size(2);
  auto gray = (C >= 3 ? px.narrow(2, 0, 3).mean(2) : px.select(2, 0)).to(at::kFloat);  // [H, W]
  const int64_t H = gray.size(0), W = gray.size(1);

  // Radius (from the centre, in pixels) that holds every pixel above 1% of the maximum.
  const double peak = gray.max().item<double>();
  if (peak <= 0) throw std::runtime_error(path.string() + ": image is all zero");
  auto rows = (at::arange(H, gray.options()) - (H - 1) / 2.0).abs().reshape({H, 1}) + 0.5;
  auto cols = (at::arange(W, gray.options()) - (W - 1) / 2.0).abs().reshape({1, W}) + 0.5;
  auto corner_r = at::sqrt(rows * rows + cols * cols);  // farthest corner of each pixel
  const double r = at::where(gray > 0.01 * peak, corner_r, at::zeros_like(corner_r))
                       .max().item<double>();
  const int64_t N = std::max({H, W, static_cast<int64_t>(std::ceil(2.0 * r))});
  // Centred zero padding; an odd leftover goes to the bottom/right.
  const int64_t top = (N - H) / 2, left = (N - W) / 2;
  auto square = at::constant_pad_nd(gray, {left, N - W - left, top, N - H - top});  // [N, N]
  return circle_mask(resize_square(square, size).clamp(0.0, 1.0)).contiguous();
}

CtProblem make_ct_problem(const at::Tensor& image, int64_t n_angles, double noise_std,
                          uint64_t seed) {
  if (image.dim() != 2 || image.size(0) != image.size(1))
    throw std::runtime_error("make_ct_problem: image must be square [S, S]");
  CtProblem p;
  p.image = image.to(at::kFloat).contiguous();
  p.angles = ct_angles(n_angles, 180.0).to(p.image.device());
  p.sinogram = radon(p.image, p.angles, p.image.size(1));
  if (noise_std > 0) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
    auto noise = at::randn(p.sinogram.sizes(), gen, at::TensorOptions().dtype(at::kFloat));
    const double scale = noise_std * p.sinogram.abs().max().item<double>();
    p.sinogram = p.sinogram + noise.to(p.sinogram.device()) * scale;
  }
  return p;
}

CtProblem load_ct(const std::filesystem::path& path, int64_t size, int64_t n_angles,
                  double noise_std, uint64_t seed) {
  return make_ct_problem(load_ct_image(path, size), n_angles, noise_std, seed);
}

}  // namespace nf
