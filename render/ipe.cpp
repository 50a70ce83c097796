// mip-NeRF integrated positional encoding (see ipe.h).
#include "render/ipe.h"

#include <cmath>
#include <stdexcept>
#include <string>

namespace nf {

namespace {
constexpr double kPi = 3.14159265358979323846;

// Reduces |x| >= 100 pi modulo 100 pi (a multiple of 2 pi, so sin/cos are unchanged).
at::Tensor reduce_arg(const at::Tensor& x) {
  const double t = 100.0 * kPi;
  return at::where(x.abs() < t, x, at::remainder(x, t));
}

// x: [..., D] -> [..., L * D], entries x_d * scale_k flattened as [k][d]; scales: [L]
at::Tensor scale_flat(const at::Tensor& x, const at::Tensor& scales) {
  auto shape = x.sizes().vec();
  shape.back() = -1;
  return (x.unsqueeze(-2) * scales.unsqueeze(-1)).reshape(shape);
}

at::Tensor octave_scales(int min_deg, int max_deg, const at::Tensor& like) {
  if (max_deg <= min_deg)
    throw std::runtime_error("positional encoding: need max_deg > min_deg (got min_deg=" +
                             std::to_string(min_deg) + ", max_deg=" + std::to_string(max_deg) + ")");
  // 2^k computed exactly in double, then cast.
  return at::pow(2.0, at::arange(min_deg, max_deg, like.options().dtype(at::kDouble)))
      .to(like.scalar_type());  // [L]
}
}  // namespace

at::Tensor safe_sin(const at::Tensor& x) { return at::sin(reduce_arg(x)); }
at::Tensor safe_cos(const at::Tensor& x) { return at::cos(reduce_arg(x)); }

Gaussians conical_frustum_to_gaussian(const at::Tensor& dirs, const at::Tensor& t0,
                                      const at::Tensor& t1, const at::Tensor& base_radius) {
  const at::Tensor mu = 0.5 * (t0 + t1);  // [N, S]
  const at::Tensor hw = 0.5 * (t1 - t0);  // [N, S]
  const at::Tensor mu2 = mu * mu, hw2 = hw * hw, hw4 = hw2 * hw2;
  const at::Tensor denom = 3.0 * mu2 + hw2;  // [N, S]
  const at::Tensor t_mean = mu + (2.0 * mu * hw2) / denom;
  const at::Tensor t_var = hw2 / 3.0 - (4.0 / 15.0) * (hw4 * (12.0 * mu2 - hw2)) / (denom * denom);
  const at::Tensor r_var =
      base_radius.pow(2) * (mu2 / 4.0 + (5.0 / 12.0) * hw2 - (4.0 / 15.0) * hw4 / denom);  // [N, S]

  // Lift to 3-D: along d with t_var, isotropic r_var in the plane perpendicular to d.
  const at::Tensor d = dirs.unsqueeze(1);                                      // [N, 1, 3]
  const at::Tensor d2 = d * d;                                                 // [N, 1, 3]
  const at::Tensor dmag2 = at::clamp_min(d2.sum(-1, true), 1e-10);             // [N, 1, 1]
  const at::Tensor null_diag = 1.0 - d2 / dmag2;                               // [N, 1, 3]
  Gaussians g;
  g.means = d * t_mean.unsqueeze(-1);                                          // [N, S, 3]
  g.cov_diag = t_var.unsqueeze(-1) * d2 + r_var.unsqueeze(-1) * null_diag;     // [N, S, 3]
  return g;
}

Gaussians cast_rays(const at::Tensor& t_vals, const Rays& rays) {
  if (t_vals.dim() != 2 || t_vals.size(0) != rays.size() || t_vals.size(1) < 2)
    throw std::runtime_error("cast_rays: t_vals must be [N, S+1] with N = " + std::to_string(rays.size()) +
                             ", got " + c10::str(t_vals.sizes()));
  Gaussians g = conical_frustum_to_gaussian(rays.directions, t_vals.slice(1, 0, -1), t_vals.slice(1, 1),
                                            rays.radii);
  g.means = g.means + rays.origins.unsqueeze(1);
  return g;
}

at::Tensor integrated_pos_enc(const at::Tensor& means, const at::Tensor& cov_diag, int min_deg, int max_deg) {
  const at::Tensor scales = octave_scales(min_deg, max_deg, means);  // [L]
  const at::Tensor y = scale_flat(means, scales);                    // [..., L*3]
  const at::Tensor y_var = scale_flat(cov_diag, scales * scales);    // [..., L*3]
  const at::Tensor damp = at::exp(-0.5 * y_var);
  // mip-NeRF evaluates cos as sin(y + pi/2); cos(y) is the same value, computed directly.
  return at::cat({safe_sin(y) * damp, safe_cos(y) * damp}, -1);
}

at::Tensor pos_enc(const at::Tensor& x, int min_deg, int max_deg, bool append_identity) {
  const at::Tensor xb = scale_flat(x, octave_scales(min_deg, max_deg, x));  // [..., L*D]
  if (append_identity) return at::cat({x, at::sin(xb), at::cos(xb)}, -1);
  return at::cat({at::sin(xb), at::cos(xb)}, -1);
}

}  // namespace nf
