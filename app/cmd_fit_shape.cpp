// normfield fit-shape: fit the occupancy of a mesh (.obj/.ply) with a coordinate network and report
// the IoU on a grid (paper Table 3); writes results.json, mesh.ply/.obj, slices.png, checkpoint.pt.
#include <cmath>
#include <cstdio>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/mesh_io.h"
#include "fields/config.h"
#include "tasks/occupancy_task.h"
#include "tasks/fit.h"

namespace nf::app {
namespace {

struct FitShape {
  TrainFlags flags;
  std::string mesh;
  OccupancyTaskOptions task;
  double epochs = 0;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<FitShape>();
  st->flags.set_task("occupancy");  // the paper's occupancy protocol (tasks/task_registry.cpp)
  auto* sub = app.add_subcommand("fit-shape", "fit a mesh's occupancy (inside/outside) with a coordinate network "
                                 "(default lr 5e-3 -> 5e-4 exponential, as the paper)");
  sub->add_option("--mesh", st->mesh, "mesh file (.obj or .ply)")->required();
  st->flags.add_to(sub);
  auto& t = st->task;
  sub->add_option("--batch", t.batch, "points per step (paper: 100000)")->capture_default_str()->check(positive_int());
  sub->add_option("--resolution", t.resolution, "evaluation grid resolution for IoU and the mesh (paper: 512)")
      ->capture_default_str()
      ->check(int_in(2));
  sub->add_option("--threshold", t.threshold, "inside where sigmoid(f) > threshold")->capture_default_str()->check(float_in(0, 1, true, true));
  sub->add_option("--points", t.points, "labelled training points (built once)")->capture_default_str()->check(positive_int());
  sub->add_option("--uniform-fraction", t.uniform_fraction, "share of training points uniform in [-1,1]^3")
      ->capture_default_str()
      ->check(float_in(0, 1));
  sub->add_option("--noise", t.noise, "std of the near-surface offsets (one level per value)")
      ->capture_default_str()
      ->check(nonnegative_float());
  sub->add_option("--margin", t.margin, "the mesh's longest side spans [-(1-margin), 1-margin]")
      ->capture_default_str()
      ->check(float_in(0, 1, false, true));
  sub->add_option("--labels", t.labels, "training labels: fast or exact winding numbers")->capture_default_str();
  sub->add_option("--block", t.block, "evaluation block edge (block^3 points per forward)")->capture_default_str()->check(positive_int());
  sub->add_option("--gt-check", t.gt_check, "grid nodes re-labelled exactly to check the ground truth (0: off)")
      ->capture_default_str()
      ->check(nonnegative_int());
  sub->add_option("--epochs", st->epochs, "passes over the labelled points (overrides --iters; paper: 200)")
      ->check(positive_float());
  set_action(sub, [st, sub]() {
    auto cfg = st->flags.apply_config(sub);
    auto& t = st->task;
    check_config_keys(cfg, {"batch", "resolution", "threshold", "points", "uniform_fraction", "noise", "margin",
                            "labels", "block", "gt_check", "epochs"}, st->flags.config_path);
    auto take = [&](const char* flag, const char* key, auto& var) {
      if (sub->count(flag) == 0 && cfg.contains(key)) var = cfg_get(cfg, key, var, st->flags.config_path);
    };
    take("--batch", "batch", t.batch);
    take("--resolution", "resolution", t.resolution);
    take("--threshold", "threshold", t.threshold);
    take("--points", "points", t.points);
    take("--uniform-fraction", "uniform_fraction", t.uniform_fraction);
    take("--noise", "noise", t.noise);
    take("--margin", "margin", t.margin);
    take("--labels", "labels", t.labels);
    take("--block", "block", t.block);
    take("--gt-check", "gt_check", t.gt_check);
    take("--epochs", "epochs", st->epochs);
    if (cfg.contains("epochs") && sub->count("--epochs") == 0)
      require_positive_float(st->epochs, st->flags.config_path + ": key 'epochs'");
    if (st->epochs > 0)  // the paper counts epochs over the labelled point set
      st->flags.iters = static_cast<int64_t>(std::ceil(st->epochs * static_cast<double>(t.points) /
                                                       static_cast<double>(std::max<int64_t>(1, t.batch))));
    auto device = st->flags.setup();
    check_out_dir(st->flags.out);  // before any data loading or training
    t.seed = st->flags.seed;
    auto mesh = load_mesh(st->mesh);
    auto field_cfg = field_config_for(st->flags, cfg, 3, 1);
    auto opts = st->flags.train_options("fit-shape " + st->flags.method);
    auto r = fit_shape(mesh, field_cfg, opts, t, device, st->mesh);
    const auto& m = r.metrics;
    std::printf("%s %s: IoU %.4f at %lld^3  (%lld iters, %.1f ms/iter, labels %.1f s, ground truth %.1f s, "
                "norm mode: %s)\n",
                st->flags.method.c_str(), st->flags.arch.c_str(), m["iou"].get<double>(),
                static_cast<long long>(t.resolution), static_cast<long long>(m["iters"].get<int64_t>()),
                m["ms_per_iter"].get<double>(), m["label_seconds"].get<double>(), m["gt_seconds"].get<double>(),
                m["norm_mode"].get<std::string>().c_str());
    if (m.contains("gt_check"))
      std::printf("ground truth vs exact winding numbers: %.4f agreement on %lld nodes (%.4f next to the surface)\n",
                  m["gt_check"]["agreement"].get<double>(),
                  static_cast<long long>(m["gt_check"]["nodes"].get<int64_t>()),
                  m["gt_check"]["surface_agreement"].get<double>());
    std::printf("outputs in %s (results.json, mesh.ply, mesh.obj, slices.png, checkpoint.pt)\n",
                st->flags.out.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
