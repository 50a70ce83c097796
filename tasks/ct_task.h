#pragma once
// 2-D CT reconstruction (the paper's Table 4): a field f(x, y) -> density on the S x S pixel grid is
// trained so that the parallel-beam Radon transform of its image matches the observed sinogram.
//
// Forward model: image = support · f(coords) reshaped to [S, S], where coords are the pixel centres
// under image_coordinates(S, S, coords) (default "aspect": both axes span [-1, 1]) and support is
// the inscribed disc (radon.h assumes zero outside it; the ground truth is zero there, see
// ct_data.h). loss = mean over [A, S] of (radon(image) - sinogram)^2, with the ray grid built once.
//
// Metrics (evaluate): the reconstruction (support applied) clamped to [0, 1] against the ground
// truth in [0, 1] (data range 1) on the whole S x S image:
//  - psnr, ssim: on the raw float values (NO 8-bit quantisation: CT slices are 16-bit), SSIM as
//    skimage's default (7x7 uniform window);
//  - psnr_8bit: the same after 8-bit quantisation (image_metrics.h), for comparison;
//  - fbp_psnr, fbp_ssim: the filtered backprojection baseline (Ram-Lak, support applied, clamped);
//  - sinogram_mse: the final loss.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "datasets/ct_data.h"
#include "tasks/grid_inverse_task.h"

namespace nf {

struct CtTaskOptions {
  int64_t angles = 100;      // projections evenly over [0, 180°)
  double noise = 0.0;        // Gaussian sinogram noise, std relative to max |sinogram| (ct_data.h)
  uint64_t noise_seed = 0;   // CPU generator seed of that noise
  std::string coords = "aspect";  // image_coordinates convention
  bool support = true;       // multiply the field image by the inscribed disc
  nlohmann::json to_json() const;
};

// Training, evaluation (the metrics above), config and preview: the whole-grid base
// (tasks/grid_inverse_task.h), with baseline() the FBP image [S, S] (support applied, clamped).
class CtTask : public GridInverseTask {
 public:
  // image: [S, S] float ground truth in [0, 1] (zero outside the inscribed disc, as load_ct_image
  // returns it); the sinogram is simulated from it with `options`.
  CtTask(const at::Tensor& image, CtTaskOptions options, std::string source = "");
  // reconstruction.png, comparison.png (GT | recon | FBP | error), sinogram.png (observed |
  // predicted | |residual|, each row one angle)
  void write_outputs(FieldImpl& field, const std::string& dir) override;
  // The training loss of an image (no field): mean (radon(support · image) - sinogram)^2.
  // image: [S, S] -> scalar (keeps the graph)
  at::Tensor loss_of(const at::Tensor& image) const override;
  const at::Tensor& truth() const override { return problem_.image; }  // [S, S]
  const CtProblem& problem() const { return problem_; }

 private:
  at::Tensor to_signal(const at::Tensor& out) const override;  // [S*S, 1] -> [S, S], support applied
  nlohmann::json settings() const override;                    // options + "size"
  nlohmann::json extra_metrics() const override;               // metric_notes
  std::vector<at::Tensor*> device_tensors() override;
  CtProblem problem_;
  CtTaskOptions options_;
  at::Tensor support_;  // [S, S] {0, 1}
  at::Tensor grid_;     // [1, A*S, n_t, 2] radon_grid
};

}  // namespace nf
