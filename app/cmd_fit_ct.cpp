// normfield fit-ct: reconstruct a 2-D CT slice from its simulated parallel-beam sinogram with a
// coordinate network, and report PSNR/SSIM next to the filtered backprojection baseline.
#include <cmath>
#include <string>

#include "app/commands.h"
#include "app/fit_inverse.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/ct_data.h"
#include "fields/config.h"
#include "fields/memory_check.h"
#include "tasks/ct_task.h"

namespace nf::app {
namespace {

struct FitCt {
  TrainFlags flags;
  std::string image = "shepp_logan";
  int64_t size = 256;
  CtTaskOptions task;
};

// "32x32, 30 angles"
std::string describe_ct(const nlohmann::json& m) {
  const auto S = std::to_string(m["task"]["size"].get<long long>());
  return S + "x" + S + ", " + std::to_string(m["task"]["angles"].get<long long>()) + " angles";
}

// The task from the flags given, else the config's keys, else the defaults.
std::unique_ptr<GridInverseTask> make_ct(const FitCt& st, CLI::App* sub, const nlohmann::json& cfg,
                                         const c10::Device& device) {
  const std::string& w = st.flags.config_path;
  const int64_t size = sub->count("--size") ? st.size : cfg_get(cfg, "size", st.size, w);
  require_int_in(size, 7, kMaxInt, w + ": key 'size'");
  const std::string image = sub->count("--image") ? st.image : cfg_get(cfg, "image", st.image, w);
  CtTaskOptions topts = st.task;
  if (sub->count("--angles") == 0) topts.angles = cfg_get(cfg, "angles", topts.angles, w);
  require_int_in(topts.angles, 1, kMaxInt, w + ": key 'angles'");
  if (sub->count("--noise") == 0) topts.noise = cfg_get(cfg, "noise", topts.noise, w);
  if (!(topts.noise >= 0) || !std::isfinite(topts.noise))
    throw std::runtime_error(w + ": key 'noise': must be a finite number >= 0");
  {  // The ray grid [angles, S, S, 2] and its temporaries dominate; refuse before allocating any of it.
    const double S = static_cast<double>(size), A = static_cast<double>(topts.angles);
    require_memory(S * S * 4 * 16 + A * S * S * 4 * 8,
                   "fit-ct --size " + std::to_string(size) + " --angles " + std::to_string(topts.angles));
  }
  return std::make_unique<CtTask>(load_ct_image(image, size).to(device), topts, image);
}

// The command's own flags and the footer of its --help.
void add_ct_flags(FitCt& st, CLI::App* sub) {
  sub->footer(
      "Defaults follow the paper's CT protocol: arch 2x128, 20000 iterations, lr 5e-3 -> 5e-4 exponential "
      "for every method (unless --lr/--schedule/--lr-final/--config say otherwise).");
  sub->add_option("--image", st.image, "CT slice (8/16-bit PNG) or 'shepp_logan'")->capture_default_str();
  sub->add_option("--size", st.size, "reconstruction grid side S (the slice is fitted into S x S)")
      ->capture_default_str()
      ->check(int_in(7));  // SSIM uses 7x7 windows
  sub->add_option("--angles", st.task.angles, "projections evenly over [0, 180 deg)")->capture_default_str()->check(positive_int());
  sub->add_option("--noise", st.task.noise, "sinogram noise std, relative to max |sinogram|")
      ->capture_default_str()
      ->check(nonnegative_float());
  sub->add_option("--noise-seed", st.task.noise_seed, "seed of the sinogram noise")->capture_default_str()->check(nonnegative_int());
  sub->add_option("--coords", st.task.coords, "coordinate convention: aspect or reference")->capture_default_str();
}

// The training flags' defaults: the paper's CT protocol (Table 4, tasks/task_registry.cpp); --arch/--config
// override.
const InverseCommand kFitCt{"fit-ct", "ct", "reconstruct a CT slice from a simulated sinogram (paper Table 4)",
                            {"size", "image", "angles", "noise"}, describe_ct};

Command reg([](CLI::App& app) { add_inverse_command<FitCt>(app, kFitCt, add_ct_flags, make_ct); });

}  // namespace
}  // namespace nf::app
