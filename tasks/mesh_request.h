#pragma once
// The plain (torch-free) half of the "Extract mesh" hook (Task::mesh_info / Task::extract_mesh in
// tasks/task.h): what a task offers and what the viewer asks for. The viewer's UI includes only this.
//
//   nerf:      density > threshold over the scene box (mip-NeRF density, fine-pass statistics)
//   neus:      SDF < level (the zero level set at level 0), inside the unit sphere, world coordinates
//   occupancy: sigmoid(f) > threshold over [-1, 1]^3 (the task's normalised cube)
// Every task evaluates its field in frozen norm mode (calibrated as its evaluation calibrates), in
// slabs (render/mesh_blocks.h: bounded memory, the mesh does not depend on the block size), and
// closes the surface at the box (the outermost node layer counts as outside), so meshes are closed.
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace nf {

struct MeshInfo {
  bool available = false;          // the task can extract a mesh
  std::string quantity;            // what the threshold applies to, e.g. "density"
  double threshold = 0;            // default threshold (level)
  double threshold_min = 0, threshold_max = 1;  // a sensible UI range
  bool log_scale = false;          // the threshold spans decades (UI slider)
  std::array<double, 3> bbox_min{-1, -1, -1}, bbox_max{1, 1, 1};  // default box (world units)
};

struct MeshRequest {
  int64_t resolution = 128;       // nodes per axis, 2..1024 (the viewer offers 64..512)
  double threshold = NAN;         // NaN: MeshInfo::threshold
  int64_t block = 64;             // slab thickness / field-call block edge (memory, not the result)
  bool use_bbox = false;          // true: bbox_min / bbox_max below instead of MeshInfo's box
  std::array<double, 3> bbox_min{-1, -1, -1}, bbox_max{1, 1, 1};
  int64_t step = 0;               // the field's training step (tasks may cache calibrations per step)
  // Fraction done in (0, 1] after every slab; returning false cancels (nf::MeshCancelled is thrown).
  std::function<bool(double)> progress;

  double threshold_or(const MeshInfo& info) const { return std::isnan(threshold) ? info.threshold : threshold; }
};

// Throws one line naming the task and the setting when a request cannot be served.
inline void check_mesh_request(const MeshRequest& r, const MeshInfo& info, const std::string& task) {
  const std::string w = task + ": extract mesh: ";
  if (!info.available) throw std::runtime_error(w + "this task has no mesh");
  if (r.resolution < 2 || r.resolution > 1024)
    throw std::runtime_error(w + "resolution " + std::to_string(r.resolution) + " is not in [2, 1024]");
  if (r.block < 1) throw std::runtime_error(w + "block must be >= 1");
  if (!std::isfinite(r.threshold_or(info))) throw std::runtime_error(w + "threshold must be a finite number");
  if (r.use_bbox)
    for (int a = 0; a < 3; ++a)
      if (!(r.bbox_max[a] > r.bbox_min[a])) throw std::runtime_error(w + "the box's max must exceed its min on every axis");
}

}  // namespace nf
