// normfield nerf train|eval|render: mip-NeRF (+ a normalization layer) on Blender scenes.
//
//   normfield nerf train  --scene DIR --config mipnerf_small_cn [--iters N] [--out DIR]
//   normfield nerf eval   --checkpoint C [--scene DIR] [--split test] [--max-views K] [--out DIR]
//   normfield nerf render --checkpoint C --path orbit --frames N --out DIR   (or --path poses.json)
//   normfield nerf batch-eval --scenes DIR[,DIR] --configs A,B [--seeds 0,1]   (app/cmd_nerf_batch.cpp)
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/nerf_setup.h"
#include "app/train_flags.h"
#include "datasets/image_io.h"
#include "fields/config.h"
#include "fields/mipnerf.h"
#include "fields/registry.h"
#include "normfield/version.h"
#include "tasks/checkpoint.h"
#include "tasks/fit.h"
#include "tasks/nerf_task.h"
#include "tasks/task_registry.h"
#include "tasks/trainer.h"

namespace nf::app {
namespace {

namespace fs = std::filesystem;

// Options shared by eval and render.
struct ViewFlags {
  std::string checkpoint, scene, out, device = "cpu";
  int threads = 0;
  int64_t chunk = 0;
  void add_to(CLI::App* sub, const std::string& out_default) {
    out = out_default;
    sub->add_option("--checkpoint", checkpoint, "checkpoint.pt written by nerf train")->required();
    sub->add_option("--out", out, "output folder")->capture_default_str();
    sub->add_option("--device", device, "cpu or cuda")->capture_default_str();
    sub->add_option("--threads", threads, "CPU threads (0: LibTorch default)")->check(thread_count());
    sub->add_option("--chunk", chunk, "rays per rendering chunk (default: the training config's)")->check(positive_int());
  }
};

struct Loaded {
  Field field;
  CheckpointMeta meta;
  NerfOptions options;
};

Loaded load_nerf_checkpoint(const ViewFlags& v, const c10::Device& device) {
  Loaded l;
  l.field = load_field(v.checkpoint, &l.meta);
  as_mipnerf(*l.field, v.checkpoint);
  l.field->to(device);
  l.field->eval();
  l.options = NerfOptions::from_json(l.meta.task_config, v.checkpoint + ": task config", NerfOptions{}, /*strict=*/false);
  if (v.chunk > 0) l.options.chunk = v.chunk;
  return l;
}

struct Train {
  TrainFlags flags;
  std::string scene;
  NerfOverrides overrides;
};

struct Eval {
  ViewFlags v;
  std::string split = "test";
  int max_views = -1, skip = 1;
  bool recalibrate = false;
};

struct Render {
  ViewFlags v;
  std::string path = "orbit";
  int64_t frames = 40;
  double radius = -1, elevation = -1000;
};

int run_train(Train& st, CLI::App* sub) {
  st.flags.config_path = resolve_nerf_config(st.flags.config_path).string();
  auto cfg = st.flags.apply_config(sub);
  check_config_keys(cfg, {"nerf"}, st.flags.config_path);
  require_scene(st.scene);
  auto device = st.flags.setup();
  check_out_dir(st.flags.out);  // before any data loading or training
  auto job = make_nerf_job(st.flags, cfg, st.scene, st.overrides);
  NerfTask task(job.task, device);
  auto r = fit_task(task, job.field, job.train, device, {},
                    [&](FieldImpl& f, int64_t step) { task.after_step(f, step, job.train); });
  auto& m = r.metrics;
  m["config"] = job.name;
  if (!job.train.out_dir.empty()) write_json((job.train.out_dir / "results.json").string(), m);
  std::printf("nerf %s: PSNR %.2f dB  SSIM %.4f  (%lld %s views, %lld iters, %.1f ms/iter, norm mode: %s)\n",
              job.name.c_str(), m["psnr"].get<double>(), m["ssim"].get<double>(),
              static_cast<long long>(m["n_views"].get<int64_t>()), job.task.eval_split.c_str(),
              static_cast<long long>(m["iters"].get<int64_t>()), m["ms_per_iter"].get<double>(),
              m["norm_mode"].get<std::string>().c_str());
  std::string names;
  for (const auto& v : m["views"]) names += (names.empty() ? "" : " ") + fs::path(v["view"].get<std::string>()).stem().string();
  std::printf("evaluated %s views: %s (%lld of %lld in the split; eval_skip %d, eval_max_views %d)\n",
              job.task.eval_split.c_str(), names.c_str(), static_cast<long long>(m["n_views"].get<int64_t>()),
              static_cast<long long>(m.value("views_in_split", int64_t{-1})), job.task.eval_skip, job.task.eval_max_views);
  std::printf("outputs in %s (results.json, checkpoint.pt, render_*.png, depth_*.png, compare_*.png, preview/)\n",
              st.flags.out.c_str());
  return 0;
}

int run_eval(Eval& st) {
  auto device = setup_device(st.v.device, st.v.threads);
  auto l = load_nerf_checkpoint(st.v, device);
  if (!st.v.scene.empty()) l.options.scene = st.v.scene;
  require_scene(l.options.scene);
  l.options.eval_split = st.split;
  l.options.eval_max_views = st.max_views;
  l.options.eval_skip = st.skip;
  l.options.recalibrate = st.recalibrate;
  NerfTask task(l.options, device);
  const auto t0 = std::chrono::steady_clock::now();
  auto metrics = task.evaluate(*l.field);
  metrics["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics["checkpoint"] = st.v.checkpoint;
  metrics["step"] = l.meta.step;
  metrics["device"] = device.str();
  metrics["field"] = l.field->config();
  metrics["task"] = task.config();
  task.write_outputs(*l.field, st.v.out);
  write_json((fs::path(st.v.out) / "results.json").string(), metrics);
  for (const auto& v : metrics["views"])
    std::printf("%-24s PSNR %6.2f dB  SSIM %.4f\n", v["view"].get<std::string>().c_str(), v["psnr"].get<double>(),
                v["ssim"].get<double>());
  std::printf("mean over %lld %s views: PSNR %.2f dB  SSIM %.4f  (norm mode: %s)\noutputs in %s\n",
              static_cast<long long>(metrics["n_views"].get<int64_t>()), st.split.c_str(),
              metrics["psnr"].get<double>(), metrics["ssim"].get<double>(),
              metrics["norm_mode"].get<std::string>().c_str(), st.v.out.c_str());
  return 0;
}

int run_render(Render& st) {
  auto device = setup_device(st.v.device, st.v.threads);
  auto l = load_nerf_checkpoint(st.v, device);
  auto& m = as_mipnerf(*l.field, st.v.checkpoint);
  const auto& tc = l.meta.task_config;
  if (!tc.contains("camera")) throw std::runtime_error(st.v.checkpoint + ": task config has no camera");
  const auto cam = NerfCamera::from_json(tc["camera"], st.v.checkpoint + ": camera");
  std::string mode = "none";
  if (nerf_needs_frozen_stats(m)) {
    if (m.has_pass_stats()) {
      m.set_norm_mode(NormMode::Frozen);
      mode = "frozen (per-pass statistics stored in the checkpoint)";
    } else {
      if (st.v.scene.empty())
        throw std::runtime_error(st.v.checkpoint +
                                 ": no calibrated norm statistics (an intermediate checkpoint): pass --scene to calibrate");
      require_scene(st.v.scene);
      l.options.scene = st.v.scene;
      NerfTask task(l.options, device);
      mode = task.calibrate(m);
    }
  }
  at::Tensor poses;
  if (st.path == "orbit") {
    const double r = st.radius > 0 ? st.radius : tc.value("orbit_radius", 4.0);
    const double el = st.elevation > -999 ? st.elevation : tc.value("orbit_elevation_deg", 30.0);
    poses = orbit_poses(st.frames, r, el);
  } else {
    poses = load_pose_list(st.path);
  }
  fs::create_directories(st.v.out);
  char name[64];
  for (int64_t k = 0; k < poses.size(0); ++k) {
    auto v = render_view(m, cam, poses[k], l.options, device);
    std::snprintf(name, sizeof name, "frame_%03lld.png", static_cast<long long>(k));
    write_png(fs::path(st.v.out) / name, v.rgb.clamp(0, 1));
    std::snprintf(name, sizeof name, "depth_%03lld.png", static_cast<long long>(k));
    write_png(fs::path(st.v.out) / name, depth_to_image(v.depth, v.acc, cam.near, cam.far));
  }
  std::printf("rendered %lld frames (%dx%d, norm mode: %s) into %s\n", static_cast<long long>(poses.size(0)), cam.W,
              cam.H, mode.c_str(), st.v.out.c_str());
  return 0;
}

Command reg([](CLI::App& app) {
  auto* nerf = app.add_subcommand("nerf", "mip-NeRF (+ BN/LN/GN/CN) on Blender scenes: train, eval, render, batch-eval");
  nerf->require_subcommand(1);

  auto actions = std::make_shared<SubcommandActions>();
  add_task_train(nerf, *actions, std::make_shared<Train>(), "nerf",
                 "train mip-NeRF on a Blender scene, then evaluate on its test views",
                 "scene folder (transforms_train.json, train/, test/)",
                 {"config name in assets/configs/nerf (mipnerf, mipnerf_cn, mipnerf_small, mipnerf_small_cn) or a JSON "
                  "path; flags override it",
                  "learning rate (the config's, else 5e-4 as mip-NeRF)"},
                 run_train);

  auto ev = std::make_shared<Eval>();
  auto* e = nerf->add_subcommand("eval", "PSNR/SSIM per view (+ mean), renders and depth maps of a split");
  ev->v.add_to(e, "out/nerf-eval");
  e->add_option("--scene", ev->v.scene, "scene folder (default: the one the checkpoint was trained on)");
  e->add_option("--split", ev->split, "test, val or train")->capture_default_str();
  e->add_option("--max-views", ev->max_views, "evaluate the first K views (-1: all)")->capture_default_str()->check(int_in(-1));
  e->add_option("--skip", ev->skip, "every n-th view")->capture_default_str()->check(positive_int());
  e->add_flag("--recalibrate", ev->recalibrate, "recalibrate frozen norm statistics on training rays");
  (*actions)[e] = [ev]() { return run_eval(*ev); };

  auto rd = std::make_shared<Render>();
  auto* r = nerf->add_subcommand("render", "render an image sequence along an orbit or a list of poses");
  rd->v.add_to(r, "out/nerf-render");
  r->add_option("--path", rd->path, "'orbit' or a JSON file of 4x4 camera-to-world matrices")->capture_default_str();
  r->add_option("--frames", rd->frames, "frames of the orbit")->capture_default_str()->check(positive_int());
  r->add_option("--radius", rd->radius, "orbit radius (default: the training cameras' mean)")->check(positive_float());
  r->add_option("--elevation", rd->elevation, "orbit elevation in degrees (default: the training cameras' mean)")->check(float_in(-90, 90));
  r->add_option("--scene", rd->v.scene, "scene to calibrate norm statistics from (intermediate checkpoints)");
  (*actions)[r] = [rd]() { return run_render(*rd); };

  auto batch_eval = add_nerf_batch_eval(nerf);  // app/cmd_nerf_batch.cpp
  (*actions)[nerf->get_subcommand("batch-eval")] = batch_eval;
  set_subcommand_actions(nerf, actions, "nerf: no subcommand given (train, eval, render or batch-eval)");
});

}  // namespace
}  // namespace nf::app
