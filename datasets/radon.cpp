// Parallel-beam Radon transform by ray sampling (see radon.h for the geometry).
#include "datasets/radon.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace nf {
namespace {

constexpr double kPi = 3.14159265358979323846;

void check_angles(const at::Tensor& angles, const char* fn) {
  if (!angles.defined() || angles.dim() != 1 || angles.numel() == 0)
    throw std::runtime_error(std::string(fn) + ": angles must be a non-empty 1-D tensor");
}

// [H, W] -> [1, H, W]; [B, H, W] stays. Sets `batched`.
at::Tensor as_batch(const at::Tensor& t, bool& batched, const char* fn) {
  if (t.dim() != 2 && t.dim() != 3)
    throw std::runtime_error(std::string(fn) + ": expected a [H, W] or [B, H, W] tensor, got " +
                             std::to_string(t.dim()) + " dims");
  batched = t.dim() == 3;
  return batched ? t : t.unsqueeze(0);
}

at::TensorOptions float_options(const at::Tensor& like) {
  if (like.defined() && at::isFloatingType(like.scalar_type())) return like.options();
  return at::TensorOptions().dtype(at::kFloat).device(like.defined() ? like.device() : at::kCPU);
}

}  // namespace

at::Tensor ct_angles(int64_t n, double span_deg) {
  if (n <= 0) throw std::runtime_error("ct_angles: n must be positive");
  auto k = at::arange(n, at::TensorOptions().dtype(at::kDouble));
  return (k * (span_deg / static_cast<double>(n) * kPi / 180.0)).to(at::kFloat);
}

at::Tensor radon_grid(int64_t height, int64_t width, const at::Tensor& angles_rad,
                      int64_t n_detectors, double step, const at::Tensor& like) {
  check_angles(angles_rad, "radon_grid");
  if (height <= 0 || width <= 0 || step <= 0)
    throw std::runtime_error("radon_grid: height, width and step must be positive");
  const int64_t n_det = n_detectors > 0 ? n_detectors : width;
  const double diam = static_cast<double>(std::min(height, width));
  const double ds = diam / static_cast<double>(n_det);
  const auto n_t = static_cast<int64_t>(std::ceil(diam / step - 1e-9));
  const int64_t A = angles_rad.size(0);
  auto opts = float_options(like);

  auto th = angles_rad.to(opts).reshape({A, 1, 1});
  auto s = ((at::arange(n_det, opts) - (n_det - 1) / 2.0) * ds).reshape({1, n_det, 1});
  auto t = ((at::arange(n_t, opts) - (n_t - 1) / 2.0) * step).reshape({1, 1, n_t});
  auto c = at::cos(th), sn = at::sin(th);
  auto x = s * c - t * sn;  // [A, n_det, n_t], pixels right of the centre
  auto y = s * sn + t * c;  // [A, n_det, n_t], pixels above the centre
  // Pixel (col = x + (W-1)/2, row = (H-1)/2 - y) in align_corners=false coordinates:
  // gx = (2 col + 1) / W - 1 = 2x / W, gy = (2 row + 1) / H - 1 = -2y / H.
  auto grid = at::stack({x * (2.0 / width), y * (-2.0 / height)}, -1);
  return grid.reshape({1, A * n_det, n_t, 2});
}

at::Tensor radon_with_grid(const at::Tensor& image, const at::Tensor& grid, int64_t n_angles,
                           double step) {
  bool batched = false;
  auto x = as_batch(image, batched, "radon");  // [B, H, W]
  if (grid.dim() != 4 || grid.size(0) != 1 || grid.size(3) != 2 || grid.size(1) % n_angles != 0)
    throw std::runtime_error("radon: grid must be [1, A * n_det, n_t, 2] from radon_grid()");
  const int64_t B = x.size(0), n_det = grid.size(1) / n_angles;
  auto g = grid.to(x.options());
  // Batch images become channels so all share one grid: [1, B, H, W] -> [1, B, A*n_det, n_t].
  auto samples = at::grid_sampler(x.unsqueeze(0), g, /*bilinear*/ 0, /*zeros*/ 0,
                                  /*align_corners*/ false);
  auto sino = samples.sum(-1).mul(step).reshape({B, n_angles, n_det});
  return batched ? sino : sino.squeeze(0);
}

at::Tensor radon(const at::Tensor& image, const at::Tensor& angles_rad, int64_t n_detectors,
                 double step) {
  check_angles(angles_rad, "radon");
  if (image.dim() != 2 && image.dim() != 3)
    throw std::runtime_error("radon: image must be [H, W] or [B, H, W]");
  auto img = at::isFloatingType(image.scalar_type()) ? image : image.to(at::kFloat);
  const int64_t H = img.size(-2), W = img.size(-1);
  auto grid = radon_grid(H, W, angles_rad, n_detectors, step, img);
  return radon_with_grid(img, grid, angles_rad.size(0), step);
}

at::Tensor radon_adjoint(const at::Tensor& sinogram, const at::Tensor& angles_rad, int64_t height,
                         int64_t width, double step) {
  check_angles(angles_rad, "radon_adjoint");
  bool batched = false;
  auto y = as_batch(sinogram, batched, "radon_adjoint");  // [B, A, n_det]
  const int64_t B = y.size(0), A = y.size(1), n_det = y.size(2);
  if (A != angles_rad.size(0))
    throw std::runtime_error("radon_adjoint: sinogram has " + std::to_string(A) +
                             " angles, angles_rad " + std::to_string(angles_rad.size(0)));
  if (!at::isFloatingType(y.scalar_type())) y = y.to(at::kFloat);
  auto grid = radon_grid(height, width, angles_rad, n_det, step, y);
  const int64_t n_t = grid.size(2);
  // d(sum_k step * sample_k)/d(sample_k) = step: spread each ray value over its n_t samples,
  // then the sampler's backward scatters them with the bilinear weights (its exact transpose).
  auto go = (y * step).reshape({1, B, A * n_det, 1}).expand({1, B, A * n_det, n_t}).contiguous();
  auto input = at::zeros({1, B, height, width}, y.options());
  auto grads = at::grid_sampler_2d_backward(go, input, grid, 0, 0, false, {true, false});
  auto out = std::get<0>(grads).squeeze(0);  // [B, H, W]
  return batched ? out : out.squeeze(0);
}

at::Tensor backproject(const at::Tensor& sinogram, const at::Tensor& angles_rad, int64_t height,
                       int64_t width) {
  check_angles(angles_rad, "backproject");
  bool batched = false;
  auto y = as_batch(sinogram, batched, "backproject");  // [B, A, n_det]
  if (!at::isFloatingType(y.scalar_type())) y = y.to(at::kFloat);
  const int64_t B = y.size(0), A = y.size(1), n_det = y.size(2);
  if (A != angles_rad.size(0))
    throw std::runtime_error("backproject: sinogram has " + std::to_string(A) +
                             " angles, angles_rad " + std::to_string(angles_rad.size(0)));
  const double ds = static_cast<double>(std::min(height, width)) / static_cast<double>(n_det);
  auto opts = y.options();
  auto th = angles_rad.to(opts).reshape({A, 1, 1});
  auto xs = (at::arange(width, opts) - (width - 1) / 2.0).reshape({1, 1, width});
  auto ys = ((height - 1) / 2.0 - at::arange(height, opts)).reshape({1, height, 1});
  auto s = xs * at::cos(th) + ys * at::sin(th);   // [A, H, W] detector coordinate in pixels
  auto j = s / ds + (n_det - 1) / 2.0;            // fractional detector index
  auto gx = (2.0 * j + 1.0) / static_cast<double>(n_det) - 1.0;
  auto gy = ((2.0 * at::arange(A, opts) + 1.0) / static_cast<double>(A) - 1.0)
                .reshape({A, 1, 1}).expand({A, height, width});  // exactly on row a
  auto grid = at::stack({gx, gy}, -1).reshape({1, A, height * width, 2});
  // Sinogram as an image [1, B, A, n_det]; linear interpolation along the detector only.
  auto vals = at::grid_sampler(y.unsqueeze(0), grid, 0, 0, false);  // [1, B, A, H*W]
  auto out = vals.sum(2).reshape({B, height, width});
  return batched ? out : out.squeeze(0);
}

at::Tensor ramp_filter(const at::Tensor& sinogram) {
  const int64_t n = sinogram.size(-1);
  int64_t P = 64;
  while (P < 2 * n) P *= 2;
  // Spatial Ram-Lak kernel for unit spacing: h[0] = 1/4, h[odd d] = -1/(π d)^2, h[even d] = 0,
  // laid out circularly (d = min(i, P - i)); its DFT is real and ~|frequency|.
  auto dtype = sinogram.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  auto h = at::zeros({P}, at::TensorOptions().dtype(at::kDouble));
  auto acc = h.accessor<double, 1>();
  acc[0] = 0.25;
  for (int64_t i = 1; i < P; ++i) {
    const int64_t d = std::min(i, P - i);
    if (d % 2 == 1) acc[i] = -1.0 / (kPi * kPi * static_cast<double>(d * d));
  }
  auto H = at::real(at::fft_fft(h)).to(at::TensorOptions().dtype(dtype).device(sinogram.device()));
  auto padded = at::constant_pad_nd(sinogram.to(dtype), {0, P - n});
  auto filtered = at::real(at::fft_ifft(at::fft_fft(padded) * H));
  return filtered.narrow(-1, 0, n).contiguous();
}

at::Tensor fbp(const at::Tensor& sinogram, const at::Tensor& angles_rad, int64_t size) {
  check_angles(angles_rad, "fbp");
  if (sinogram.dim() != 2 && sinogram.dim() != 3)
    throw std::runtime_error("fbp: sinogram must be [A, n_det] or [B, A, n_det]");
  const int64_t A = sinogram.size(-2), n_det = sinogram.size(-1);
  const double ds = static_cast<double>(size) / static_cast<double>(n_det);
  // Continuous FBP f = ∫_0^π (p * ramp)(x·e_θ) dθ, with dθ = π/A; the ramp for spacing ds is the
  // unit-spacing kernel / ds^2, and the convolution sum carries one ds: net factor 1/ds.
  return backproject(ramp_filter(sinogram), angles_rad, size, size) * (kPi / A / ds);
}

}  // namespace nf
