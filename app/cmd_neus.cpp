// normfield neus train|eval: NeuS (+ a normalization layer) on DTU-style scenes.
//
//   normfield neus train --scene DIR --config neus_small_cn [--iters N] [--norm cn] [--out DIR] [--resume]
//   normfield neus eval  --checkpoint C [--scene DIR] [--gt MESH_OR_POINTS] [--out DIR]
//   normfield neus batch-eval --scenes DIRS --configs neus_small,neus_small_cn --seeds 0,1,2 (app/cmd_neus_batch.cpp)
// Meshes of NeuS checkpoints: normfield export-mesh --checkpoint C (app/cmd_export_mesh.cpp).
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/neus_setup.h"
#include "app/train_flags.h"
#include "fields/config.h"
#include "fields/neus.h"
#include "tasks/checkpoint.h"
#include "tasks/fit.h"
#include "tasks/neus_task.h"
#include "tasks/task_registry.h"

namespace nf::app {
namespace {

namespace fs = std::filesystem;

struct Train {
  TrainFlags flags;
  std::string scene;
  NeusOverrides overrides;
};

struct Eval {
  std::string checkpoint, scene, gt, out = "out/neus-eval", device = "cpu";
  int threads = 0;
  int64_t chunk = 0, mesh_resolution = 0;
  int max_views = -2;
};

void print_summary(const std::string& what, const nlohmann::json& m) {
  std::printf("neus %s: held-out PSNR %.2f dB  SSIM %.4f  (%lld views, norm mode: %s)\n", what.c_str(),
              m.value("psnr", 0.0), m.value("ssim", 0.0), static_cast<long long>(m.value("n_views", int64_t{0})),
              m.value("norm_mode", std::string("?")).c_str());
  if (m.contains("mesh"))
    std::printf("mesh: %lld vertices, %lld faces (world frame)\n",
                static_cast<long long>(m["mesh"].value("vertices", int64_t{0})),
                static_cast<long long>(m["mesh"].value("faces", int64_t{0})));
  if (m.contains("chamfer"))
    std::printf("chamfer vs %s: accuracy %.5g  completeness %.5g  overall %.5g (%.3f%% of the bbox diagonal)\n",
                m["chamfer"].value("gt", std::string()).c_str(), m["chamfer"].value("accuracy", 0.0),
                m["chamfer"].value("completeness", 0.0), m["chamfer"].value("overall", 0.0),
                m["chamfer"].value("overall_pct_diagonal", 0.0));
}

int run_train(Train& st, CLI::App* sub) {
  // One rule with nerf train, batch-eval and the viewer: protocol = flag > config > the neus task's
  // defaults (tasks/task_registry.cpp: lr 5e-4); the "neus" block parsed by NeusOptions::from_json
  // (strict), as the registry's neus builder does.
  st.flags.config_path = resolve_task_config(st.flags.config_path, "neus").string();
  auto cfg = st.flags.apply_config(sub);
  require_scene(st.scene);
  auto job = make_neus_job(st.flags, cfg, st.scene, st.overrides);  // checks the config's keys
  const std::string& name = job.name;
  auto& train = job.train;
  auto device = st.flags.setup();
  check_out_dir(st.flags.out);  // before any data loading or training
  NeusTask task(job.task, device);
  auto r = fit_task(task, job.field, train, device, {});
  auto& m = r.metrics;
  m["config"] = name;
  if (!train.out_dir.empty()) write_json((train.out_dir / "results.json").string(), m);
  print_summary(name, m);
  std::printf("%lld iters, %.1f ms/iter; outputs in %s (results.json, checkpoint.pt, mesh.ply, render_*.png, "
              "normal_*.png, compare_*.png)\n",
              static_cast<long long>(m["iters"].get<int64_t>()), m["ms_per_iter"].get<double>(), st.flags.out.c_str());
  return 0;
}

int run_eval(Eval& st) {
  auto device = setup_device(st.device, st.threads);
  CheckpointMeta meta;
  Field field = load_field(st.checkpoint, &meta);
  as_neus(*field, st.checkpoint);
  field->to(device);
  auto o = NeusOptions::from_json(meta.task_config, st.checkpoint + ": task config", NeusOptions{}, /*strict=*/false);
  if (!st.scene.empty()) o.scene = st.scene;
  require_scene(o.scene);
  if (!st.gt.empty()) {
    if (!fs::is_regular_file(st.gt)) throw std::runtime_error("--gt " + st.gt + ": no such file");
    o.gt = st.gt;
  }
  if (st.chunk > 0) o.chunk = st.chunk;
  if (st.mesh_resolution > 0) o.mesh_resolution = st.mesh_resolution;
  if (st.max_views >= -1) o.eval_max_views = st.max_views;
  NeusTask task(o, device);
  const auto t0 = std::chrono::steady_clock::now();
  auto m = task.evaluate(*field);
  m["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  task.write_outputs(*field, st.out);
  m.update(task.outputs_summary());
  m["checkpoint"] = st.checkpoint;
  m["step"] = meta.step;
  m["device"] = device.str();
  m["field"] = field->config();
  m["task"] = task.config();
  write_json((fs::path(st.out) / "results.json").string(), m);
  for (const auto& v : m["views"])
    std::printf("%-32s PSNR %6.2f dB  SSIM %.4f\n", v["view"].get<std::string>().c_str(), v["psnr"].get<double>(),
                v["ssim"].get<double>());
  print_summary("eval", m);
  std::printf("outputs in %s\n", st.out.c_str());
  return 0;
}

Command reg([](CLI::App& app) {
  auto* neus = app.add_subcommand("neus", "NeuS (+ BN/LN/GN/CN) on DTU-style scenes: train, eval, batch-eval");
  neus->require_subcommand(1);

  auto actions = std::make_shared<SubcommandActions>();
  add_task_train(neus, *actions, std::make_shared<Train>(), "neus",
                 "train NeuS on a DTU-style scene; evaluate held-out views, extract the mesh",
                 "scene folder (image/, mask/, cameras_sphere.npz)",
                 {"config name in assets/configs/neus (neus, neus_cn, neus_small, neus_small_cn) or a JSON path; "
                  "flags override it",
                  "learning rate (default: the config's, else 5e-4 as NeuS)"},
                 run_train);

  auto ev = std::make_shared<Eval>();
  auto* e = neus->add_subcommand("eval", "PSNR/SSIM per held-out view, normal maps, mesh, chamfer against --gt");
  e->add_option("--checkpoint", ev->checkpoint, "checkpoint.pt written by neus train")->required();
  e->add_option("--scene", ev->scene, "scene folder (default: the one the checkpoint was trained on)");
  e->add_option("--gt", ev->gt, "ground truth for chamfer: a mesh (OBJ/PLY) or a PLY point cloud (world frame)");
  e->add_option("--out", ev->out, "output folder")->capture_default_str();
  e->add_option("--device", ev->device, "cpu or cuda")->capture_default_str();
  e->add_option("--threads", ev->threads, "CPU threads (0: LibTorch default)");
  e->add_option("--chunk", ev->chunk, "rays per rendering chunk (default: the training config's)");
  e->add_option("--mesh-resolution", ev->mesh_resolution, "marching-cubes grid (default: the training config's)");
  e->add_option("--max-views", ev->max_views, "held-out views evaluated (-1: all)");
  (*actions)[e] = [ev]() { return run_eval(*ev); };

  auto batch_eval = add_neus_batch_eval(neus);  // app/cmd_neus_batch.cpp
  (*actions)[neus->get_subcommand("batch-eval")] = batch_eval;
  set_subcommand_actions(neus, actions, "neus: no subcommand given (train, eval or batch-eval)");
});

}  // namespace
}  // namespace nf::app
