#include "tasks/fit.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "fields/registry.h"
#include "normfield/version.h"

namespace nf {

FitResult fit_task(Task& task, const nlohmann::json& field_config, const TrainOptions& opts,
                   const c10::Device& device, const std::function<at::Tensor(FieldImpl&)>& reconstruct,
                   const std::function<void(FieldImpl&, int64_t)>& after_step) {
  auto field = make_field(field_config);
  task.check_field(*field);
  field->to(device);
  Trainer trainer(field, task, opts);
  if (after_step) trainer.on_step = [&](const LogRecord& r) { after_step(*field, r.step); };
  trainer.run();
  FitResult r;
  r.history = trainer.history();
  const auto t_eval = std::chrono::steady_clock::now();
  r.metrics = task.evaluate(*field);
  r.metrics["eval_seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_eval).count();
  const double seconds = r.history.empty() ? 0.0 : r.history.back().seconds;
  const int64_t steps = r.history.empty() ? 0 : r.history.back().step;
  r.metrics["iters"] = trainer.step();
  r.metrics["seconds"] = seconds;
  r.metrics["ms_per_iter"] = steps > 0 ? 1000.0 * seconds / static_cast<double>(steps) : 0.0;
  r.metrics["first_loss"] = r.history.empty() ? 0.0 : r.history.front().loss;
  r.metrics["last_loss"] = r.history.empty() ? 0.0 : r.history.back().loss;
  r.metrics["device"] = device.str();
  r.metrics["field"] = field->config();
  r.metrics["task"] = task.config();
  r.metrics["train"] = opts.to_json();
  r.metrics["version"] = NORMFIELD_VERSION;
  r.metrics["git"] = NORMFIELD_GIT_REV;
  if (reconstruct) r.reconstruction = reconstruct(*field).to(at::kCPU);
  if (!opts.out_dir.empty()) {
    trainer.save(trainer.checkpoint_path());  // now with calibrated frozen statistics
    task.write_outputs(*field, opts.out_dir.string());
    r.metrics.update(task.outputs_summary());
    const auto path = opts.out_dir / "results.json";
    std::ofstream(path.string() + ".tmp") << r.metrics.dump(2) << "\n";
    std::filesystem::rename(path.string() + ".tmp", path);
  }
  return r;
}

}  // namespace nf
