// OccupancyTask's "Extract mesh": mesh_from_grid's surface at any resolution, in slabs.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <cmath>

#include "render/mesh_blocks.h"
#include "tasks/occupancy_task.h"

namespace nf {

MeshInfo OccupancyTask::mesh_info() const {
  // probability > threshold (offered in [0.01, 0.99]); the box: the task's normalised cube [-1, 1]^3
  return MeshInfo{/*available=*/true, "occupancy probability", options_.threshold, 0.01, 0.99};
}

std::optional<Mesh> OccupancyTask::extract_mesh(FieldImpl& field, const MeshRequest& r) {
  const MeshInfo info = mesh_info();
  check_mesh_request(r, info, "occupancy");
  const double t = r.threshold_or(info);
  if (!(t > 0 && t < 1)) throw std::runtime_error("occupancy: extract mesh: threshold " + std::to_string(t) + " is not in (0, 1)");
  c10::NoGradGuard no_grad;
  field.eval();
  prepare_evaluation(field);  // frozen statistics of one training batch, as evaluate()
  const auto opt = at::TensorOptions().dtype(at::kFloat).device(device_);
  const at::Tensor lo = at::full({3}, -1.0, opt), hi = at::full({3}, 1.0, opt);
  BlockMeshOptions o;  // = mesh_from_grid(predict_grid(field, resolution, block))
  o.resolution = r.resolution;
  o.level = std::log(t / (1 - t));
  o.inside_is_greater = true;
  o.block = r.block;
  o.close_border = true;
  o.progress = r.progress;
  return extract_mesh_blockwise([&field](const at::Tensor& x) { return field.forward(x).select(1, 0); }, lo, hi, o);
}

}  // namespace nf
