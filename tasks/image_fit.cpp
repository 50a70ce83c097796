#include "tasks/image_fit.h"

#include <fstream>

#include "fields/registry.h"
#include "normfield/version.h"

namespace nf {

ImageFitResult fit_image(const at::Tensor& image, const nlohmann::json& field_config, const TrainOptions& opts,
                         const ImageTaskOptions& task_opts, const c10::Device& device, const std::string& source) {
  auto field = make_field(field_config);
  field->to(device);
  ImageTask task(image.to(device), task_opts, source);
  Trainer trainer(field, task, opts);
  trainer.run();
  ImageFitResult r;
  r.history = trainer.history();
  r.metrics = task.evaluate(*field);
  const double seconds = r.history.empty() ? 0.0 : r.history.back().seconds;
  r.metrics["iters"] = trainer.step();
  r.metrics["seconds"] = seconds;
  r.metrics["ms_per_iter"] = r.history.empty() ? 0.0 : 1000.0 * seconds / r.history.back().step;
  r.metrics["device"] = device.str();
  r.metrics["field"] = field->config();
  r.metrics["task"] = task.config();
  r.metrics["version"] = NORMFIELD_VERSION;
  r.metrics["git"] = NORMFIELD_GIT_REV;
  r.reconstruction = task.reconstruct(*field).to(at::kCPU);
  if (!opts.out_dir.empty()) {
    trainer.save(trainer.checkpoint_path());  // now with calibrated frozen statistics
    task.write_outputs(*field, opts.out_dir.string());
    const auto path = opts.out_dir / "results.json";
    std::ofstream(path.string() + ".tmp") << r.metrics.dump(2) << "\n";
    std::filesystem::rename(path.string() + ".tmp", path);
  }
  return r;
}

}  // namespace nf
