// The shared run of fit-ct and fit-mri: config, device, task, fit, summary.
#include "app/fit_inverse.h"

#include <cstdio>

#include "app/flag_checks.h"
#include "tasks/fit.h"

namespace nf::app {

int run_inverse_fit(const InverseFit& fit, TrainFlags& flags, CLI::App* sub,
                    const std::vector<std::string>& config_keys, const MakeInverseTask& make_task) {
  auto cfg = flags.apply_config(sub);
  check_config_keys(cfg, config_keys, flags.config_path);
  auto device = flags.setup();
  check_out_dir(flags.out);  // before any data loading or training
  auto task = make_task(cfg, device);
  auto field_cfg = field_config_for(flags, cfg, task->coords().size(1), 1);
  auto opts = flags.train_options(fit.command + " " + flags.method);
  auto r = fit_task(*task, field_cfg, opts, device, [&](FieldImpl& f) { return task->reconstruct(f); });
  const auto& m = r.metrics;
  std::printf("%s %s: PSNR %.2f dB  SSIM %.4f  (%s baseline: PSNR %.2f dB  SSIM %.4f)\n", flags.method.c_str(),
              flags.arch.c_str(), m["psnr"].get<double>(), m["ssim"].get<double>(), fit.baseline.c_str(),
              m[fit.baseline_key + "_psnr"].get<double>(), m[fit.baseline_key + "_ssim"].get<double>());
  std::printf("%s, %lld iters, %.1f ms/iter, norm mode: %s\n", fit.describe(m).c_str(),
              static_cast<long long>(m["iters"].get<int64_t>()), m["ms_per_iter"].get<double>(),
              m["norm_mode"].get<std::string>().c_str());
  std::printf("outputs in %s (results.json, %s, checkpoint.pt)\n", flags.out.c_str(), fit.outputs.c_str());
  return 0;
}

}  // namespace nf::app
