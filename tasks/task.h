#pragma once
// What the shared Trainer asks of a task (image, CT, MRI, occupancy, NeRF, ...).
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <map>
#include <optional>
#include <string>

#include "fields/field.h"
#include "render/mesh.h"
#include "tasks/mesh_request.h"
#include "tasks/preview.h"

namespace nf {

struct StepResult {
  at::Tensor loss;                         // scalar, with graph
  std::map<std::string, double> metrics;   // cheap per-step numbers to log (e.g. "psnr")
};

class Task {
 public:
  virtual ~Task() = default;
  virtual std::string name() const = 0;
  // The training signal of step `step` (0-based). Any randomness must be a function of
  // (seed, step) so that a resumed run reproduces an uninterrupted one exactly.
  virtual StepResult step(FieldImpl& field, int64_t step) = 0;
  // Final evaluation (after training); may switch the field's norm mode (and must say which in the
  // returned JSON under "norm_mode").
  virtual nlohmann::json evaluate(FieldImpl& field) = 0;
  // Throws (naming the task's source) when the field cannot serve this task, e.g. wrong in/out dims.
  virtual void check_field(const FieldImpl& field) const {}
  // Writes the task's outputs a person can open (PNG, PLY, ...) into dir.
  virtual void write_outputs(FieldImpl& field, const std::string& dir) {}
  // Facts about what the last write_outputs produced (e.g. the mesh's topology), merged into
  // results.json by fit_task; an object.
  virtual nlohmann::json outputs_summary() const { return nlohmann::json::object(); }
  // The task's own settings, stored in checkpoints and results.
  virtual nlohmann::json config() const = 0;
  // Field evaluations per training step (pixels, rays x samples, ...): fit_task's up-front memory
  // estimate (fields/memory_check.h). 0: unknown.
  virtual int64_t points_per_step() const { return 0; }
  // Viewer hook (tasks/preview.h): named images and scalars of the field as it is now, rendered
  // without grad. May leave the field in a frozen norm mode (step() sets the mode it trains in).
  virtual Preview preview(FieldImpl& field, const PreviewRequest& request) { return {}; }
  // What previews offer: a free camera and dataset cameras (3-D tasks), the held-out view.
  virtual PreviewInfo preview_info() const { return {}; }
  // Viewer hook "Extract mesh" (tasks/mesh_request.h): what the task offers (available false: no
  // mesh), and the surface of the field as it is now (world coordinates, closed, frozen norm mode),
  // std::nullopt when the task has none. May leave the field in a frozen norm mode, like preview.
  virtual MeshInfo mesh_info() const { return {}; }
  virtual std::optional<Mesh> extract_mesh(FieldImpl& field, const MeshRequest& request) { return std::nullopt; }
};

}  // namespace nf
