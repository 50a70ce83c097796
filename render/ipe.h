#pragma once
// mip-NeRF integrated positional encoding (Barron et al. 2021).
//
// A ray interval [t0, t1] with base radius r is a conical frustum: points t * d + p where p is
// perpendicular to d with |p| <= r * t and t has density proportional to t^2 (uniform in volume).
// It is approximated by a Gaussian (mean, diagonal covariance), whose expected sinusoids are
// E[sin(2^k x)] = sin(2^k mu) * exp(-0.5 * 4^k var) per coordinate.
#include <ATen/ATen.h>

#include "render/rays.h"

namespace nf {

struct Gaussians {
  at::Tensor means;     // [N, S, 3]
  at::Tensor cov_diag;  // [N, S, 3] diagonal of the covariance
};

// Frustum -> Gaussian in ray-local coordinates (apex at the origin), mip-NeRF's stable
// formulation with mu = (t0 + t1) / 2, hw = (t1 - t0) / 2:
//   t_mean = mu + 2 mu hw^2 / (3 mu^2 + hw^2)
//   t_var  = hw^2 / 3 - (4/15) hw^4 (12 mu^2 - hw^2) / (3 mu^2 + hw^2)^2
//   r_var  = r^2 (mu^2 / 4 + (5/12) hw^2 - (4/15) hw^4 / (3 mu^2 + hw^2))
//   mean = d * t_mean;  cov_diag = t_var * d^2 + r_var * (1 - d^2 / |d|^2)
// dirs: [N, 3] (unnormalised ray directions); t0, t1: [N, S]; base_radius: [N, 1]
Gaussians conical_frustum_to_gaussian(const at::Tensor& dirs, const at::Tensor& t0,
                                      const at::Tensor& t1, const at::Tensor& base_radius);

// Gaussians of all intervals of t_vals along rays, in world coordinates (means + origins).
// t_vals: [N, S + 1] interval edges -> means, cov_diag [N, S, 3]
Gaussians cast_rays(const at::Tensor& t_vals, const Rays& rays);

// Integrated positional encoding, mip-NeRF ordering (no identity term):
//   y = x * 2^k, var_y = var * 4^k for k = min_deg..max_deg-1, flattened as [k][coord];
//   out = cat(sin(y), cos(y)) * exp(-0.5 * cat(var_y, var_y)).
// means, cov_diag: [..., 3] (any leading shape, typically [N, S, 3])
// -> [..., 2 * 3 * (max_deg - min_deg)]
at::Tensor integrated_pos_enc(const at::Tensor& means, const at::Tensor& cov_diag, int min_deg = 0,
                              int max_deg = 16);

// Plain positional encoding (mip-NeRF pos_enc, used for view directions):
//   [x (if append_identity), sin(x 2^k)..., cos(x 2^k)...] with the [k][coord] flattening above.
// x: [..., D] -> [..., D * append_identity + 2 * D * (max_deg - min_deg)]
at::Tensor pos_enc(const at::Tensor& x, int min_deg = 0, int max_deg = 4, bool append_identity = true);

// Output widths of the encodings above.
inline int64_t ipe_dim(int min_deg = 0, int max_deg = 16) { return 2 * 3 * (max_deg - min_deg); }
inline int64_t pos_enc_dim(int64_t D, int min_deg = 0, int max_deg = 4, bool append_identity = true) {
  return (append_identity ? D : 0) + 2 * D * (max_deg - min_deg);
}

// sin / cos with the argument reduced modulo 100 pi when |x| >= 100 pi (mip-NeRF safe_sin),
// keeping float32 accuracy at the highest frequencies.
at::Tensor safe_sin(const at::Tensor& x);
at::Tensor safe_cos(const at::Tensor& x);

}  // namespace nf
