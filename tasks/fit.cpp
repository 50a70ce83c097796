#include "tasks/fit.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "fields/file_io.h"
#include "fields/memory_check.h"
#include "fields/registry.h"
#include "tasks/build_info.h"

namespace nf {

void check_out_dir(const std::filesystem::path& dir, const std::string& flag) {
  namespace fs = std::filesystem;
  if (dir.empty()) return;
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec))
    throw std::runtime_error(flag + " " + dir.string() + ": exists and is not a folder");
  fs::create_directories(dir, ec);
  if (ec) throw std::runtime_error(flag + " " + dir.string() + ": cannot create the folder (" + ec.message() + ")");
  const fs::path probe = dir / ".normfield-write-test";
  try {
    write_file_atomic(probe, "ok\n");
  } catch (const std::exception& e) {
    throw std::runtime_error(flag + " " + dir.string() + ": not writable (" + e.what() + ")");
  }
  fs::remove(probe, ec);
}

FitResult fit_task(Task& task, const nlohmann::json& field_config, const TrainOptions& opts,
                   const c10::Device& device, const std::function<at::Tensor(FieldImpl&)>& reconstruct,
                   const std::function<void(FieldImpl&, int64_t)>& after_step) {
  check_out_dir(opts.out_dir, "output folder");
  check_field_size(field_config, static_cast<double>(task.points_per_step()),
                   "field " + (field_config.is_object() && field_config.contains("type") && field_config["type"].is_string()
                                   ? field_config["type"].get<std::string>()
                                   : std::string("?")) +
                       " (" + field_config.dump() + ")");
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
  // Across resumes: the trainer keeps the run's first loss and time in the checkpoint.
  const double seconds = trainer.seconds();
  const int64_t steps = trainer.step();
  r.metrics["iters"] = trainer.step();
  r.metrics["seconds"] = seconds;
  r.metrics["ms_per_iter"] = steps > 0 ? 1000.0 * seconds / static_cast<double>(steps) : 0.0;
  r.metrics["first_loss"] = trainer.first_loss();
  r.metrics["last_loss"] = trainer.last_loss();
  r.metrics["device"] = device.str();
  r.metrics["field"] = field->config();
  r.metrics["task"] = task.config();
  r.metrics["train"] = opts.to_json();
  r.metrics["version"] = normfield_version();
  r.metrics["git"] = git_revision();
  if (reconstruct) r.reconstruction = reconstruct(*field).to(at::kCPU);
  if (!opts.out_dir.empty()) {
    trainer.save(trainer.checkpoint_path());  // now with calibrated frozen statistics
    task.write_outputs(*field, opts.out_dir.string());
    r.metrics.update(task.outputs_summary());
    const auto path = opts.out_dir / "results.json";
    write_file_atomic(path, r.metrics.dump(2) + "\n");
  }
  return r;
}

}  // namespace nf
