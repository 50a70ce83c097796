// NerfTask's "Extract mesh": the mip-NeRF density's level set over the scene box, in slabs.
//
// The density is a mip-NeRF field's response to a Gaussian, not to a point: each grid node is fed
// as an isotropic Gaussian of standard deviation half a voxel (integrated positional encoding), the
// scale the grid resolves, so the highest frequencies (which training only sees blurred by the
// pixel footprints) do not turn into noise at fine grids.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>

#include "render/ipe.h"
#include "render/mesh_blocks.h"
#include "tasks/nerf_task.h"

namespace nf {

at::Tensor nerf_density(MipNeRFImpl& field, const at::Tensor& x, double sigma) {  // x: [N, 3] -> [N]
  c10::NoGradGuard no_grad;
  const at::Tensor pts = x.to(at::kFloat);
  const at::Tensor cov = at::full_like(pts, sigma * sigma);  // [N, 3]
  const at::Tensor ipe = integrated_pos_enc(pts, cov, static_cast<int>(field.options.ipe_min_deg()),
                                            static_cast<int>(field.options.ipe_max_deg()));  // [N, ipe_dim]
  // The density head reads the trunk only: any view encoding gives the same density.
  const at::Tensor venc = at::zeros({pts.size(0), field.view_dim()}, pts.options());  // [N, view_dim]
  return field.forward_nerf(ipe, venc, NerfPass::Fine).first.reshape({-1});
}

MeshInfo NerfTask::mesh_info() const {
  // density > 10 (offered in [0.1, 1000], a log-scale slider)
  MeshInfo info{/*available=*/true, "density", 10.0, 0.1, 1000.0, /*log_scale=*/true};
  // The cube around the origin (the orbit target) that every training camera sees beyond its near
  // plane: nothing nearer to a camera was ever trained.
  const at::Tensor centres = train_poses_.slice(1, 0, 3).select(2, 3).to(at::kDouble);  // [F, 3]
  const double d = centres.size(0) > 0 ? centres.norm(2, {1}).min().item<double>() : camera_.far;
  const double h = std::max(0.1, d - camera_.near);
  info.bbox_min = {-h, -h, -h};
  info.bbox_max = {h, h, h};
  return info;
}

std::optional<Mesh> NerfTask::extract_mesh(FieldImpl& field, const MeshRequest& r) {
  const MeshInfo info = mesh_info();
  check_mesh_request(r, info, "nerf");
  c10::NoGradGuard no_grad;
  auto& m = as_mipnerf(field);
  m.eval();
  if (nerf_needs_frozen_stats(m)) {  // as the preview: statistics of this training step
    if (preview_calib_step_ != r.step || !m.has_pass_stats()) {
      calibrate(m);
      preview_calib_step_ = r.step;
    }
    m.set_norm_mode(NormMode::Frozen);
  } else {
    calibrate(m);
  }
  const auto lo3 = r.use_bbox ? r.bbox_min : info.bbox_min, hi3 = r.use_bbox ? r.bbox_max : info.bbox_max;
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(device_);
  const at::Tensor lo = at::tensor({lo3[0], lo3[1], lo3[2]}, at::kDouble).to(opt);
  const at::Tensor hi = at::tensor({hi3[0], hi3[1], hi3[2]}, at::kDouble).to(opt);
  double voxel = 0;
  for (int a = 0; a < 3; ++a) voxel = std::max(voxel, (hi3[a] - lo3[a]) / static_cast<double>(r.resolution - 1));
  const double sigma = 0.5 * voxel;
  BlockMeshOptions o;
  o.resolution = r.resolution;
  o.level = r.threshold_or(info);
  o.inside_is_greater = true;
  o.block = r.block;
  o.close_border = true;
  o.progress = r.progress;
  return extract_mesh_blockwise([&](const at::Tensor& x) { return nerf_density(m, x, sigma); }, lo, hi, o);
}

}  // namespace nf
