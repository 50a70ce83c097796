// Diagnostic used for docs/results-neus.md ("NeuS + CN on the bunny: diagnosis"); not part of the
// build. On a NeuS checkpoint with a batch-dependent norm it compares, at the same points, the SDF
// of a training batch in batch mode (final-pass statistics) with the up-sampling's field (uniform-pass
// statistics), with frozen mode (NeusTask::calibrate) and with another batch's statistics; with a
// second argument 1 it also renders two training views in random training-size batches in batch
// mode and in frozen mode (PSNR, SSIM, mask BCE, opacity on the background).
// Build (from the repository root, after building normfield in build/):
//   c++ -O2 -std=c++17 -DNORMFIELD_WITH_CUDA=1 -I. -Ibuild/generated -isystem /usr/include/torch/csrc/api/include \
//       scripts/neus_stats_diag.cpp -o build/neus_stats_diag build/libnormfield_tasks.a build/libnormfield_render.a \
//       build/libnormfield_datasets.a build/libnormfield_fields.a <the libraries of normfield's link line>
// Run: build/neus_stats_diag out/bunny/neus_small_cn/checkpoint.pt 1
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <cstdio>
#include "datasets/image_metrics.h"
#include "render/neus_render.h"
#include "render/neus_sampling.h"
#include "tasks/checkpoint.h"
#include "tasks/neus_task.h"
#include "tasks/step_rng.h"
#include "render/nerf_render.h"
using namespace nf;

static void cmp(const char* what, const at::Tensor& a, const at::Tensor& ref) {
  auto d = (a - ref).abs();
  auto near = ref.abs() < 0.05, far = ref.abs() >= 0.2;
  auto sign = ((a > 0) != (ref > 0)).to(at::kFloat);
  std::printf("%-34s mean|d| %.4f  near(|s|<.05, n=%lld) %.4f  far(|s|>=.2) %.4f  sign flips %.3f%% (near %.2f%%)\n", what,
              d.mean().item<double>(), (long long)near.sum().item<int64_t>(), d.masked_select(near).mean().item<double>(),
              d.masked_select(far).mean().item<double>(), 100 * sign.mean().item<double>(),
              100 * sign.masked_select(near).mean().item<double>());
}

int main(int argc, char** argv) {
  at::set_num_threads(1);
  std::string ck = argv[1];
  int mode = argc > 2 ? std::atoi(argv[2]) : 0;
  CheckpointMeta meta;
  Field field = load_field(ck, &meta);
  auto& m = as_neus(*field);
  m.eval();
  auto o = NeusOptions::from_json(meta.task_config, "cfg", NeusOptions{}, false);
  NeusTask task(o, at::kCPU);
  std::printf("step %lld, norms %zu, frozen from ckpt: %d\n", (long long)meta.step, m.norm_layers().size(),
              m.norm_layers().empty() ? -1 : (int)(m.norm_layers()[0]->mode() == NormMode::Frozen));
  c10::NoGradGuard ng;
  auto ro = o.render_options(1.0, true);
  // training-like batch
  for (int64_t step : {1999, 2000}) {
    m.set_norm_mode(NormMode::Batch);
    auto idx = task.batch_indices(step);
    auto gen = seeded_generator(at::kCPU, step_seed(o.seed, step) ^ 0x9E3779B97F4A7C15ULL);
    auto sc = task.scene();
    // rays of all training pixels are private; rebuild them from the task's views
    std::vector<at::Tensor> oo, dd;
    for (int k : task.train_views()) {
      Camera c; c.width = sc.W; c.height = sc.H; auto K = sc.intrinsics[k];
      c.fx = K[0][0].item<double>(); c.fy = K[1][1].item<double>(); c.cx = K[0][2].item<double>(); c.cy = K[1][2].item<double>();
      c.c2w = sc.c2w[k].to(at::kFloat);
      auto r = generate_rays(c, 0.0, 1.0); oo.push_back(r.origins); dd.push_back(r.viewdirs);
    }
    auto RO = at::cat(oo).to(at::kFloat).index_select(0, idx), RD = at::cat(dd).to(at::kFloat).index_select(0, idx);
    auto z = neus_sample_rays(m, RO, RD, ro, gen);  // batch mode: kept = uniform-pass stats
    auto mid = neus_sections(z, 2.0 / o.n_samples).second;
    auto pts = (RO.unsqueeze(1) + RD.unsqueeze(1) * mid.unsqueeze(2)).reshape({-1, 3});
    auto sA = m.sdf_kept(pts);          // field A: uniform-pass statistics (what up-sampling used)
    m.keep_batch_stats(true);
    auto sB = m.sdf(pts);               // field B: final-pass batch statistics (what is trained)
    m.keep_batch_stats(false);
    auto sBk = m.sdf_kept(pts);
    std::printf("== training batch step %lld: %lld final-pass points\n", (long long)step, (long long)pts.size(0));
    cmp("kept(final) vs batch (sanity)", sBk, sB);
    cmp("uniform-pass stats vs batch", sA, sB);
    // uniform points only, batch mode on uniform samples
    task.calibrate(m);  // frozen, calibrated on kCalibStep batch
    auto sF = m.sdf(pts);
    cmp("frozen(calib batch) vs batch", sF, sB);
    for (auto& n : m.norm_layers()) std::printf("  T_ref %.0f", n->frozen_count.item<double>());
    std::printf("\n");
    // field on uniform ball points, frozen vs stats of this batch
    auto g = at::make_generator<at::CPUGeneratorImpl>(5);
    auto u = at::rand({20000, 3}, g) * 2 - 1;
    auto uF = m.sdf(u);
    m.set_norm_mode(NormMode::Batch);
    m.keep_batch_stats(true); m.sdf(pts); m.keep_batch_stats(false);
    cmp("cube pts: frozen vs this batch's stats", uF, m.sdf_kept(u));
  }
  if (mode == 0) return 0;
  // rendering a training view: batch mode (random 256-ray batches) vs frozen
  auto sc = task.scene();
  for (int k : {task.train_views()[0], task.train_views()[5]}) {
    Camera c; c.width = sc.W; c.height = sc.H; auto K = sc.intrinsics[k];
    c.fx = K[0][0].item<double>(); c.fy = K[1][1].item<double>(); c.cx = K[0][2].item<double>(); c.cy = K[1][2].item<double>();
    c.c2w = sc.c2w[k].to(at::kFloat);
    auto target = sc.images[k].to(at::kFloat);
    auto mk = (sc.masks[k] > 0.5).to(at::kFloat);
    target = target * mk.unsqueeze(2);
    auto rays = generate_rays(c, 0.0, 1.0);
    const int64_t N = rays.size();
    auto ro2 = o.render_options(1.0, false);
    for (int pass = 0; pass < 2; ++pass) {
      if (pass == 0) m.set_norm_mode(NormMode::Batch); else task.calibrate(m);
      auto perm = at::randperm(N, at::make_generator<at::CPUGeneratorImpl>(k), at::kLong);
      auto rgb = at::zeros({N, 3}), acc = at::zeros({N});
      for (int64_t s = 0; s < N; s += o.batch) {
        auto id = perm.slice(0, s, std::min(N, s + o.batch));
        auto r = neus_render_rays(m, rays.origins.index_select(0, id), rays.viewdirs.index_select(0, id), ro2, false);
        rgb.index_copy_(0, id, r.rgb); acc.index_copy_(0, id, r.acc);
      }
      auto img = rgb.reshape({c.height, c.width, 3}).clamp(0, 1);
      auto A = acc.reshape({c.height, c.width});
      auto bce = at::binary_cross_entropy(A.clamp(1e-3, 1 - 1e-3), mk).item<double>();
      std::printf("train view %d %-7s PSNR %.2f SSIM %.4f mask BCE %.4f  mean acc bg %.4f fg %.4f\n", k,
                  pass == 0 ? "batch" : "frozen", psnr(img, target), ssim(img, target), bce,
                  A.masked_select(mk < 0.5).mean().item<double>(), A.masked_select(mk > 0.5).mean().item<double>());
    }
  }
  return 0;
}
