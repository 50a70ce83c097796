// normfield fit-mri: reconstruct a 3-D MRI volume from undersampled k-space with a coordinate
// network, and report PSNR/SSIM next to the zero-filled baseline.
#include <cstdio>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/mri_data.h"
#include "fields/config.h"
#include "tasks/fit.h"
#include "tasks/mri_task.h"

namespace nf::app {
namespace {

struct FitMri {
  TrainFlags flags;
  std::string volume;
  int64_t downsample = 1;
  MriTaskOptions task;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<FitMri>();
  st->flags.set_task("mri");  // the paper's MRI protocol (Table 5, tasks/task_registry.cpp); --arch/--config override
  auto* sub = app.add_subcommand("fit-mri", "reconstruct a 3-D MRI volume from undersampled k-space (paper Table 5)");
  sub->add_option("--volume", st->volume, "volume .npy [D, H, W] (uint8 -> /255, else min-max)")->required();
  sub->add_option("--mask", st->task.mask, "k-space mask: gaussian, random or lines")
      ->capture_default_str()
      ->check(CLI::IsMember({"gaussian", "random", "lines"}));
  sub->add_option("--rate", st->task.rate, "sampled fraction of k-space")->capture_default_str()->check(float_in(0, 1, true));
  sub->add_option("--mask-seed", st->task.mask_seed, "seed of the mask")->capture_default_str()->check(nonnegative_int());
  sub->add_option("--downsample", st->downsample, "average-pool the volume by this factor per axis first (CPU runs)")
      ->capture_default_str()
      ->check(positive_int());
  sub->add_option("--noise", st->task.noise, "complex k-space noise std (orthonormal FFT)")->capture_default_str()->check(nonnegative_float());
  st->flags.add_to(sub);
  sub->footer(
      "Defaults follow the paper's MRI protocol: arch 2x256, 1000 iterations, lr 2e-3 constant for every "
      "method (unless --lr/--schedule/--config say otherwise). Every step forwards the whole D*H*W grid.");
  set_action(sub, [st, sub]() {
    auto cfg = st->flags.apply_config(sub);
    const std::string& w = st->flags.config_path;
    check_config_keys(cfg, {"mask", "rate", "mask_seed", "downsample"}, w);
    auto device = st->flags.setup();
    check_out_dir(st->flags.out);  // before any data loading or training
    MriTaskOptions topts = st->task;
    if (sub->count("--mask") == 0) topts.mask = cfg_get(cfg, "mask", topts.mask, w);
    if (sub->count("--rate") == 0) topts.rate = cfg_get(cfg, "rate", topts.rate, w);
    if (!(topts.rate > 0 && topts.rate <= 1)) throw std::runtime_error(w + ": key 'rate': must be in (0, 1]");
    if (sub->count("--mask-seed") == 0) topts.mask_seed = cfg_get(cfg, "mask_seed", topts.mask_seed, w);
    auto vol = load_mri(st->volume);
    const int64_t ds = sub->count("--downsample") ? st->downsample : cfg_get(cfg, "downsample", st->downsample, w);
    require_int_in(ds, 1, kMaxInt, w + ": key 'downsample'");
    if (ds > 1) {
      if (vol.size(0) % ds || vol.size(1) % ds || vol.size(2) % ds)
        throw std::runtime_error(st->volume + ": --downsample " + std::to_string(ds) + " does not divide the volume size");
      vol = at::avg_pool3d(vol.unsqueeze(0).unsqueeze(0), {ds, ds, ds}).squeeze(0).squeeze(0).contiguous();
    }
    const std::string source = ds > 1 ? st->volume + " (downsampled " + std::to_string(ds) + "x)" : st->volume;
    MriTask task(vol.to(device), topts, source);
    auto field_cfg = field_config_for(st->flags, cfg, 3, 1);
    auto opts = st->flags.train_options("fit-mri " + st->flags.method);
    auto r = fit_task(task, field_cfg, opts, device, [&](FieldImpl& f) { return task.reconstruct(f); });
    const auto& m = r.metrics;
    std::printf("%s %s: PSNR %.2f dB  SSIM %.4f  (zero-filled baseline: PSNR %.2f dB  SSIM %.4f)\n",
                st->flags.method.c_str(), st->flags.arch.c_str(), m["psnr"].get<double>(), m["ssim"].get<double>(),
                m["zf_psnr"].get<double>(), m["zf_ssim"].get<double>());
    std::printf("%lldx%lldx%lld, mask %s rate %.3f seed %llu (sampled %.3f), %lld iters, %.1f ms/iter, norm mode: %s\n",
                static_cast<long long>(vol.size(0)), static_cast<long long>(vol.size(1)),
                static_cast<long long>(vol.size(2)), topts.mask.c_str(), topts.rate,
                static_cast<unsigned long long>(topts.mask_seed), m["sampled_fraction"].get<double>(),
                static_cast<long long>(m["iters"].get<int64_t>()), m["ms_per_iter"].get<double>(),
                m["norm_mode"].get<std::string>().c_str());
    std::printf("outputs in %s (results.json, comparison.png, reconstruction.png, mask.png, mask.npy, checkpoint.pt)\n",
                st->flags.out.c_str());
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
