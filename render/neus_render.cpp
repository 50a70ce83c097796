// NeuS ray rendering (see neus_render.h).
#include "render/neus_render.h"

#include <c10/core/GradMode.h>

#include "render/composite.h"
#include "render/neus_sampling.h"

namespace nf {

at::Tensor neus_sample_rays(NeuSImpl& field, const at::Tensor& rays_o, const at::Tensor& rays_d,
                            const NeusRenderOptions& o, at::Generator gen, at::Tensor* uniform_points) {
  c10::NoGradGuard ng;
  auto [near, far] = near_far_from_sphere(rays_o, rays_d);
  const bool coupled = field.batch_dependent();
  bool first = true;
  SdfFn fn = [&](const at::Tensor& p) -> at::Tensor {
    if (first && uniform_points) *uniform_points = p;
    if (!coupled) {
      first = false;
      return field.sdf(p);
    }
    if (first) {  // the uniform samples: keep their statistics for the later rounds
      first = false;
      field.keep_batch_stats(true);
      auto s = field.sdf(p);
      field.keep_batch_stats(false);
      return s;
    }
    return field.sdf_kept(p);
  };
  auto z = neus_sample_z(rays_o, rays_d, near, far, o.n_samples, o.n_importance, o.up_sample_steps, fn, o.perturb,
                         gen);
  if (uniform_points && first)  // no up-sampling: the SDF was not evaluated; the uniform z are the final z
    *uniform_points = (rays_o.unsqueeze(1) + rays_d.unsqueeze(1) * z.unsqueeze(2)).reshape({-1, 3});
  return z;
}

NeusRays neus_render_rays(NeuSImpl& field, const at::Tensor& rays_o, const at::Tensor& rays_d,
                          const NeusRenderOptions& o, bool create_graph, at::Generator gen) {
  const int64_t N = rays_o.size(0);
  const bool uniform_stats = o.uniform_stats && field.batch_dependent();
  at::Tensor upts;
  auto z = neus_sample_rays(field, rays_o, rays_d, o, gen, uniform_stats ? &upts : nullptr);
  const int64_t S = z.size(1);
  auto [dists, mid] = neus_sections(z, 2.0 / static_cast<double>(o.n_samples));
  auto pts = (rays_o.unsqueeze(1) + rays_d.unsqueeze(1) * mid.unsqueeze(2)).reshape({N * S, 3});
  auto dirs = rays_d.unsqueeze(1).expand({N, S, 3}).reshape({N * S, 3});
  NeuSImpl::SdfGrad r;
  if (uniform_stats) {
    // The uniform samples' statistics again, now with their graph to the weights (grad mode as the
    // caller's), then every final-pass point with them held fixed.
    field.keep_batch_stats(true);
    try {
      field.sdf(upts);
    } catch (...) {
      field.keep_batch_stats(false);
      throw;
    }
    field.keep_batch_stats(false);
    r = field.sdf_feature_gradient_kept(pts, create_graph);
    field.release_kept_stats();
  } else {
    r = field.sdf_feature_gradient(pts, create_graph);
  }
  auto rgb = field.color(pts, dirs, r.gradient, r.feature).reshape({N, S, 3});
  auto inv_s = field.inv_s().clamp(1e-6, 1e6);
  auto true_cos = (dirs * r.gradient).sum(1).reshape({N, S});
  auto alpha = sdf_to_alpha(r.sdf.reshape({N, S}), true_cos, dists, inv_s, o.cos_anneal_ratio);
  auto out = composite(alpha, rgb, mid, o.background);
  NeusRays res;
  res.rgb = out.rgb;
  res.acc = out.acc;
  res.depth = out.depth / out.acc.clamp_min(1e-10);
  res.normal = (out.weights.unsqueeze(2) * r.gradient.reshape({N, S, 3})).sum(1);
  auto relax = (pts.norm(2, {1}) < 1.2).to(pts.scalar_type()).detach();
  res.eikonal = ((r.gradient.norm(2, {1}) - 1).pow(2) * relax).sum() / (relax.sum() + 1e-5);
  res.points = pts.detach();
  return res;
}

NeusView neus_render_view(NeuSImpl& field, const Camera& cam, const NeusRenderOptions& o, int64_t chunk,
                          const c10::Device& device) {
  Camera c = cam;
  c.c2w = cam.c2w.to(at::kFloat).to(device);
  auto rays = generate_rays(c, 0.0, 1.0);
  auto R = c.c2w.slice(0, 0, 3).slice(1, 0, 3);  // camera -> world rotation
  NeusRenderOptions ro = o;
  ro.perturb = false;
  std::vector<at::Tensor> rgb, nrm, acc, depth;
  const int64_t N = rays.size();
  for (int64_t s = 0; s < N; s += chunk) {
    const int64_t e = std::min(N, s + chunk);
    auto r = neus_render_rays(field, rays.origins.slice(0, s, e), rays.viewdirs.slice(0, s, e), ro, false);
    c10::NoGradGuard ng;
    rgb.push_back(r.rgb.detach());
    nrm.push_back(at::matmul(r.normal.detach(), R) * 0.5 + 0.5);  // R^T n, row vectors
    acc.push_back(r.acc.detach());
    depth.push_back(r.depth.detach());
  }
  NeusView v;
  v.rgb = at::cat(rgb).reshape({cam.height, cam.width, 3}).to(at::kCPU);
  v.normal = at::cat(nrm).reshape({cam.height, cam.width, 3}).clamp(0, 1).to(at::kCPU);
  v.acc = at::cat(acc).reshape({cam.height, cam.width}).to(at::kCPU);
  v.depth = at::cat(depth).reshape({cam.height, cam.width}).to(at::kCPU);
  return v;
}

}  // namespace nf
