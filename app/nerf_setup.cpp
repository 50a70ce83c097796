#include "app/nerf_setup.h"

#include <stdexcept>

#include "app/flag_checks.h"
#include "fields/mipnerf.h"

namespace nf::app {
namespace fs = std::filesystem;

fs::path resolve_nerf_config(const std::string& name) { return resolve_task_config(name, "nerf"); }

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
  OverrideTag t;
  t.add(!norm.empty(), "norm", norm).add(batch > 0, "batch", batch).add(n_coarse > 0, "n_coarse", n_coarse);
  t.add(n_fine > 0, "n_fine", n_fine).add(downscale > 0, "downscale", downscale).add(max_views >= -1, "views", max_views);
  t.add(skip > 0, "skip", skip).add(max_train_frames >= -1, "train_frames", max_train_frames);
  return t.str();  // chunk is left out: rendering does not depend on it (tests/tasks/test_nerf.cpp)
}

NerfJob make_nerf_job(const TrainFlags& flags, const nlohmann::json& config, const std::string& scene,
                      const NerfOverrides& ov) {
  auto job = start_job<NerfOptions>(flags, config, mipnerf_config("small"), ov.norm);
  auto& o = job.task;
  o = NerfOptions::from_json(config.value("nerf", nlohmann::json::object()), flags.config_path);
  o.scene = scene;
  o.seed = flags.seed;
  ov.apply_to(o);  // batch, eval_max_views
  if (ov.n_coarse > 0) o.n_coarse = ov.n_coarse;
  if (ov.n_fine > 0) o.n_fine = ov.n_fine;
  if (ov.chunk > 0) o.chunk = ov.chunk;
  if (ov.downscale > 0) o.downscale = ov.downscale;
  if (ov.skip > 0) o.eval_skip = ov.skip;
  if (ov.max_train_frames >= -1) o.max_train_frames = ov.max_train_frames;
  o.recalibrate = true;
  job.train = flags.train_options("nerf " + job.name);  // lr: the config's, else the task's (5e-4)
  return job;
}

}  // namespace nf::app
