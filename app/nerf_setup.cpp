#include "app/nerf_setup.h"

#include <stdexcept>

#include "app/assets.h"
#include "app/flag_checks.h"
#include "fields/mipnerf.h"

namespace nf::app {
namespace fs = std::filesystem;

fs::path resolve_nerf_config(const std::string& name) { return resolve_task_config(name, "nerf"); }

fs::path resolve_task_config(const std::string& name, const std::string& folder) {
  if (fs::is_regular_file(name)) return name;
  const std::string file = fs::path(name).extension() == ".json" ? name : name + ".json";
  const fs::path dirs[] = {assets_dir() / "configs" / folder, fs::path("assets/configs") / folder};
  for (const auto& d : dirs)
    if (fs::is_regular_file(d / file)) return d / file;
  std::string avail;
  if (fs::is_directory(dirs[0]))
    for (const auto& e : fs::directory_iterator(dirs[0]))
      if (e.path().extension() == ".json") avail += (avail.empty() ? "" : ", ") + e.path().stem().string();
  throw std::runtime_error("--config " + name + ": no such file or config in assets/configs/" + folder +
                           " (available: " + avail + ")");
}

void require_scene(const std::string& scene) {
  if (!fs::is_directory(scene)) throw std::runtime_error("--scene " + scene + ": no such scene folder");
}

void NerfOverrides::add_to(CLI::App* sub, bool with_norm) {
  if (with_norm) sub->add_option("--norm", norm, "override the field's norm: none, bn, ln, gn, cn");
  sub->add_option("--batch", batch, "rays per step (default: the config's)")->check(positive_int());
  sub->add_option("--n-coarse", n_coarse, "coarse intervals per ray")->check(positive_int());
  sub->add_option("--n-fine", n_fine, "fine intervals per ray")->check(positive_int());
  sub->add_option("--chunk", chunk, "rays per rendering chunk")->check(positive_int());
  sub->add_option("--downscale", downscale, "integer image downscale")->check(int_in(1, 1 << 16));
  sub->add_option("--max-views", max_views, "test views evaluated after training (-1: all)")->check(int_in(-1));
  sub->add_option("--skip", skip, "evaluate every n-th test view (default: the config's)")->check(positive_int());
  sub->add_option("--max-train-frames", max_train_frames, "training frames used (-1: all)")->check(int_in(-1));
}

std::string NerfOverrides::tag() const {
  std::string t;
  auto add = [&t](const char* k, const std::string& v) { t += (t.empty() ? "" : ",") + std::string(k) + "=" + v; };
  if (!norm.empty()) add("norm", norm);
  if (batch > 0) add("batch", std::to_string(batch));
  if (n_coarse > 0) add("n_coarse", std::to_string(n_coarse));
  if (n_fine > 0) add("n_fine", std::to_string(n_fine));
  if (downscale > 0) add("downscale", std::to_string(downscale));
  if (max_views >= -1) add("views", std::to_string(max_views));
  if (skip > 0) add("skip", std::to_string(skip));
  if (max_train_frames >= -1) add("train_frames", std::to_string(max_train_frames));
  return t;  // chunk is left out: rendering does not depend on it (tests/tasks/test_nerf.cpp)
}

NerfJob make_nerf_job(const TrainFlags& flags, const nlohmann::json& config, const std::string& scene,
                      const NerfOverrides& ov) {
  NerfJob job;
  job.name = fs::path(flags.config_path).stem().string();
  job.field = config.contains("field") ? config["field"] : mipnerf_config("small");
  if (!ov.norm.empty()) job.field["norm"] = ov.norm;
  auto& o = job.task;
  o = NerfOptions::from_json(config.value("nerf", nlohmann::json::object()), flags.config_path);
  o.scene = scene;
  o.seed = flags.seed;
  if (ov.batch > 0) o.batch = ov.batch;
  if (ov.n_coarse > 0) o.n_coarse = ov.n_coarse;
  if (ov.n_fine > 0) o.n_fine = ov.n_fine;
  if (ov.chunk > 0) o.chunk = ov.chunk;
  if (ov.downscale > 0) o.downscale = ov.downscale;
  if (ov.max_views >= -1) o.eval_max_views = ov.max_views;
  if (ov.skip > 0) o.eval_skip = ov.skip;
  if (ov.max_train_frames >= -1) o.max_train_frames = ov.max_train_frames;
  o.recalibrate = true;
  job.train = flags.train_options("nerf " + job.name);  // lr: the config's, else the task's (5e-4)
  return job;
}

}  // namespace nf::app
