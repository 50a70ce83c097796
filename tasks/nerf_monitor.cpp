// NerfTask's periodic monitoring during training: PSNR of one held-out view at preview resolution
// and a small GT | render image, every options.preview_every steps (called from fit_task through
// the Trainer's on_step hook). Cost: one view of <= ~100 px, e.g. 2,500 rays for a 100 px scene at
// scale 2 — a few training steps' worth.
#include <c10/core/GradMode.h>

#include <cstdio>
#include <fstream>
#include <map>

#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "datasets/image_metrics.h"
#include "tasks/nerf_task.h"
#include "tasks/progress.h"
#include "tasks/trainer.h"

namespace nf {

namespace {
std::string preview_name(int64_t step) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "step_%06lld.png", static_cast<long long>(step));
  return buf;
}
}  // namespace

void NerfTask::after_step(FieldImpl& field, int64_t step, const TrainOptions& opts) {
  if (options_.preview_every <= 0 || step % options_.preview_every != 0 || step >= opts.iters) return;
  if (!preview_log_started_ && !opts.resume && !opts.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::remove(opts.out_dir / "preview" / "preview.jsonl", ec);
  }
  preview_log_started_ = true;
  double p = 0;
  try {
    p = monitor_view(field, step, opts.out_dir);
  } catch (const std::exception& e) {  // monitoring must never end a long run
    std::fprintf(stderr, "warning: preview at step %lld failed: %s\n", static_cast<long long>(step), e.what());
    return;
  }
  if (!opts.progress) return;
  const std::string view = eval_.files.empty() ? "?" : std::filesystem::path(eval_.files[0]).stem().string();
  const std::string png = opts.out_dir.empty() ? "" : " -> " + (opts.out_dir / "preview" / preview_name(step)).string();
  if (stdout_is_terminal()) std::printf("\n");  // below the redrawn progress bar
  std::printf("%s step %lld: held-out %s PSNR %.2f dB (preview resolution)%s\n", opts.label.c_str(),
              static_cast<long long>(step), view.c_str(), p, png.c_str());
  std::fflush(stdout);
}

double NerfTask::monitor_view(FieldImpl& field, int64_t step, const std::filesystem::path& out_dir) {
  auto& m = as_mipnerf(field);
  // Snapshot what rendering changes (frozen statistics, per-pass statistics, norm modes, train mode).
  std::map<std::string, at::Tensor> saved;
  for (const auto& b : m.named_buffers()) saved[b.key()] = b.value().clone();
  std::vector<NormMode> modes;
  for (auto& n : m.norm_layers()) modes.push_back(n->mode());
  const bool was_training = m.is_training();

  double p = 0;
  at::Tensor gt, rgb;
  {
    c10::NoGradGuard ng;
    m.eval();
    calibrate(m);  // as evaluate() does (frozen statistics when the norms are batch-dependent)
    load_eval_split();
    // Scale: the largest divisor of H and W up to H / 100, so the preview is ~100 px or less.
    int64_t s = std::max<int64_t>(1, camera_.H / 100);
    while (s > 1 && (camera_.H % s != 0 || camera_.W % s != 0)) --s;
    NerfCamera cam = camera_;
    cam.H = static_cast<int>(camera_.H / s);
    cam.W = static_cast<int>(camera_.W / s);
    cam.focal = camera_.focal / static_cast<double>(s);
    rgb = render_view(m, cam, eval_.poses[0], options_, device_).rgb.clamp(0, 1);  // [h, w, 3]
    gt = eval_.images[0].to(at::kCPU);                                           // [H, W, 3]
    if (s > 1) gt = gt.reshape({cam.H, s, cam.W, s, 3}).mean({1, 3});             // box average
    p = psnr(rgb, gt);
  }

  for (const auto& b : m.named_buffers()) b.value().copy_(saved.at(b.key()));
  auto norms = m.norm_layers();
  for (size_t k = 0; k < norms.size(); ++k) norms[k]->set_mode(modes[k]);
  m.train(was_training);

  if (!out_dir.empty()) {
    const auto dir = out_dir / "preview";
    write_png(dir / preview_name(step), upscale_nearest(side_by_side({gt, rgb}), 200));
    std::ofstream(dir / "preview.jsonl", std::ios::app)
        << nlohmann::json{{"step", step}, {"view", eval_.files.empty() ? "" : eval_.files[0]}, {"psnr", p},
                          {"resolution", std::to_string(rgb.size(1)) + "x" + std::to_string(rgb.size(0))}}
               .dump()
        << "\n";
  }
  return p;
}

}  // namespace nf
