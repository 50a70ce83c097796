#pragma once
// Surface reconstruction with NeuS (+ a normalization layer) on a DTU-style scene (datasets/dtu.h:
// image/, mask/, cameras_sphere.npz).
//
// Training (the reference's wmask recipe): every step draws `batch` rays uniformly from all pixels of
// the training views (every `holdout`-th view is held out for evaluation); rendering as
// render/neus_render.h (64 uniform samples + 4 x 16 up-sampled in the full config); loss
//   L1(colour, masked, / mask sum) + igr_weight * eikonal + mask_weight * BCE(acc, mask),
// black background; cos_anneal_ratio = min(1, step / anneal_end) (anneal_end 0: 1 from the start).
// All randomness is a function of (seed, step).
//
// Evaluation: with batch-dependent norms the SDF network runs in frozen mode, its statistics
// calibrated on the samples that define the training field (norm_stats: the final pass's, or the
// uniform samples') of `calib_batches` training-size batches (drawn as a training step draws them); then PSNR / SSIM of the held-out views (against the image with the background
// set to black where the mask is 0, when masks are used), normal maps, and the mesh: marching cubes
// of the SDF on a resolution^3 grid over [-1, 1]^3 (frozen mode: independent of the blocking), level
// 0, inside < 0, mapped to world coordinates by the scene's scale matrix. Chamfer against a ground
// truth (the scene's gt_mesh.* from make-scene, or options.gt) when one is known.
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "datasets/dtu.h"
#include "fields/neus.h"
#include "render/mesh.h"
#include "render/neus_render.h"
#include "tasks/task.h"

namespace nf {

struct NeusOptions {
  std::string scene;
  int downscale = 1;
  int64_t batch = 512;          // rays per step
  int64_t n_samples = 64;
  int64_t n_importance = 64;
  int64_t up_sample_steps = 4;
  bool perturb = true;
  double igr_weight = 0.1;
  double mask_weight = 0.1;     // 0: masks unused (womask, then use_white_bkgd decides the background)
  int64_t anneal_end = 0;
  bool white_bkgd = false;
  uint64_t seed = 0;
  int holdout = 8;              // views k with k % holdout == holdout / 2 are held out (0: none; then
                                // the evaluation renders the first eval_max_views training views)
  int eval_max_views = -1;      // -1: all held-out views
  int64_t chunk = 1024;         // rays per chunk when rendering images
  int calib_batches = 1;
  // Batch-dependent norms: which samples' statistics define a training step's field (and so the
  // frozen statistics): "uniform" (the uniform samples', used by every pass of the step: the
  // up-sampling and the final pass see one field) or "final" (the up-sampling uses the uniform
  // samples', the final pass its own samples': two fields per step; the default until 2026-11-30).
  // See docs/results-neus.md ("Defaults for the norms").
  std::string norm_stats = "uniform";
  int64_t mesh_resolution = 256;
  int64_t mesh_block = 64;
  std::string gt;               // ground-truth mesh / points for chamfer ("": the scene's gt_mesh.*)
  int64_t chamfer_points = 100000;  // surface samples on the predicted mesh (the GT at the same density)
  double chamfer_max_dist = -1;     // distance cap (world units; DTU uses 20 mm); < 0: 5% of the GT
                                    // bounding-box diagonal

  nlohmann::json to_json() const;
  static NeusOptions from_json(const nlohmann::json& j, const std::string& where, NeusOptions base, bool strict);
  NeusRenderOptions render_options(double cos_anneal_ratio, bool perturb) const;
};

// The NeuS field behind a Field; throws "<what>: field type 'x' is not a neus field" otherwise.
NeuSImpl& as_neus(FieldImpl& field, const std::string& what = "neus");

// Mesh of the SDF's zero level set (inside < 0) on [-1, 1]^3 at resolution^3 nodes, in blocks of
// block^3 points, then mapped by scale_mat [4, 4] (normalised -> world; undefined: identity). The
// solid is cut by the unit sphere (marching cubes of max(sdf, |x| - 1)), where the scene lives, so
// the mesh is closed.
// Use frozen mode (or no batch-dependent norm): then the mesh does not depend on `block`. Memory: slabs
// of block node layers (render/mesh_blocks.h); progress as BlockMeshOptions::progress.
Mesh neus_mesh(NeuSImpl& field, int64_t resolution, int64_t block, const at::Tensor& scale_mat,
               const c10::Device& device, double level = 0.0,
               const std::function<bool(double)>& progress = {});
// neus_mesh of a checkpoint written by the neus task (its scale matrix from the task config); frozen
// statistics from the checkpoint when it has them. norm_mode (optional) says which. colors: also the
// vertex colours (neus_vertex_colors).
Mesh neus_mesh_from_checkpoint(const std::filesystem::path& checkpoint, int64_t resolution, double level,
                               int64_t block, const c10::Device& device, std::string* norm_mode = nullptr,
                               bool colors = false);

// Vertex colours from the colour network: at each vertex (world frame; mapped to the field's frame by
// the inverse of scale_mat [4, 4], undefined: identity) the normal n = grad sdf / |grad sdf|, the view
// direction -n (looking straight at the surface) and the SDF network's feature give rgb in [0, 1].
// Evaluated in chunks of `chunk` vertices. vertices: [V, 3] -> [V, 3] float on the CPU.
at::Tensor neus_vertex_colors(NeuSImpl& field, const at::Tensor& vertices, const at::Tensor& scale_mat,
                              const c10::Device& device, int64_t chunk = 8192);

// Chamfer distance (world units) of a mesh against a ground truth `gt` (a mesh file, sampled at the
// density that gives the predicted mesh n_points samples, or a PLY point cloud): mean distances both
// ways capped at max_dist (< 0: 5% of the GT's bounding-box diagonal) ->
// {accuracy, completeness, overall, max_dist, bbox_diagonal, overall_pct_diagonal, gt, n_pred, n_gt}.
nlohmann::json mesh_chamfer(const Mesh& mesh, const std::string& gt, int64_t n_points, double max_dist);

class NeusTask : public Task {
 public:
  NeusTask(NeusOptions options, const c10::Device& device);
  std::string name() const override { return "neus"; }
  StepResult step(FieldImpl& field, int64_t step) override;
  nlohmann::json evaluate(FieldImpl& field) override;
  void check_field(const FieldImpl& field) const override;
  // "Extract mesh" (tasks/neus_mesh.cpp): calibrate, then neus_mesh at level = threshold (world units).
  MeshInfo mesh_info() const override;
  std::optional<Mesh> extract_mesh(FieldImpl& field, const MeshRequest& request) override;
  // mesh.ply (world), render_kkk.png, normal_kkk.png, compare_kkk.png (GT | render | normals).
  void write_outputs(FieldImpl& field, const std::string& dir) override;
  nlohmann::json outputs_summary() const override { return outputs_; }
  nlohmann::json config() const override;
  // Viewer hook (tasks/neus_preview.cpp): rgb, normals, depth, acc from any camera (full intrinsics);
  // error and psnr_view at a dataset camera (training views first, then the held-out ones); the held-out
  // PSNR on the first held-out view at <= 100 pixels wide. Frozen statistics as evaluate() calibrates
  // them, reused for up to 8 training steps.
  Preview preview(FieldImpl& field, const PreviewRequest& request) override;
  PreviewInfo preview_info() const override;

  // Frozen statistics from calib_batches training-size batches (the final pass's samples); a no-op
  // without batch-dependent norms. Returns a description (results.json "norm_mode").
  std::string calibrate(FieldImpl& field);
  at::Tensor batch_indices(int64_t step) const;  // [batch] int64 on the CPU
  const NeusOptions& options() const { return options_; }
  const DtuScene& scene() const { return scene_; }
  const std::vector<int>& train_views() const { return train_views_; }
  const std::vector<int>& eval_views() const { return eval_views_; }

 private:
  NeusOptions options_;
  c10::Device device_;
  DtuScene scene_;
  std::vector<int> train_views_, eval_views_;  // indices into scene_
  at::Tensor rays_o_, rays_d_, rgb_, mask_;     // training pixels [P, 3], [P, 3], [P, 3], [P] on device
  std::string norm_mode_;
  struct Rendered {
    NeusView view;
    at::Tensor target;  // [H, W, 3]
    std::string name;
  };
  std::vector<Rendered> rendered_;
  bool evaluated_ = false;
  nlohmann::json outputs_ = nlohmann::json::object();
  Camera camera(int k) const;  // camera of scene view k
  std::vector<int> preview_views() const;  // scene view of each PreviewInfo camera
  at::Tensor target(int k) const;          // [H, W, 3] ground truth of scene view k (as evaluate() scores it)
  int64_t preview_calib_step_ = -1;        // step of the statistics previews use
};

}  // namespace nf
