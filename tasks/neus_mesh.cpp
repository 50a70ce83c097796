// NeusTask's "Extract mesh": neus_mesh (the SDF's level set cut by the unit sphere, world
// coordinates) in frozen mode.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>

#include "tasks/neus_task.h"

namespace nf {

MeshInfo NeusTask::mesh_info() const {
  MeshInfo info{/*available=*/true, "SDF level", 0.0, -0.1, 0.1};  // the zero level set (offered in [-0.1, 0.1])
  // The world box of the normalised cube [-1, 1]^3 (scale_mat: normalised -> world).
  if (scene_.scale_mat.defined()) {
    const at::Tensor S = scene_.scale_mat.to(at::kCPU, at::kDouble);
    for (int a = 0; a < 3; ++a) {
      const double c = S[a][3].item<double>();
      double h = 0;
      for (int b = 0; b < 3; ++b) h += std::abs(S[a][b].item<double>());
      info.bbox_min[static_cast<size_t>(a)] = c - h;
      info.bbox_max[static_cast<size_t>(a)] = c + h;
    }
  }
  return info;
}

std::optional<Mesh> NeusTask::extract_mesh(FieldImpl& field, const MeshRequest& r) {
  const MeshInfo info = mesh_info();
  check_mesh_request(r, info, "neus");
  c10::NoGradGuard no_grad;
  auto& m = as_neus(field);
  m.eval();
  calibrate(m);  // frozen statistics, as evaluate()
  return neus_mesh(m, r.resolution, r.block, scene_.scale_mat, device_, r.threshold_or(info), r.progress);
}

}  // namespace nf
