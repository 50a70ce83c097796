// normfield nerf train|eval|render: mip-NeRF (+ a normalization layer) on Blender scenes.
//
//   normfield nerf train  --scene DIR --config mipnerf_small_cn [--iters N] [--out DIR]
//   normfield nerf eval   --checkpoint C [--scene DIR] [--split test] [--max-views K] [--out DIR]
//   normfield nerf render --checkpoint C --path orbit --frames N --out DIR   (or --path poses.json)
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "app/commands.h"
#include "app/train_flags.h"
#include "datasets/image_io.h"
#include "fields/config.h"
#include "fields/mipnerf.h"
#include "fields/registry.h"
#include "normfield/version.h"
#include "tasks/checkpoint.h"
#include "tasks/nerf_task.h"
#include "tasks/trainer.h"

namespace nf::app {
namespace {

namespace fs = std::filesystem;

// The repository's assets/: $NORMFIELD_ASSETS, else <exe>/../assets or <exe>/../../assets, else ./assets.
fs::path assets_root() {
  if (const char* env = std::getenv("NORMFIELD_ASSETS"); env && *env) return env;
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (!ec)
    for (const auto& p : {exe.parent_path().parent_path() / "assets", exe.parent_path().parent_path().parent_path() / "assets"})
      if (fs::is_directory(p / "configs")) return p;
  return fs::current_path() / "assets";
}

// --config: an existing file, else a name in assets/configs/nerf (".json" optional).
fs::path resolve_nerf_config(const std::string& name) {
  if (fs::is_regular_file(name)) return name;
  const std::string file = fs::path(name).extension() == ".json" ? name : name + ".json";
  const fs::path dirs[] = {assets_root() / "configs/nerf", fs::path("assets/configs/nerf")};
  for (const auto& d : dirs)
    if (fs::is_regular_file(d / file)) return d / file;
  std::string avail;
  if (fs::is_directory(dirs[0]))
    for (const auto& e : fs::directory_iterator(dirs[0]))
      if (e.path().extension() == ".json") avail += (avail.empty() ? "" : ", ") + e.path().stem().string();
  throw std::runtime_error("--config " + name + ": no such file or config in assets/configs/nerf (available: " +
                           avail + ")");
}

void require_scene(const std::string& scene) {
  if (!fs::is_directory(scene)) throw std::runtime_error("--scene " + scene + ": no such scene folder");
}

c10::Device pick_device(const std::string& device, int threads) {
  TrainFlags f;
  f.device = device;
  f.threads = threads;
  return f.setup();
}

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
    sub->add_option("--threads", threads, "CPU threads (0: LibTorch default)");
    sub->add_option("--chunk", chunk, "rays per rendering chunk (default: the training config's)");
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
  std::string scene, norm;
  int64_t batch = 0, n_coarse = 0, n_fine = 0, chunk = 0;
  int downscale = 0, max_views = -2, max_train_frames = -2;
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

std::map<CLI::App*, std::function<int()>>& nerf_actions() {
  static std::map<CLI::App*, std::function<int()>> a;
  return a;
}

int run_train(Train& st, CLI::App* sub) {
  st.flags.config_path = resolve_nerf_config(st.flags.config_path).string();
  auto cfg = st.flags.apply_config(sub);
  if (st.flags.lr <= 0) st.flags.lr = 5e-4;  // mip-NeRF's lr_init
  require_scene(st.scene);
  auto device = st.flags.setup();
  auto field_cfg = cfg.contains("field") ? cfg["field"] : mipnerf_config("small");
  if (!st.norm.empty()) field_cfg["norm"] = st.norm;
  auto o = NerfOptions::from_json(cfg.value("nerf", nlohmann::json::object()), st.flags.config_path);
  o.scene = st.scene;
  o.seed = st.flags.seed;
  if (st.batch > 0) o.batch = st.batch;
  if (st.n_coarse > 0) o.n_coarse = st.n_coarse;
  if (st.n_fine > 0) o.n_fine = st.n_fine;
  if (st.chunk > 0) o.chunk = st.chunk;
  if (st.downscale > 0) o.downscale = st.downscale;
  if (st.max_views >= -1) o.eval_max_views = st.max_views;
  if (st.max_train_frames >= -1) o.max_train_frames = st.max_train_frames;
  o.recalibrate = true;

  auto field = make_field(field_cfg);
  field->to(device);
  NerfTask task(o, device);
  const std::string name = fs::path(st.flags.config_path).stem().string();
  Trainer trainer(field, task, st.flags.train_options("nerf " + name));
  trainer.run();
  const auto& h = trainer.history();
  const double seconds = h.empty() ? 0.0 : h.back().seconds;
  const auto t0 = std::chrono::steady_clock::now();
  auto metrics = task.evaluate(*field);
  metrics["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  metrics["config"] = name;
  metrics["iters"] = trainer.step();
  metrics["seconds"] = seconds;
  metrics["ms_per_iter"] = h.empty() ? 0.0 : 1000.0 * seconds / static_cast<double>(h.size());
  metrics["device"] = device.str();
  metrics["field"] = field->config();
  metrics["task"] = task.config();
  metrics["train"] = trainer.options().to_json();
  metrics["version"] = NORMFIELD_VERSION;
  metrics["git"] = NORMFIELD_GIT_REV;
  trainer.save(trainer.checkpoint_path());  // now with the calibrated per-pass statistics
  task.write_outputs(*field, st.flags.out);
  write_json((fs::path(st.flags.out) / "results.json").string(), metrics);
  std::printf("nerf %s: PSNR %.2f dB  SSIM %.4f  (%lld %s views, %lld iters, %.1f ms/iter, norm mode: %s)\n",
              name.c_str(), metrics["psnr"].get<double>(), metrics["ssim"].get<double>(),
              static_cast<long long>(metrics["n_views"].get<int64_t>()), o.eval_split.c_str(),
              static_cast<long long>(trainer.step()), metrics["ms_per_iter"].get<double>(),
              metrics["norm_mode"].get<std::string>().c_str());
  std::printf("outputs in %s (results.json, checkpoint.pt, render_*.png, depth_*.png, compare_*.png)\n",
              st.flags.out.c_str());
  return 0;
}

int run_eval(Eval& st) {
  auto device = pick_device(st.v.device, st.v.threads);
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
  auto device = pick_device(st.v.device, st.v.threads);
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
  auto* nerf = app.add_subcommand("nerf", "mip-NeRF (+ BN/LN/GN/CN) on Blender scenes: train, eval, render");
  nerf->require_subcommand(1);

  auto tr = std::make_shared<Train>();
  auto* t = nerf->add_subcommand("train", "train mip-NeRF on a Blender scene, then evaluate on its test views");
  t->add_option("--scene", tr->scene, "scene folder (transforms_train.json, train/, test/)")->required();
  tr->flags.config_path = "mipnerf_small";
  tr->flags.iters = 2000;
  tr->flags.out = "out/nerf";
  tr->flags.add_to(t);
  // --method/--arch describe coordinate MLPs: kept (TrainFlags reads them) but hidden; the field comes from --config.
  t->get_option("--method")->group("");
  t->get_option("--arch")->group("");
  t->get_option("--config")
      ->description("config name in assets/configs/nerf (mipnerf, mipnerf_cn, mipnerf_small, mipnerf_small_cn) or a "
                    "JSON path; flags override it")
      ->capture_default_str();
  t->get_option("--lr")->description("learning rate (default: the config's, else 5e-4 as mip-NeRF)");
  t->add_option("--norm", tr->norm, "override the field's norm: none, bn, ln, gn, cn");
  t->add_option("--batch", tr->batch, "rays per step (default: the config's)");
  t->add_option("--n-coarse", tr->n_coarse, "coarse intervals per ray");
  t->add_option("--n-fine", tr->n_fine, "fine intervals per ray");
  t->add_option("--chunk", tr->chunk, "rays per rendering chunk");
  t->add_option("--downscale", tr->downscale, "integer image downscale");
  t->add_option("--max-views", tr->max_views, "test views evaluated after training (-1: all)");
  t->add_option("--max-train-frames", tr->max_train_frames, "training frames used (-1: all)");
  nerf_actions()[t] = [tr, t]() { return run_train(*tr, t); };

  auto ev = std::make_shared<Eval>();
  auto* e = nerf->add_subcommand("eval", "PSNR/SSIM per view (+ mean), renders and depth maps of a split");
  ev->v.add_to(e, "out/nerf-eval");
  e->add_option("--scene", ev->v.scene, "scene folder (default: the one the checkpoint was trained on)");
  e->add_option("--split", ev->split, "test, val or train")->capture_default_str();
  e->add_option("--max-views", ev->max_views, "evaluate the first K views (-1: all)")->capture_default_str();
  e->add_option("--skip", ev->skip, "every n-th view")->capture_default_str();
  e->add_flag("--recalibrate", ev->recalibrate, "recalibrate frozen norm statistics on training rays");
  nerf_actions()[e] = [ev]() { return run_eval(*ev); };

  auto rd = std::make_shared<Render>();
  auto* r = nerf->add_subcommand("render", "render an image sequence along an orbit or a list of poses");
  rd->v.add_to(r, "out/nerf-render");
  r->add_option("--path", rd->path, "'orbit' or a JSON file of 4x4 camera-to-world matrices")->capture_default_str();
  r->add_option("--frames", rd->frames, "frames of the orbit")->capture_default_str();
  r->add_option("--radius", rd->radius, "orbit radius (default: the training cameras' mean)");
  r->add_option("--elevation", rd->elevation, "orbit elevation in degrees (default: the training cameras' mean)");
  r->add_option("--scene", rd->v.scene, "scene to calibrate norm statistics from (intermediate checkpoints)");
  nerf_actions()[r] = [rd]() { return run_render(*rd); };

  set_action(nerf, [nerf]() {
    for (auto* s : nerf->get_subcommands()) {
      auto it = nerf_actions().find(s);
      if (it != nerf_actions().end()) return it->second();
    }
    throw std::runtime_error("nerf: no subcommand given (train, eval or render)");
  });
});

}  // namespace
}  // namespace nf::app
