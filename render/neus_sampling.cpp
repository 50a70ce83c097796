// NeuS sampling along rays (see neus_sampling.h).
#include "render/neus_sampling.h"

#include <c10/core/GradMode.h>

#include <stdexcept>
#include <string>

namespace nf {

namespace {

void check_rays(const char* fn, const at::Tensor& o, const at::Tensor& d) {
  if (!o.defined() || !d.defined() || o.dim() != 2 || o.size(1) != 3 || d.sizes() != o.sizes())
    throw std::runtime_error(std::string(fn) + ": rays_o and rays_d must both be [N, 3], got " +
                             (o.defined() ? c10::str(o.sizes()) : "undefined") + " and " +
                             (d.defined() ? c10::str(d.sizes()) : "undefined"));
}

void check_2d(const char* fn, const char* name, const at::Tensor& x, int64_t N, int64_t S) {
  if (!x.defined() || x.dim() != 2 || x.size(0) != N || (S >= 0 && x.size(1) != S))
    throw std::runtime_error(std::string(fn) + ": " + name + " must be [" + std::to_string(N) + ", " +
                             (S >= 0 ? std::to_string(S) : std::string("S")) + "], got " +
                             (x.defined() ? c10::str(x.sizes()) : std::string("undefined")));
}

}  // namespace

std::pair<at::Tensor, at::Tensor> near_far_from_sphere(const at::Tensor& rays_o, const at::Tensor& rays_d,
                                                       double radius) {
  check_rays("near_far_from_sphere", rays_o, rays_d);
  const at::Tensor a = (rays_d * rays_d).sum(-1, true);       // [N, 1]
  const at::Tensor mid = -(rays_o * rays_d).sum(-1, true) / a;  // [N, 1]
  const at::Tensor half = radius / a.sqrt();                    // [N, 1]
  return {mid - half, mid + half};
}

at::Tensor neus_uniform_z(const at::Tensor& near, const at::Tensor& far, int64_t n_samples, bool perturb,
                          at::Generator gen) {
  if (n_samples < 1) throw std::runtime_error("neus_uniform_z: n_samples must be >= 1");
  check_2d("neus_uniform_z", "near", near, near.defined() ? near.size(0) : 0, 1);
  check_2d("neus_uniform_z", "far", far, near.size(0), 1);
  const at::Tensor s = at::linspace(0.0, 1.0, n_samples, near.options()).unsqueeze(0);  // [1, n]
  at::Tensor z = near + (far - near) * s;                                                // [N, n]
  if (perturb) z = z + (at::rand({near.size(0), 1}, gen, near.options()) - 0.5) * (far - near) / double(n_samples);
  return z;
}

at::Tensor neus_sample_pdf(const at::Tensor& bins_in, const at::Tensor& weights_in, int64_t n, bool det,
                           at::Generator gen) {
  if (n < 1) throw std::runtime_error("neus_sample_pdf: n must be >= 1");
  if (!bins_in.defined() || bins_in.dim() != 2 || bins_in.size(1) < 2)
    throw std::runtime_error("neus_sample_pdf: bins must be [N, S] with S >= 2");
  check_2d("neus_sample_pdf", "weights", weights_in, bins_in.size(0), bins_in.size(1) - 1);
  const at::Tensor bins = bins_in.detach().contiguous();
  const at::Tensor w = weights_in.detach().to(bins.scalar_type()) + 1e-5;  // prevent NaNs
  const int64_t N = bins.size(0);
  const at::Tensor pdf = w / w.sum(-1, true);
  const at::Tensor cdf = at::cat({at::zeros({N, 1}, pdf.options()), at::cumsum(pdf, -1)}, -1).contiguous();  // [N, S]
  at::Tensor u;  // [N, n]
  if (det)
    u = at::linspace(0.5 / n, 1.0 - 0.5 / n, n, cdf.options()).unsqueeze(0).expand({N, n}).contiguous();
  else
    u = at::rand({N, n}, gen, cdf.options());
  const at::Tensor inds = at::searchsorted(cdf, u, /*out_int32=*/false, /*right=*/true);
  const at::Tensor below = (inds - 1).clamp_min(0), above = inds.clamp_max(cdf.size(1) - 1);
  const at::Tensor c0 = cdf.gather(1, below), c1 = cdf.gather(1, above);
  const at::Tensor b0 = bins.gather(1, below), b1 = bins.gather(1, above);
  at::Tensor denom = c1 - c0;
  denom = at::where(denom < 1e-5, at::ones_like(denom), denom);
  return b0 + (u - c0) / denom * (b1 - b0);
}

at::Tensor up_sample(const at::Tensor& rays_o_in, const at::Tensor& rays_d_in, const at::Tensor& z_in,
                     const at::Tensor& sdf_in, int64_t n_importance, double inv_s) {
  check_rays("up_sample", rays_o_in, rays_d_in);
  const int64_t N = rays_o_in.size(0);
  check_2d("up_sample", "z_vals", z_in, N, -1);
  const int64_t S = z_in.size(1);
  if (S < 2) throw std::runtime_error("up_sample: need at least 2 samples per ray");
  check_2d("up_sample", "sdf", sdf_in, N, S);
  c10::NoGradGuard no_grad;
  const at::Tensor o = rays_o_in.detach(), d = rays_d_in.detach(), z = z_in.detach(), sdf = sdf_in.detach();
  const at::Tensor pts = o.unsqueeze(1) + d.unsqueeze(1) * z.unsqueeze(-1);         // [N, S, 3]
  const at::Tensor radius = pts.norm(2, -1);                                        // [N, S]
  const at::Tensor inside = (radius.slice(1, 0, -1) < 1.0).logical_or(radius.slice(1, 1) < 1.0);  // [N, S-1]
  const at::Tensor prev_sdf = sdf.slice(1, 0, -1), next_sdf = sdf.slice(1, 1);      // [N, S-1]
  const at::Tensor dz = z.slice(1, 1) - z.slice(1, 0, -1);                          // [N, S-1]
  const at::Tensor mid_sdf = 0.5 * (prev_sdf + next_sdf);
  at::Tensor cos = (next_sdf - prev_sdf) / (dz + 1e-5);
  const at::Tensor prev_cos = at::cat({at::zeros({N, 1}, cos.options()), cos.slice(1, 0, -1)}, 1);
  cos = at::minimum(prev_cos, cos).clamp(-1e3, 0.0) * inside.to(cos.scalar_type());
  const at::Tensor prev_est = mid_sdf - cos * dz * 0.5, next_est = mid_sdf + cos * dz * 0.5;
  const at::Tensor prev_cdf = at::sigmoid(prev_est * inv_s), next_cdf = at::sigmoid(next_est * inv_s);
  const at::Tensor alpha = (prev_cdf - next_cdf + 1e-5) / (prev_cdf + 1e-5);        // [N, S-1]
  const at::Tensor trans = at::cat({at::ones({N, 1}, alpha.options()),
                                    at::cumprod(1.0 - alpha + 1e-7, 1).slice(1, 0, -1)}, 1);
  return neus_sample_pdf(z, alpha * trans, n_importance, /*det=*/true);
}

std::pair<at::Tensor, at::Tensor> cat_z_vals(const at::Tensor& z_vals, const at::Tensor& new_z, const at::Tensor& sdf,
                                             const at::Tensor& new_sdf) {
  check_2d("cat_z_vals", "z_vals", z_vals, z_vals.defined() ? z_vals.size(0) : 0, -1);
  check_2d("cat_z_vals", "new_z", new_z, z_vals.size(0), -1);
  auto [z, index] = at::sort(at::cat({z_vals, new_z}, 1), 1);
  if (!sdf.defined() || !new_sdf.defined()) return {z, at::Tensor()};
  check_2d("cat_z_vals", "sdf", sdf, z_vals.size(0), z_vals.size(1));
  check_2d("cat_z_vals", "new_sdf", new_sdf, z_vals.size(0), new_z.size(1));
  return {z, at::cat({sdf, new_sdf}, 1).gather(1, index)};
}

at::Tensor neus_sample_z(const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& near,
                         const at::Tensor& far, int64_t n_samples, int64_t n_importance, int64_t up_sample_steps,
                         const SdfFn& sdf_fn, bool perturb, at::Generator gen) {
  check_rays("neus_sample_z", rays_o, rays_d);
  if (n_importance < 0 || up_sample_steps < 0 || (n_importance > 0 && (up_sample_steps < 1 || n_importance % up_sample_steps != 0)))
    throw std::runtime_error("neus_sample_z: n_importance (" + std::to_string(n_importance) +
                             ") must be a multiple of up_sample_steps (" + std::to_string(up_sample_steps) + ")");
  c10::NoGradGuard no_grad;
  const int64_t N = rays_o.size(0);
  at::Tensor z = neus_uniform_z(near, far, n_samples, perturb, gen);
  if (n_importance == 0) return z;
  auto sdf_at = [&](const at::Tensor& zz) {
    const at::Tensor pts = rays_o.unsqueeze(1) + rays_d.unsqueeze(1) * zz.unsqueeze(-1);  // [N, M, 3]
    return sdf_fn(pts.reshape({-1, 3})).reshape({N, zz.size(1)}).to(z.scalar_type());
  };
  at::Tensor sdf = sdf_at(z);
  for (int64_t i = 0; i < up_sample_steps; ++i) {
    const at::Tensor nz = up_sample(rays_o, rays_d, z, sdf, n_importance / up_sample_steps, 64.0 * double(1LL << i));
    const bool last = i + 1 == up_sample_steps;
    std::tie(z, sdf) = cat_z_vals(z, nz, sdf, last ? at::Tensor() : sdf_at(nz));
  }
  return z;
}

std::pair<at::Tensor, at::Tensor> neus_sections(const at::Tensor& z, double sample_dist) {
  check_2d("neus_sections", "z_vals", z, z.defined() ? z.size(0) : 0, -1);
  const at::Tensor dists = at::cat({z.slice(1, 1) - z.slice(1, 0, -1), at::full({z.size(0), 1}, sample_dist, z.options())}, 1);
  return {dists, z + 0.5 * dists};
}

at::Tensor sdf_to_alpha(const at::Tensor& sdf, const at::Tensor& true_cos, const at::Tensor& dists,
                        const at::Tensor& inv_s, double cos_anneal_ratio) {
  check_2d("sdf_to_alpha", "sdf", sdf, sdf.defined() ? sdf.size(0) : 0, -1);
  check_2d("sdf_to_alpha", "true_cos", true_cos, sdf.size(0), sdf.size(1));
  check_2d("sdf_to_alpha", "dists", dists, sdf.size(0), sdf.size(1));
  if (!inv_s.defined()) throw std::runtime_error("sdf_to_alpha: inv_s is undefined");
  const double r = cos_anneal_ratio;
  const at::Tensor iter_cos = -(at::relu(-true_cos * 0.5 + 0.5) * (1.0 - r) + at::relu(-true_cos) * r);  // <= 0
  const at::Tensor prev = sdf - iter_cos * dists * 0.5, next = sdf + iter_cos * dists * 0.5;
  const at::Tensor prev_cdf = at::sigmoid(prev * inv_s), next_cdf = at::sigmoid(next * inv_s);
  return ((prev_cdf - next_cdf + 1e-5) / (prev_cdf + 1e-5)).clamp(0.0, 1.0);
}

}  // namespace nf
