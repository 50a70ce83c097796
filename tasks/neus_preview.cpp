// NeusTask's viewer hook: renders of the SDF field from any camera (rgb, normals, depth, acc), errors at
// dataset cameras, and the held-out PSNR curve's view. Cameras are nf::Camera with DTU's full
// intrinsics (fx != fy, principal point off the centre); the viewer's PreviewCamera converts at the
// boundary (tasks/preview.h).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "datasets/image_metrics.h"
#include "render/nerf_render.h"  // depth_to_image
#include "tasks/neus_task.h"

namespace nf {
namespace {

// [H, W, C] -> [h, w, C], area average (exact for integer factors).
at::Tensor resize_area(const at::Tensor& img, int64_t h, int64_t w) {
  if (img.size(0) == h && img.size(1) == w) return img;
  return at::adaptive_avg_pool2d(img.permute({2, 0, 1}).unsqueeze(0), {h, w}).squeeze(0).permute({1, 2, 0});
}

// Widest held-out preview (pixels): the PSNR curve costs one such render every heldout_every steps.
constexpr int kHeldoutWidth = 100;

}  // namespace

std::vector<int> NeusTask::preview_views() const {
  std::vector<int> v = train_views_;
  for (int k : eval_views_)
    if (std::find(v.begin(), v.end(), k) == v.end()) v.push_back(k);
  return v;
}

PreviewInfo NeusTask::preview_info() const {
  PreviewInfo info;
  info.has_camera = true;
  info.modes = {"rgb", "normals", "depth", "acc", "error"};
  // Orbit: around the origin of the normalised frame (the object lies in the unit sphere), up the mean
  // of the cameras' up axes, at their mean distance and elevation.
  double up[3] = {0, 0, 0}, radius = 0;
  const auto views = preview_views();
  std::vector<Camera> cams;
  for (int k : views) cams.push_back(camera(k));
  for (const auto& c : cams) {
    auto m = c.c2w.to(at::kDouble).contiguous();
    const double* a = m.data_ptr<double>();
    for (int i = 0; i < 3; ++i) up[i] -= a[i * 4 + 1];  // OpenCV y points down
    radius += std::sqrt(a[3] * a[3] + a[7] * a[7] + a[11] * a[11]);
  }
  const double n = std::sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]);
  if (n > 1e-9) info.up = {up[0] / n, up[1] / n, up[2] / n};
  radius /= std::max<size_t>(1, cams.size());
  double elevation = 0;
  for (const auto& c : cams) {
    auto m = c.c2w.to(at::kDouble).contiguous();
    const double* a = m.data_ptr<double>();
    const double p[3] = {a[3], a[7], a[11]}, d = std::sqrt(p[0] * p[0] + p[1] * p[1] + p[2] * p[2]);
    const double s = d > 0 ? (p[0] * info.up[0] + p[1] * info.up[1] + p[2] * info.up[2]) / d : 0.0;
    elevation += std::asin(std::clamp(s, -1.0, 1.0)) * 180.0 / 3.14159265358979323846;
  }
  info.orbit_radius = radius > 0 ? radius : 3.0;
  info.orbit_elevation_deg = elevation / std::max<size_t>(1, cams.size());
  info.near = std::max(0.0, info.orbit_radius - 1.0);
  info.far = info.orbit_radius + 1.0;
  for (size_t i = 0; i < views.size(); ++i) {
    const bool held = std::find(train_views_.begin(), train_views_.end(), views[i]) == train_views_.end();
    const auto file = std::filesystem::path(scene_.files[static_cast<size_t>(views[i])]).stem().string();
    info.cameras.push_back({(held ? "held-out/" : "train/") + file, preview_camera(cams[i])});
  }
  if (options_.holdout >= 2 && !eval_views_.empty()) {
    const int W = std::min(scene_.W, kHeldoutWidth);
    info.heldout = "held-out/" + std::filesystem::path(scene_.files[static_cast<size_t>(eval_views_[0])]).stem().string() +
                   " (" + std::to_string(W) + " px wide)";
  }
  return info;
}

Preview NeusTask::preview(FieldImpl& field, const PreviewRequest& r) {
  check_pixel_subset(r, "neus preview");
  c10::NoGradGuard no_grad;  // (the SDF gradient of the normals turns grad mode on where it needs it)
  auto& m = as_neus(field);
  m.eval();
  if (nerf_needs_frozen_stats(m)) {
    // As evaluate(): frozen statistics calibrated on training batches. While training, previews reuse
    // them for up to kPreviewCalibEvery steps; a step back (restart, checkpoint) recalibrates.
    constexpr int64_t kPreviewCalibEvery = 8;
    bool frozen = true;
    for (auto& n : m.norm_layers()) frozen = frozen && n->mode() == NormMode::Frozen;
    if (preview_calib_step_ < 0 || r.step < preview_calib_step_ || r.step - preview_calib_step_ >= kPreviewCalibEvery ||
        !frozen) {
      calibrate(m);
      preview_calib_step_ = r.step;
    }
    m.set_norm_mode(NormMode::Frozen);
  } else {
    calibrate(m);  // the batch-independent mode; no statistics to compute
  }
  auto ro = options_.render_options(1.0, false);
  if (options_.white_bkgd) ro.background = at::ones({3}, rays_o_.options());
  const auto views = preview_views();
  const double s = std::clamp(r.scale, 1e-3, 1.0);
  const int default_view = eval_views_.empty() ? views[0] : eval_views_[0];
  const Camera full = r.use_camera ? to_camera(r.camera).scaled(s) : camera(default_view).scaled(s);
  // A pixel subset (progressive previews) is exact with the subset camera: NeuS rays have no footprint.
  const Camera cam = pixel_subset(full, r.stride, r.x0, r.y0);
  auto v = neus_render_view(m, cam, ro, options_.chunk, device_);
  Preview p;
  auto rgb = v.rgb.clamp(0, 1).contiguous();
  p.images.push_back({"rgb", {rgb, "rgb"}});
  // Normals: unit, in the camera's OpenGL axes (x right, y up, z towards the viewer) as colours
  // n * 0.5 + 0.5 (facing the camera: blue), over a black background (weighted by acc).
  auto nrm = (v.normal - 0.5) * 2;
  nrm = nrm / nrm.norm(2, {2}, true).clamp_min(1e-6) * at::tensor({1.0f, -1.0f, -1.0f});
  auto acc = v.acc.clamp(0, 1);
  p.images.push_back({"normals", {((nrm * 0.5 + 0.5) * acc.unsqueeze(2)).clamp(0, 1).contiguous(), "rgb"}});
  // Depth: the distance along the ray, mapped over the unit sphere's depth range from this camera.
  auto c = cam.c2w.to(at::kDouble).to(at::kCPU);
  const double dist = c.slice(0, 0, 3).select(1, 3).norm().item<double>();
  p.images.push_back({"depth", {depth_to_image(v.depth, v.acc, std::max(0.0, dist - 1.0), dist + 1.0).contiguous(), "unit"}});
  p.images.push_back({"acc", {acc.contiguous(), "unit"}});
  // At a dataset camera: the error against its ground truth (the masked target when masks are used).
  if (r.dataset_view >= 0 && r.dataset_view < static_cast<int>(views.size())) {
    auto gt = pixel_subset(resize_area(target(views[static_cast<size_t>(r.dataset_view)]).to(at::kCPU), full.height, full.width),
                           r.stride, r.x0, r.y0);
    p.images.push_back({"error", {(rgb - gt).abs().mean(2).contiguous(), "error"}});
    p.scalars["psnr_view"] = psnr(rgb, gt);
  }
  if (r.heldout && options_.holdout >= 2 && !eval_views_.empty()) {
    const int k = eval_views_[0];
    const auto hcam = camera(k).scaled(std::min(1.0, static_cast<double>(kHeldoutWidth) / scene_.W));
    auto hv = neus_render_view(m, hcam, ro, options_.chunk, device_);
    p.scalars["heldout_psnr"] = psnr(hv.rgb.clamp(0, 1), resize_area(target(k), hcam.height, hcam.width));
  }
  return p;
}

}  // namespace nf
