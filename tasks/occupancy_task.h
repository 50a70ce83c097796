#pragma once
// 3-D occupancy (the paper's Table 3): f(x, y, z) -> logit of "inside the mesh".
//
// Data: the mesh is normalised into [-1, 1]^3 (longest side spans 2 (1 - margin)); a labelled
// point set is built once: a fraction uniform in [-1, 1]^3, the rest surface samples (area
// weighted) plus Gaussian noise, split equally over the noise levels. Labels are winding-number
// occupancy (|w| >= 0.5): exact O(N * F) sums (occupancy_labels) or the fast hierarchical
// evaluation (datasets/fast_winding.h), by option; the default is the fast one.
// Training: BCE-with-logits on `batch` points per step drawn with replacement by a generator
// seeded from (seed, step), so a resumed run repeats an uninterrupted one exactly.
// Evaluation: IoU of {sigmoid(f) > threshold} against ground-truth occupancy at the nodes of a
// resolution^3 grid over [-1, 1]^3 (the marching-cubes node convention, render/marching_cubes.h);
// ground truth by fast winding numbers at every node. The field is first calibrated on one
// training batch (of the training batch size, so CN's reference T matches training) and
// evaluated in frozen norm mode: the grid and the mesh do not depend on the evaluation block.
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <filesystem>
#include <memory>
#include <vector>

#include "datasets/fast_winding.h"
#include "datasets/mesh_io.h"
#include "render/mesh.h"
#include "tasks/task.h"
#include "tasks/trainer.h"

namespace nf {

struct OccupancyTaskOptions {
  int64_t points = 500000;               // labelled training points
  double uniform_fraction = 0.5;          // share of them uniform in [-1, 1]^3
  std::vector<double> noise = {0.01, 0.05};  // std of the near-surface Gaussian offsets
  double margin = 0.05;                   // normalize_to_cube margin
  std::string labels = "fast";           // "fast" (hierarchical winding numbers) or "exact"
  int64_t batch = 100000;                 // points per step (paper: 100k)
  uint64_t seed = 0;
  int64_t resolution = 128;               // evaluation grid (paper: 512)
  double threshold = 0.5;                 // on sigmoid(f)
  int64_t block = 64;                     // evaluation block edge (block^3 points per call)
  int64_t gt_check = 10000;               // grid nodes re-labelled with exact winding numbers to
                                          // report the ground truth's agreement (0: skip)
  nlohmann::json to_json() const;
};

class OccupancyTask : public Task {
 public:
  // mesh: as loaded (normalised here); source: file name for messages and the config.
  OccupancyTask(const Mesh& mesh, OccupancyTaskOptions options, std::string source = "",
                c10::Device device = c10::kCPU);
  std::string name() const override { return "occupancy"; }
  StepResult step(FieldImpl& field, int64_t step) override;
  // iou, resolution, threshold, norm_mode, inside fractions, timings, gt agreement.
  nlohmann::json evaluate(FieldImpl& field) override;
  // mesh.ply, mesh.obj (marching cubes of the evaluation grid at the threshold) and slices.png
  // (middle slices along x, y, z: ground truth | prediction | difference).
  void write_outputs(FieldImpl& field, const std::string& dir) override;
  nlohmann::json outputs_summary() const override;  // {"mesh": vertices, faces, Euler characteristic, boundary edges}
  void check_field(const FieldImpl& field) const override;  // R^3 -> R
  int64_t points_per_step() const override { return options_.batch; }
  nlohmann::json config() const override;
  // truth, reconstruction, error (tasks/slice_previews.cpp)
  Preview preview(FieldImpl& field, const PreviewRequest& request) override;
  // "Extract mesh" (tasks/occupancy_mesh.cpp): prepare_evaluation, then mesh_from_grid's surface
  // (sigmoid(f) > threshold, closed at the cube's border) at any resolution, in slabs.
  MeshInfo mesh_info() const override;
  std::optional<Mesh> extract_mesh(FieldImpl& field, const MeshRequest& request) override;

  // Calibrates the norm layers on the calibration batch (training batch size) and switches the
  // field to frozen mode. Returns the norm-mode description used in results.
  std::string prepare_evaluation(FieldImpl& field);
  // Logits on the resolution^3 node grid over [-1, 1]^3 (field as it is: call
  // prepare_evaluation first). -> [R, R, R] float on the CPU
  at::Tensor predict_grid(FieldImpl& field, int64_t resolution, int64_t block) const;
  // Ground-truth occupancy of the same nodes (cached per resolution). -> [R, R, R] bool, CPU
  const at::Tensor& ground_truth_grid(int64_t resolution);
  // Marching cubes of a logit grid at the sigmoid threshold (level logit(threshold)); the outermost
  // node layer counts as outside, so the mesh is always closed.
  Mesh mesh_from_grid(const at::Tensor& logits) const;

  const Mesh& mesh() const { return mesh_; }  // normalised
  const at::Tensor& points() const { return points_; }  // [N, 3] on the device
  const at::Tensor& labels() const { return labels_; }  // [N] float {0, 1} on the device
  const OccupancyTaskOptions& options() const { return options_; }
  double label_seconds() const { return label_seconds_; }
  const Mesh& last_mesh() const { return last_mesh_; }  // from the last write_outputs

 private:
  at::Tensor sample_indices(uint64_t stream) const;  // [batch] long on the device
  at::Tensor grid_cache(FieldImpl& field);            // the predicted grid, reused until a step

  Mesh mesh_;
  OccupancyTaskOptions options_;
  std::string source_;
  c10::Device device_;
  std::unique_ptr<FastWinding> fast_;
  at::Tensor points_, labels_;
  double label_seconds_ = 0;
  int64_t gt_res_ = -1;
  at::Tensor gt_;
  double gt_seconds_ = 0;
  // Predicted grid from the last evaluation, valid until the next training step.
  at::Tensor pred_;
  const FieldImpl* pred_field_ = nullptr;
  int64_t pred_res_ = -1;
  std::string norm_mode_;
  Mesh last_mesh_;
};

struct ShapeFitResult {
  nlohmann::json metrics;  // iou, ..., seconds, ms_per_iter, field, task, train
  Mesh mesh;               // the extracted mesh (empty when no outputs were written)
  std::vector<LogRecord> history;
};

// Trains, evaluates, and (when opts.out_dir is set) writes checkpoint.pt (with the calibrated
// frozen statistics), mesh.ply, mesh.obj, slices.png and results.json.
ShapeFitResult fit_shape(const Mesh& mesh, const nlohmann::json& field_config, const TrainOptions& opts,
                         const OccupancyTaskOptions& task_opts, const c10::Device& device,
                         const std::string& source);

// Rebuilds an occupancy field from a checkpoint (tasks/checkpoint.h load_field: frozen mode when
// frozen statistics exist) and extracts its mesh at sigmoid(f) = threshold over the checkpoint's
// [-1, 1]^3 grid (same closing rule as OccupancyTask::mesh_from_grid). Throws one line naming the checkpoint when it is missing, corrupt, or not an
// occupancy checkpoint, or when threshold is not in (0, 1).
Mesh occupancy_mesh_from_checkpoint(const std::filesystem::path& checkpoint, int64_t resolution, double threshold,
                                    int64_t block = 64, const c10::Device& device = c10::kCPU,
                                    std::string* norm_mode = nullptr);

}  // namespace nf
