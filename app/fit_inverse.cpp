// The shared subcommand of fit-ct and fit-mri: flags, then config, device, task, fit, summary.
#include "app/fit_inverse.h"

#include <cstdio>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "tasks/fit.h"

namespace nf::app {
namespace {

int run_inverse_fit(const InverseCommand& command, TrainFlags& flags, CLI::App* sub,
                    const MakeInverseTask& make_task) {
  auto cfg = flags.apply_config(sub);
  check_config_keys(cfg, command.config_keys, flags.config_path);
  auto device = flags.setup();
  check_out_dir(flags.out);  // before any data loading or training
  auto task = make_task(sub, cfg, device);
  auto field_cfg = field_config_for(flags, cfg, task->coords().size(1), 1);
  auto opts = flags.train_options(command.name + " " + flags.method);
  auto r = fit_task(*task, field_cfg, opts, device, [&](FieldImpl& f) { return task->reconstruct(f); });
  const auto& m = r.metrics;
  const auto& names = task->names();
  std::printf("%s %s: PSNR %.2f dB  SSIM %.4f  (%s baseline: PSNR %.2f dB  SSIM %.4f)\n", flags.method.c_str(),
              flags.arch.c_str(), m["psnr"].get<double>(), m["ssim"].get<double>(), names.baseline_title.c_str(),
              m[names.baseline + "_psnr"].get<double>(), m[names.baseline + "_ssim"].get<double>());
  std::printf("%s, %lld iters, %.1f ms/iter, norm mode: %s\n", command.describe(m).c_str(),
              static_cast<long long>(m["iters"].get<int64_t>()), m["ms_per_iter"].get<double>(),
              m["norm_mode"].get<std::string>().c_str());
  std::printf("outputs in %s (results.json, %s, checkpoint.pt)\n", flags.out.c_str(), names.outputs.c_str());
  return 0;
}

}  // namespace

void add_inverse_command(CLI::App& app, const InverseCommand& command, std::shared_ptr<TrainFlags> flags,
                         const AddTaskFlags& add_flags, MakeInverseTask make_task) {
  flags->set_task(command.task);
  auto* sub = app.add_subcommand(command.name, command.help);
  add_flags(sub);
  flags->add_to(sub);
  set_action(sub, [command, flags, sub, make_task = std::move(make_task)]() {
    return run_inverse_fit(command, *flags, sub, make_task);
  });
}

}  // namespace nf::app
