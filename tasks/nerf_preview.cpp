// NerfTask's viewer hook: renders of the field from any camera, errors at dataset cameras, and the
// held-out PSNR curve's view.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>
#include <filesystem>

#include "datasets/image_metrics.h"
#include "render/chunked.h"
#include "render/volume_render.h"
#include "tasks/nerf_task.h"

namespace nf {
namespace {

PreviewCamera preview_camera(const NerfCamera& cam, const at::Tensor& c2w) {  // c2w: [4, 4] OpenGL axes
  return nf::preview_camera(cam.at(c2w));
}

// [H, W, 3] -> [h, w, 3], area average (exact for integer factors).
at::Tensor resize_area(const at::Tensor& img, int64_t h, int64_t w) {
  if (img.size(0) == h && img.size(1) == w) return img;
  return at::adaptive_avg_pool2d(img.permute({2, 0, 1}).unsqueeze(0), {h, w}).squeeze(0).permute({1, 2, 0});
}

// The pixels (x0 + stride i, y0 + stride j) of cam's render (PreviewRequest's subset): the rays of the
// whole render at those pixels (generate_rays_at: the full-resolution mip-NeRF cone radii, not the
// subset camera's stride times wider ones), so each pixel equals the whole render's.
NerfView render_pixels(MipNeRFImpl& m, const Camera& cam_in, int stride, int x0, int y0, double near, double far,
                       const NerfRenderOptions& o, const c10::Device& device) {
  if (stride == 1 && x0 == 0 && y0 == 0) return render_view(m, cam_in, near, far, o, device);
  const Camera sub = pixel_subset(cam_in, stride, x0, y0);
  Camera cam = cam_in;
  cam.c2w = cam_in.c2w.to(at::kFloat).to(device);
  const auto opt = at::TensorOptions().dtype(at::kDouble);
  const auto cols = (at::arange(sub.width, opt) * stride + x0).unsqueeze(0).expand({sub.height, sub.width});
  const auto rows = (at::arange(sub.height, opt) * stride + y0).unsqueeze(1).expand({sub.height, sub.width});
  const auto pix = at::stack({cols, rows}, -1).reshape({-1, 2}).to(device);  // [h * w, 2] (column, row)
  auto rays = generate_rays_at(cam, pix, near, far);
  auto outs = render_chunked_multi(
      [&](const Rays& rr) -> std::vector<at::Tensor> {
        auto r = render_rays(m, rr, o, /*randomized=*/false);
        return {r.fine.rgb, normalized_depth(r.fine, r.t_fine), r.fine.acc};
      },
      rays, o.chunk);
  NerfView v;
  v.rgb = outs[0].reshape({sub.height, sub.width, 3}).to(at::kCPU);
  v.depth = outs[1].reshape({sub.height, sub.width}).to(at::kCPU);
  v.acc = outs[2].reshape({sub.height, sub.width}).to(at::kCPU);
  return v;
}

std::string stem(const std::string& file) {
  const std::filesystem::path p(file);
  return (p.parent_path().filename() / p.stem()).string();
}

}  // namespace

PreviewInfo NerfTask::preview_info() const {
  PreviewInfo info;
  info.has_camera = true;
  for (int64_t k = 0; k < train_poses_.size(0); ++k)
    info.cameras.push_back({stem(train_files_[static_cast<size_t>(k)]), preview_camera(camera_, train_poses_[k])});
  auto* self = const_cast<NerfTask*>(this);  // the eval split is loaded on first use (a cache)
  self->load_eval_split();
  for (int64_t k = 0; k < eval_.poses.size(0); ++k)
    info.cameras.push_back({stem(eval_.files[static_cast<size_t>(k)]), preview_camera(camera_, eval_.poses[k])});
  info.orbit_radius = orbit_radius_;
  info.orbit_elevation_deg = orbit_elevation_;
  info.near = camera_.near;
  info.far = camera_.far;
  if (eval_.poses.size(0) > 0) info.heldout = stem(eval_.files[0]) + " (half resolution)";
  info.modes = {"rgb", "depth", "acc", "error"};
  return info;
}

Preview NerfTask::preview(FieldImpl& field, const PreviewRequest& r) {
  check_pixel_subset(r, "nerf preview");
  c10::NoGradGuard no_grad;
  auto& m = as_mipnerf(field);
  m.eval();
  if (nerf_needs_frozen_stats(m)) {
    // Calibration costs about a training step's forward pass: while training, previews reuse
    // statistics up to kPreviewCalibEvery steps old (fine for a preview); a step back (restart,
    // checkpoint) always recalibrates.
    constexpr int64_t kPreviewCalibEvery = 8;
    if (preview_calib_step_ < 0 || r.step < preview_calib_step_ || r.step - preview_calib_step_ >= kPreviewCalibEvery ||
        !m.has_pass_stats()) {
      calibrate(m);
      preview_calib_step_ = r.step;
    }
    m.set_norm_mode(NormMode::Frozen);
  } else {
    calibrate(m);  // sets the batch-independent mode; no statistics to compute
  }
  Preview p;
  const double s = std::clamp(r.scale, 1e-3, 1.0);
  const Camera cam = r.use_camera ? to_camera(r.camera).scaled(s) : camera_.at(train_poses_[0]).scaled(s);
  auto v = render_pixels(m, cam, r.stride, r.x0, r.y0, camera_.near, camera_.far, options_, device_);
  auto rgb = v.rgb.clamp(0, 1).contiguous();
  p.images.push_back({"rgb", {rgb, "rgb"}});
  p.images.push_back({"depth", {depth_to_image(v.depth, v.acc, camera_.near, camera_.far).contiguous(), "unit"}});
  p.images.push_back({"acc", {v.acc.clamp(0, 1).contiguous(), "unit"}});
  // At a dataset camera: the error against its ground truth (train views first, then eval_split).
  if (r.dataset_view >= 0) {
    at::Tensor gt;
    const int64_t F = train_poses_.size(0);
    if (r.dataset_view < F) {
      const int64_t n = static_cast<int64_t>(camera_.H) * camera_.W;
      gt = rgb_.slice(0, r.dataset_view * n, (r.dataset_view + 1) * n).reshape({camera_.H, camera_.W, 3});
    } else {
      load_eval_split();
      if (r.dataset_view - F < eval_.images.size(0)) gt = eval_.images[r.dataset_view - F];
    }
    if (gt.defined()) {
      gt = pixel_subset(resize_area(gt.to(at::kCPU, at::kFloat), cam.height, cam.width), r.stride, r.x0, r.y0);
      p.images.push_back({"error", {(rgb - gt).abs().mean(2).contiguous(), "error"}});
      p.scalars["psnr_view"] = psnr(rgb, gt);
    }
  }
  if (r.heldout) {
    load_eval_split();
    if (eval_.images.size(0) > 0) {
      const auto hcam = camera_.at(eval_.poses[0]).scaled(0.5);
      auto hv = render_view(m, hcam, camera_.near, camera_.far, options_, device_);
      p.scalars["heldout_psnr"] = psnr(hv.rgb.clamp(0, 1), resize_area(eval_.images[0], hcam.height, hcam.width));
    }
  }
  return p;
}

}  // namespace nf
