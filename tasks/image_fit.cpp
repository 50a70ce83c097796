#include "tasks/image_fit.h"

#include "tasks/fit.h"

namespace nf {

ImageFitResult fit_image(const at::Tensor& image, const nlohmann::json& field_config, const TrainOptions& opts,
                         const ImageTaskOptions& task_opts, const c10::Device& device, const std::string& source) {
  // The generic train -> evaluate -> save driver (tasks/fit.h) with the image task.
  ImageTask task(image.to(device), task_opts, source);
  auto r = fit_task(task, field_config, opts, device, [&task](FieldImpl& f) { return task.reconstruct(f); });
  return ImageFitResult{std::move(r.metrics), std::move(r.reconstruction), std::move(r.history)};
}

}  // namespace nf
