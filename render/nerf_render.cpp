// The mip-NeRF ray pipeline (see nerf_render.h).
#include "render/nerf_render.h"

#include <cmath>
#include <stdexcept>

#include "render/chunked.h"
#include "render/ipe.h"
#include "render/samplers.h"

namespace nf {

MipNeRFImpl& as_mipnerf(FieldImpl& field, const std::string& what) {
  auto* m = dynamic_cast<MipNeRFImpl*>(&field);
  if (!m)
    throw std::runtime_error(what + ": field type '" + field.config().value("type", std::string("?")) +
                             "' is not a mipnerf field");
  return *m;
}

bool nerf_needs_frozen_stats(FieldImpl& field) {
  for (auto& n : field.norm_layers()) {
    const auto k = n->options.kind();
    if (k == NormKind::Batch || k == NormKind::Global || k == NormKind::Cross) return true;
  }
  return false;
}

RenderOutput nerf_pass(MipNeRFImpl& field, const Rays& rays, const at::Tensor& t, const at::Tensor& venc,
                       const at::Tensor& bg, NerfPass pass) {
  const int64_t N = rays.size(), S = t.size(1) - 1;
  auto g = cast_rays(t, rays);
  auto ipe = integrated_pos_enc(g.means, g.cov_diag, static_cast<int>(field.options.ipe_min_deg()),
                                static_cast<int>(field.options.ipe_max_deg()));  // [N, S, ipe_dim]
  auto v = venc.unsqueeze(1).expand({N, S, venc.size(1)}).reshape({N * S, venc.size(1)});
  auto [density, rgb] = field.forward_nerf(ipe.reshape({N * S, ipe.size(2)}), v, pass);
  return volume_render(density.reshape({N, S}), rgb.reshape({N, S, 3}), t, rays.directions, bg);
}

NerfRays render_rays(MipNeRFImpl& field, const Rays& rays, const NerfRenderOptions& o, bool randomized,
                     at::Generator gen) {
  NerfRays r;
  const auto opt = rays.origins.options();
  const at::Tensor bg = o.white_bkgd ? at::ones({3}, opt) : at::zeros({3}, opt);
  const at::Tensor venc = pos_enc(rays.viewdirs, 0, static_cast<int>(field.options.view_max_deg()), true);
  r.t_coarse = sample_stratified(rays, o.n_coarse, randomized, gen, o.lindisp);
  r.coarse = nerf_pass(field, rays, r.t_coarse, venc, bg, NerfPass::Coarse);
  r.t_fine = sample_pdf(r.t_coarse, r.coarse.weights, o.n_fine, randomized, gen, o.resample_padding);
  r.fine = nerf_pass(field, rays, r.t_fine, venc, bg, NerfPass::Fine);
  return r;
}

NerfView render_view(MipNeRFImpl& field, const Camera& cam_in, double near, double far, const NerfRenderOptions& o,
                     const c10::Device& device) {
  Camera cam = cam_in;
  cam.c2w = cam_in.c2w.to(at::kFloat).to(device);
  auto rays = generate_rays(cam, near, far);
  auto outs = render_chunked_multi(
      [&](const Rays& rr) -> std::vector<at::Tensor> {
        auto r = render_rays(field, rr, o, /*randomized=*/false);
        return {r.fine.rgb, normalized_depth(r.fine, r.t_fine), r.fine.acc};
      },
      rays, o.chunk);
  const int H = cam.height, W = cam.width;
  NerfView v;
  v.rgb = outs[0].reshape({H, W, 3}).to(at::kCPU);
  v.depth = outs[1].reshape({H, W}).to(at::kCPU);
  v.acc = outs[2].reshape({H, W}).to(at::kCPU);
  return v;
}

at::Tensor depth_to_image(const at::Tensor& depth, const at::Tensor& acc, double near, double far) {
  return ((far - depth) / (far - near)).clamp(0, 1) * acc.clamp(0, 1);
}

at::Tensor orbit_poses(int64_t frames, double radius, double elevation_deg) {
  if (frames < 1) throw std::runtime_error("orbit: --frames must be >= 1");
  auto poses = at::zeros({frames, 4, 4}, at::kDouble);
  const double el = elevation_deg * M_PI / 180.0;
  for (int64_t k = 0; k < frames; ++k) {
    const double az = 2 * M_PI * static_cast<double>(k) / static_cast<double>(frames);
    const double p[3] = {radius * std::cos(el) * std::cos(az), radius * std::cos(el) * std::sin(az),
                         radius * std::sin(el)};
    double z[3] = {p[0] / radius, p[1] / radius, p[2] / radius};  // camera looks down -z at the origin
    double x[3] = {-z[1], z[0], 0.0};                              // up (0,0,1) x z
    const double xn = std::sqrt(x[0] * x[0] + x[1] * x[1]);
    for (double& c : x) c /= (xn > 0 ? xn : 1);
    const double y[3] = {z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]};
    auto P = poses[k];
    for (int r = 0; r < 3; ++r) {
      P[r][0] = x[r];
      P[r][1] = y[r];
      P[r][2] = z[r];
      P[r][3] = p[r];
    }
    P[3][3] = 1.0;
  }
  return poses.to(at::kFloat);
}

}  // namespace nf
