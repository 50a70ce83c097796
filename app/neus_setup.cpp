#include "app/neus_setup.h"

#include "app/flag_checks.h"
#include "fields/config.h"
#include "fields/neus.h"
#include "tasks/task_registry.h"

namespace nf::app {

void NeusOverrides::add_to(CLI::App* sub, bool with_norm) {
  if (with_norm) sub->add_option("--norm", norm, "override the SDF network's norm: none, bn, ln, gn, cn");
  sub->add_option("--batch", batch, "rays per step (default: the config's)")->check(positive_int());
  sub->add_option("--mesh-resolution", mesh_resolution, "marching-cubes grid (default: the config's)")->check(int_in(2));
  sub->add_option("--max-views", max_views, "held-out views evaluated after training (-1: all)")->check(int_in(-1));
}

std::string NeusOverrides::tag() const {
  OverrideTag t;
  t.add(!norm.empty(), "norm", norm).add(batch > 0, "batch", batch).add(mesh_resolution > 0, "mesh", mesh_resolution);
  return t.add(max_views >= -1, "views", max_views).str();
}

NeusJob make_neus_job(const TrainFlags& flags, const nlohmann::json& cfg, const std::string& scene,
                      const NeusOverrides& ov) {
  const std::string& w = flags.config_path;
  check_config_keys(cfg, {"neus", "warmup"}, w);
  auto job = start_job<NeusOptions>(flags, cfg, neus_config("small"), ov.norm);
  auto& o = job.task;
  o = NeusOptions::from_json(cfg.value("neus", nlohmann::json::object()), w, NeusOptions{}, true);
  o.scene = scene;
  o.seed = flags.seed;
  ov.apply_to(o);  // batch, eval_max_views
  if (ov.mesh_resolution > 0) o.mesh_resolution = ov.mesh_resolution;
  TrainFlags f = flags;
  if (f.lr <= 0) f.lr = TaskRegistry::global().get("neus").protocol.value("lr", 5e-4);  // NeuS: 5e-4
  job.train = f.train_options("neus " + job.name);
  job.train.lr.warmup = cfg_get<int64_t>(cfg, "warmup", 0, w);
  return job;
}

}  // namespace nf::app
