// normfield fit-mri: reconstruct a 3-D MRI volume from undersampled k-space with a coordinate
// network, and report PSNR/SSIM next to the zero-filled baseline.
#include <cstdio>
#include <string>

#include "app/commands.h"
#include "app/fit_inverse.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/mri_data.h"
#include "fields/config.h"
#include "tasks/mri_task.h"

namespace nf::app {
namespace {

struct FitMri {
  TrainFlags flags;
  std::string volume;
  int64_t downsample = 1;
  MriTaskOptions task;
};

// "24x24x24, mask gaussian rate 0.300 seed 0 (sampled 0.300)"
std::string describe_mri(const nlohmann::json& m) {
  const auto& t = m["task"];
  const auto& s = t["shape"];
  char line[512];
  std::snprintf(line, sizeof line, "%lldx%lldx%lld, mask %s rate %.3f seed %llu (sampled %.3f)",
                s[0].get<long long>(), s[1].get<long long>(), s[2].get<long long>(),
                t["mask"].get<std::string>().c_str(), t["rate"].get<double>(),
                t["mask_seed"].get<unsigned long long>(), m["sampled_fraction"].get<double>());
  return line;
}

// The task from the flags given, else the config's keys, else the defaults.
std::unique_ptr<GridInverseTask> make_mri(const FitMri& st, CLI::App* sub, const nlohmann::json& cfg,
                                          const c10::Device& device) {
  const std::string& w = st.flags.config_path;
  MriTaskOptions topts = st.task;
  if (sub->count("--mask") == 0) topts.mask = cfg_get(cfg, "mask", topts.mask, w);
  if (sub->count("--rate") == 0) topts.rate = cfg_get(cfg, "rate", topts.rate, w);
  if (!(topts.rate > 0 && topts.rate <= 1)) throw std::runtime_error(w + ": key 'rate': must be in (0, 1]");
  if (sub->count("--mask-seed") == 0) topts.mask_seed = cfg_get(cfg, "mask_seed", topts.mask_seed, w);
  auto vol = load_mri(st.volume);
  const int64_t ds = sub->count("--downsample") ? st.downsample : cfg_get(cfg, "downsample", st.downsample, w);
  require_int_in(ds, 1, kMaxInt, w + ": key 'downsample'");
  if (ds > 1) {
    if (vol.size(0) % ds || vol.size(1) % ds || vol.size(2) % ds)
      throw std::runtime_error(st.volume + ": --downsample " + std::to_string(ds) + " does not divide the volume size");
    vol = at::avg_pool3d(vol.unsqueeze(0).unsqueeze(0), {ds, ds, ds}).squeeze(0).squeeze(0).contiguous();
  }
  const std::string source = ds > 1 ? st.volume + " (downsampled " + std::to_string(ds) + "x)" : st.volume;
  return std::make_unique<MriTask>(vol.to(device), topts, source);
}

// The command's own flags and the footer of its --help.
void add_mri_flags(FitMri& st, CLI::App* sub) {
  sub->footer(
      "Defaults follow the paper's MRI protocol: arch 2x256, 1000 iterations, lr 2e-3 constant for every "
      "method (unless --lr/--schedule/--config say otherwise). Every step forwards the whole D*H*W grid.");
  sub->add_option("--volume", st.volume, "volume .npy [D, H, W] (uint8 -> /255, else min-max)")->required();
  sub->add_option("--mask", st.task.mask, "k-space mask: gaussian, random or lines")
      ->capture_default_str()
      ->check(CLI::IsMember({"gaussian", "random", "lines"}));
  sub->add_option("--rate", st.task.rate, "sampled fraction of k-space")->capture_default_str()->check(float_in(0, 1, true));
  sub->add_option("--mask-seed", st.task.mask_seed, "seed of the mask")->capture_default_str()->check(nonnegative_int());
  sub->add_option("--downsample", st.downsample, "average-pool the volume by this factor per axis first (CPU runs)")
      ->capture_default_str()
      ->check(positive_int());
  sub->add_option("--noise", st.task.noise, "complex k-space noise std (orthonormal FFT)")->capture_default_str()->check(nonnegative_float());
}

// The training flags' defaults: the paper's MRI protocol (Table 5, tasks/task_registry.cpp); --arch/--config
// override.
const InverseCommand kFitMri{"fit-mri", "mri",
                             "reconstruct a 3-D MRI volume from undersampled k-space (paper Table 5)",
                             {"mask", "rate", "mask_seed", "downsample"}, describe_mri};

Command reg([](CLI::App& app) { add_inverse_command<FitMri>(app, kFitMri, add_mri_flags, make_mri); });

}  // namespace
}  // namespace nf::app
