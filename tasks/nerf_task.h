#pragma once
// Novel view synthesis with mip-NeRF (+ a normalization layer) on a Blender scene.
//
// Training (mip-NeRF's recipe): every step draws `batch` rays uniformly from all pixels of all
// training frames; a coarse pass on n_coarse stratified intervals (n_coarse + 1 jittered edges), a fine
// pass on n_fine intervals resampled from the blurred coarse weights (sample_pdf), both through the
// same MipNeRF MLP and the fused volume renderer over a white background;
// loss = coarse_loss_mult * MSE(coarse) + MSE(fine). All randomness is a function of (seed, step).
//
// Rendering a whole image goes through render_chunked in chunks of `chunk` rays, without jitter. With
// batch-dependent norms (BN, GN, CN) the MLP runs in frozen mode, per-pass statistics calibrated on one
// training-size batch of rays drawn and sampled exactly as a training step draws them (see
// docs/nerf.md): any chunk size then gives the same image.
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <string>
#include <vector>

#include "datasets/blender.h"
#include "fields/mipnerf.h"
#include "render/camera.h"
#include "render/nerf_render.h"  // render_rays, render_view, NerfRays, NerfView, orbit_poses, ...
#include "render/rays.h"
#include "render/volume_render.h"
#include "tasks/task.h"
#include "tasks/trainer.h"

namespace nf {

// The rendering options (n_coarse, n_fine, chunk, resample_padding, lindisp, white_bkgd) come from
// NerfRenderOptions (render/nerf_render.h).
struct NerfOptions : NerfRenderOptions {
  std::string scene;            // scene folder (transforms_*.json)
  int downscale = 1;            // integer image downscale (area average)
  int max_train_frames = -1;    // -1: all
  int64_t batch = 4096;         // rays per step
  double coarse_loss_mult = 0.1;
  uint64_t seed = 0;
  int calib_batches = 1;        // training-size batches pooled for the frozen statistics
  std::string eval_split = "test";
  int eval_max_views = -1;      // -1: all views of eval_split
  int eval_skip = 1;            // every eval_skip-th view
  bool recalibrate = true;      // evaluate(): recalibrate even when the field has per-pass statistics
  int64_t preview_every = 0;    // > 0: every n steps, PSNR of one held-out view + preview/step_n.png (after_step)

  nlohmann::json to_json() const;
  // Keys of to_json() over `base`; with strict, unknown keys are a ConfigError naming `where` and the
  // key (strict = false reads a checkpoint's task config, which holds more).
  static NerfOptions from_json(const nlohmann::json& j, const std::string& where, NerfOptions base, bool strict);
  static NerfOptions from_json(const nlohmann::json& j, const std::string& where);  // strict, over defaults
};

// The Blender scene's camera record (the checkpoint's task config "camera": height, width, focal,
// near, far): one focal, principal point at the centre, OpenGL poses.
struct NerfCamera {
  int H = 0, W = 0;
  double focal = 0, near = 2.0, far = 6.0;
  // The pinhole camera at an OpenGL camera-to-world pose c2w [4, 4] (or [3, 4]).
  Camera at(const at::Tensor& c2w) const { return Camera::from_opengl(W, H, focal, c2w); }
  nlohmann::json to_json() const;
  static NerfCamera from_json(const nlohmann::json& j, const std::string& where);
};

// render_view(field, cam.at(c2w), cam.near, cam.far, o, device): a Blender camera at pose c2w.
NerfView render_view(MipNeRFImpl& field, const NerfCamera& cam, const at::Tensor& c2w, const NerfRenderOptions& o,
                     const c10::Device& device);
// mip-NeRF density at points x [N, 3] seen as isotropic Gaussians of standard deviation sigma
// (integrated positional encoding; sigma 0: plain positional encoding), fine pass, in the field's
// current norm mode, without grad -> [N] (tasks/nerf_mesh.cpp).
at::Tensor nerf_density(MipNeRFImpl& field, const at::Tensor& x, double sigma);
// A JSON file holding a list of 4x4 camera-to-world matrices, or a transforms-style object
// {"frames": [{"transform_matrix": ...}]} -> [F, 4, 4]. Errors name the file and entry.
at::Tensor load_pose_list(const std::filesystem::path& path);

class NerfTask : public Task {
 public:
  // Loads the training split of options.scene and precomputes all its rays and colours on `device`.
  NerfTask(NerfOptions options, const c10::Device& device);
  std::string name() const override { return "nerf"; }
  StepResult step(FieldImpl& field, int64_t step) override;
  // PSNR / SSIM (8-bit, clamped) per view of options.eval_split and their means; calibrates frozen
  // statistics first when the field has batch-dependent norms (see calibrate()).
  nlohmann::json evaluate(FieldImpl& field) override;
  // For every evaluated view k: render_kkk.png, depth_kkk.png (native size), compare_kkk.png
  // (GT | render | depth, nearest-upscaled to >= 300 px tall when smaller).
  void write_outputs(FieldImpl& field, const std::string& dir) override;
  // Every options.preview_every steps (tasks/nerf_monitor.cpp): renders the first held-out view at
  // <= ~100 px, prints its PSNR, appends it to <out>/preview/preview.jsonl and writes
  // <out>/preview/step_<n>.png (GT | render). Leaves the field exactly as it found it (buffers,
  // norm modes, train/eval), so training and checkpoints do not depend on previews.
  // Pass to fit_task as [&](FieldImpl& f, int64_t s) { task.after_step(f, s, opts); }.
  void after_step(FieldImpl& field, int64_t step, const TrainOptions& opts);
  // PSNR [dB] of the preview render of the first held-out view at `step` (also what after_step logs).
  double monitor_view(FieldImpl& field, int64_t step, const std::filesystem::path& out_dir);
  nlohmann::json config() const override;
  int64_t points_per_step() const override { return options_.batch * (options_.n_coarse + options_.n_fine + 2); }
  // rgb, depth (depth_to_image), acc from any camera (frozen statistics calibrated once per training
  // step); at a dataset camera also error (|rgb - ground truth|) and psnr_view; heldout_psnr on the
  // first view of eval_split rendered at half resolution against the area-averaged ground truth
  // (tasks/nerf_preview.cpp).
  Preview preview(FieldImpl& field, const PreviewRequest& request) override;
  // Training and eval_split cameras, the orbit of the training cameras, near/far.
  PreviewInfo preview_info() const override;
  // "Extract mesh" (tasks/nerf_mesh.cpp): density > threshold over the cube around the origin that
  // every training camera sees beyond its near plane.
  MeshInfo mesh_info() const override;
  std::optional<Mesh> extract_mesh(FieldImpl& field, const MeshRequest& request) override;

  // Per-pass frozen statistics from options.calib_batches training-size batches (drawn as training
  // step `calib_step` would draw them); a no-op without batch-dependent norms. Returns a description.
  std::string calibrate(FieldImpl& field, int64_t calib_step = -1);
  // Training batch of step `step`: ray indices [batch] (int64, on the CPU).
  at::Tensor batch_indices(int64_t step) const;
  // Both passes over the rays of step `step`, with that step's jitter, in the field's current norm
  // mode (step() = batch mode + this + the loss).
  NerfRays render_step(FieldImpl& field, int64_t step);

  const NerfCamera& camera() const { return camera_; }
  const NerfOptions& options() const { return options_; }
  NerfOptions& options() { return options_; }
  const Rays& train_rays() const { return rays_; }
  const at::Tensor& train_rgb() const { return rgb_; }
  const at::Tensor& train_poses() const { return train_poses_; }  // [F, 4, 4] camera-to-world, CPU
  double orbit_radius() const { return orbit_radius_; }
  double orbit_elevation_deg() const { return orbit_elevation_; }

 private:
  void load_eval_split();
  NerfOptions options_;
  c10::Device device_;
  NerfCamera camera_;
  int64_t train_frames_ = 0;
  at::Tensor train_poses_;  // [F, 4, 4] CPU
  std::vector<std::string> train_files_;
  int64_t preview_calib_step_ = -1;  // the training step the preview's frozen statistics belong to
  Rays rays_;      // all training rays, on device_
  at::Tensor rgb_;  // [N, 3] on device_
  double orbit_radius_ = 4.0, orbit_elevation_ = 30.0;
  // Evaluation split (loaded on first use) and the renders of the last evaluate().
  bool eval_loaded_ = false;
  BlenderSplit eval_;
  std::vector<NerfView> eval_views_;
  std::string norm_mode_;
  bool preview_log_started_ = false;  // after_step: a fresh (not resumed) run restarts preview.jsonl
};

}  // namespace nf
