#include "app/neus_setup.h"

#include <filesystem>

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
  std::string t;
  auto add = [&t](const char* k, const std::string& v) { t += (t.empty() ? "" : ",") + std::string(k) + "=" + v; };
  if (!norm.empty()) add("norm", norm);
  if (batch > 0) add("batch", std::to_string(batch));
  if (mesh_resolution > 0) add("mesh", std::to_string(mesh_resolution));
  if (max_views >= -1) add("views", std::to_string(max_views));
  return t;
}

NeusJob make_neus_job(const TrainFlags& flags, const nlohmann::json& cfg, const std::string& scene,
                      const NeusOverrides& ov) {
  NeusJob job;
  const std::string& w = flags.config_path;
  check_config_keys(cfg, {"neus", "warmup"}, w);
  job.name = std::filesystem::path(w).stem().string();
  job.field = cfg.contains("field") ? cfg["field"] : neus_config("small");
  if (!ov.norm.empty()) job.field["norm"] = ov.norm;
  auto& o = job.task;
  o = NeusOptions::from_json(cfg.value("neus", nlohmann::json::object()), w, NeusOptions{}, true);
  o.scene = scene;
  o.seed = flags.seed;
  if (ov.batch > 0) o.batch = ov.batch;
  if (ov.mesh_resolution > 0) o.mesh_resolution = ov.mesh_resolution;
  if (ov.max_views >= -1) o.eval_max_views = ov.max_views;
  TrainFlags f = flags;
  if (f.lr <= 0) f.lr = TaskRegistry::global().get("neus").protocol.value("lr", 5e-4);  // NeuS: 5e-4
  job.train = f.train_options("neus " + job.name);
  job.train.lr.warmup = cfg_get<int64_t>(cfg, "warmup", 0, w);
  return job;
}

}  // namespace nf::app
