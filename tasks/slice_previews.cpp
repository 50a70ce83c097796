// The viewer hook of the whole-grid inverse tasks (CT, MRI) and the occupancy task: the
// reconstruction next to the ground truth (an image as it is; a volume as the middle slice along
// each axis, side by side).
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include "datasets/image_metrics.h"
#include "tasks/grid_inverse_task.h"
#include "tasks/occupancy_task.h"

namespace nf {
namespace {

// Middle slices of a volume [D, H, W] along each axis, side by side with a 2-pixel gap. -> [h, w]
at::Tensor middle_slices(const at::Tensor& v) {
  const auto D = v.size(0), H = v.size(1), W = v.size(2);
  std::vector<at::Tensor> s{v[D / 2], v.select(1, H / 2), v.select(2, W / 2)};
  int64_t h = 0, w = 0;
  for (auto& t : s) {
    h = std::max(h, t.size(0));
    w += t.size(1) + 2;
  }
  auto out = at::zeros({h, w - 2}, v.options());
  int64_t x = 0;
  for (auto& t : s) {
    out.slice(0, 0, t.size(0)).slice(1, x, x + t.size(1)).copy_(t);
    x += t.size(1) + 2;
  }
  return out.contiguous();
}

void truth_recon_error(Preview& p, const at::Tensor& truth, const at::Tensor& recon) {
  p.images.push_back({"truth", {truth.contiguous(), "unit"}});
  p.images.push_back({"reconstruction", {recon.contiguous(), "unit"}});
  p.images.push_back({"error", {(recon - truth).abs().contiguous(), "error"}});
}

}  // namespace

Preview GridInverseTask::preview(FieldImpl& field, const PreviewRequest& request) {
  c10::NoGradGuard no_grad;
  auto recon = reconstruct(field).to(at::kCPU, at::kFloat).clamp(0, 1);  // [S, S] or [D, H, W]
  auto truth = this->truth().to(at::kCPU, at::kFloat);
  auto shown = [](const at::Tensor& t) { return t.dim() == 3 ? middle_slices(t) : t; };
  Preview p;
  truth_recon_error(p, shown(truth), shown(recon));
  p.scalars["psnr"] = psnr_float(recon, truth);
  if (request.heldout) p.scalars["heldout_psnr"] = p.scalars["psnr"];
  return p;
}

Preview OccupancyTask::preview(FieldImpl& field, const PreviewRequest& request) {
  // The middle slices of the [-1, 1]^3 node grid at 64^3 (the field as it is, in its current mode).
  c10::NoGradGuard no_grad;
  const int64_t R = 64;
  auto logits = predict_grid(field, R, std::min<int64_t>(R, options_.block));  // [R, R, R]
  auto pred = at::sigmoid(logits).to(at::kFloat);
  auto truth = ground_truth_grid(R).to(at::kFloat);
  Preview p;
  truth_recon_error(p, middle_slices(truth), middle_slices(pred));
  auto inside = pred > options_.threshold;
  const double inter = (inside & truth.to(at::kBool)).sum().item<double>();
  const double uni = (inside | truth.to(at::kBool)).sum().item<double>();
  p.scalars["iou_64"] = uni > 0 ? inter / uni : 1.0;
  return p;
}

}  // namespace nf
