// What a run's training thread renders for the UI (run_state.h): dynamic resolution and the
// progressive full-resolution view while training with a still camera.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "app/viewer/run_state.h"
#include "tasks/preview.h"

namespace nf::viewer {
namespace {

ImageBuf to_buf(const std::string& name, const PreviewImage& im) {
  ImageBuf b;
  b.name = name;
  b.kind = im.kind;
  auto c = im.pixels.to(at::kCPU, at::kFloat).contiguous();
  b.height = c.size(0);
  b.width = c.size(1);
  b.channels = c.dim() == 3 ? c.size(2) : 1;
  b.data.resize(static_cast<size_t>(c.numel()));
  std::memcpy(b.data.data(), c.data_ptr<float>(), b.data.size() * sizeof(float));
  return b;
}

struct Rendered {
  std::vector<ImageBuf> images;
  std::map<std::string, double> scalars;
  double seconds = 0;
};

// The task's preview for `view` at `scale` (a pixel subset: phase p of stride), its cost folded into
// s.cost_per_px and a held-out PSNR into s.heldout.
Rendered render(TrainingRun::State& s, const ViewRequest& view, double scale, bool heldout, int stride = 1,
                Phase p = {}) {
  PreviewRequest r;
  r.use_camera = view.use_camera && s.has_camera;
  r.camera = view.camera;
  r.dataset_view = view.dataset_view;
  r.scale = scale;
  r.heldout = heldout;
  r.step = s.step();
  r.stride = stride;
  r.x0 = p.x0;
  r.y0 = p.y0;
  const auto t0 = Clock::now();
  Preview pv = s.task->preview(*s.field, r);
  Rendered out;
  out.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  for (const auto& [name, im] : pv.images) out.images.push_back(to_buf(name, im));
  out.scalars = pv.scalars;
  auto it = pv.scalars.find("heldout_psnr");
  if (heldout && it != pv.scalars.end()) {
    s.heldout.emplace_back(s.step(), static_cast<float>(it->second));
    s.last_heldout_step = s.step();
  }
  if (!heldout && !out.images.empty()) {  // the held-out render would skew the per-pixel cost
    const double px = static_cast<double>(out.images[0].width * out.images[0].height);
    const double c = out.seconds / std::max(px, 1.0);
    s.cost_per_px = s.cost_per_px > 0 ? 0.6 * s.cost_per_px + 0.4 * c : c;
  }
  return out;
}

// Shows one whole render of the view at `scale`.
void show(TrainingRun::State& s, const ViewRequest& view, double scale, Rendered r) {
  s.images = std::move(r.images);
  s.scalars = std::move(r.scalars);
  s.view_id = view.id;
  s.view_step = s.step();
  s.view_scale = scale;
  s.view_ms = r.seconds * 1000;
  s.view_coverage = 1;
  s.view_partial = false;
}

// The resolution factor whose preview takes about budget_s seconds.
double scale_for(const TrainingRun::State& s, const ViewRequest& view, const RenderBudget& b, double budget_s) {
  if (view.camera.width <= 0 || view.camera.height <= 0) return std::min(0.25, b.max_scale);  // no camera yet
  const double W = view.camera.width, H = view.camera.height;
  const double min_scale = std::min(1.0, 8.0 / std::min(W, H));
  if (!(s.cost_per_px > 0)) return std::clamp(0.25, min_scale, b.max_scale);
  const double scale = std::sqrt(budget_s / (s.cost_per_px * W * H));
  return std::clamp(scale, min_scale, std::max(min_scale, b.max_scale));
}

// Pixels a side of the camera at scale s (as Camera::scaled).
int scaled_size(int n, double s) { return std::max(1, static_cast<int>(std::lround(s * n))); }

// Training with a still camera: the next phases of the progressive full-resolution view that fit
// budget_s (at least one, each at most once a slice). The session starts from the shown preview
// (a new view: first a low-resolution one at `scale`, shown as the session's start); its phases are
// each as costly as a preview at phase_scale.
void progressive_slice(TrainingRun::State& s, const ViewRequest& view, const RenderBudget& b, double budget_s,
                       double scale, double phase_scale, bool heldout) {
  const int W = scaled_size(view.camera.width, b.max_scale), H = scaled_size(view.camera.height, b.max_scale);
  auto& pv = s.progressive;
  const auto t0 = Clock::now();
  if (!pv.active() || pv.view_id() != view.id || pv.width() != W || pv.height() != H) {
    if (s.view_id != view.id || s.images.empty()) {  // a new camera: restart at low resolution
      show(s, view, scale, render(s, view, scale, heldout));
      pv.start(view.id, W, H, phase_stride(phase_scale, b.max_scale), s.images, s.scalars, s.view_step);
      return;  // shown as it is; the phases start with the next slice
    }
    // The shown picture of this view (e.g. the paused full render) is where the session starts.
    pv.start(view.id, W, H, phase_stride(phase_scale, b.max_scale), s.images, s.scalars, s.view_step);
  }
  std::map<std::string, double> scalars = s.scalars;
  const int phases = pv.stride() * pv.stride();
  for (int k = 0; k < phases; ++k) {
    const Phase p = pv.next();
    Rendered r = render(s, view, b.max_scale, heldout, pv.stride(), p);
    heldout = false;
    pv.put(p, r.images, r.scalars, s.step());
    scalars = std::move(r.scalars);
    const double spent = std::chrono::duration<double>(Clock::now() - t0).count();
    if (spent + s.cost_per_px * static_cast<double>(pv.phase_pixels(pv.next())) > budget_s) break;
  }
  const auto combined = pv.scalars();  // psnr_view: over the phases once each has one, else the base's
  if (combined.count("psnr_view")) scalars["psnr_view"] = combined.at("psnr_view");
  s.images = pv.images();
  s.scalars = std::move(scalars);
  s.view_id = view.id;
  s.view_step = s.step();
  s.view_scale = b.max_scale;
  s.view_ms = std::chrono::duration<double>(Clock::now() - t0).count() * 1000;
  s.view_coverage = pv.coverage();
  s.view_partial = true;
}

}  // namespace

namespace {

void render_for_slice(TrainingRun::State& s, const ViewRequest& view, const RenderBudget& b, double slice_s,
                      bool heldout) {
  if (!s.has_camera || b.fixed_scale > 0) {  // no camera, or a fixed factor (lockstep, tests)
    const double scale = s.has_camera ? b.fixed_scale : 1.0;
    s.progressive.reset();
    show(s, view, scale, render(s, view, scale, heldout));
    return;
  }
  if (slice_s > 0) {  // training: the preview's share of the time, kept over time by the credit
    const double budget_s = slice_s * (1 - b.train_share) / std::max(b.train_share, 0.02);
    const double cap = std::max(1.0, budget_s);  // unspent credit is capped (no burst after a quiet spell)
    s.preview_credit = std::min(s.preview_credit + budget_s, cap);
    const bool new_view = view.id != s.view_id || s.images.empty();
    if (!new_view && s.preview_credit <= 0) return;  // the picture stays until the training paid for more
    const auto t0 = Clock::now();
    // Spend what the slices saved up (a new view: this slice's budget, for a fast answer).
    const double spend_s = new_view ? budget_s : std::max(budget_s, s.preview_credit);
    const double scale = scale_for(s, view, b, spend_s);
    // Phases of at least a moving preview's cost: each render has a fixed cost too (e.g. the norms'
    // calibration), which tiny phases would pay over and over.
    const double phase_scale = scale_for(s, view, b, std::max(spend_s, b.frame_s));
    if (!view.moving && view.camera.width > 0 && phase_scale < b.max_scale - 1e-9) {
      progressive_slice(s, view, b, spend_s, scale, phase_scale, heldout);
    } else {
      s.progressive.reset();  // moving (cheap previews), or the budget affords the whole image
      show(s, view, scale, render(s, view, scale, heldout));
    }
    const double spent = std::chrono::duration<double>(Clock::now() - t0).count();
    s.preview_credit = std::max(s.preview_credit - spent, -cap);
    return;
  }
  double scale;
  if (view.id != s.view_id || s.view_step != s.step())  // a new view, or new weights: fast first
    scale = scale_for(s, view, b, b.frame_s);
  else if (s.view_partial)  // still and paused after a progressive view: the whole image at once
    scale = b.max_scale;
  else  // still: refine
    scale = std::min(b.max_scale, std::max(s.view_scale * 2, 0.0));
  s.progressive.reset();
  show(s, view, scale, render(s, view, scale, heldout));
}

}  // namespace

void render_for_view(TrainingRun::State& s, const ViewRequest& view, const RenderBudget& b, double slice_s,
                     bool heldout) {
  c10::NoGradGuard no_grad;
  const auto t0 = Clock::now();
  struct Account {  // the measured share counts every preview after a training slice, thrown or not
    TrainingRun::State& s;
    double slice_s;
    Clock::time_point t0;
    ~Account() {
      if (slice_s <= 0) return;
      s.train_spent_s += slice_s;
      s.preview_spent_s += std::chrono::duration<double>(Clock::now() - t0).count();
    }
  } account{s, slice_s, t0};
  render_for_slice(s, view, b, slice_s, heldout);
}

}  // namespace nf::viewer
