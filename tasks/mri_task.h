#pragma once
// 3-D MRI reconstruction (the paper's Table 5): a field f(x, y, z) -> intensity on the D x H x W
// voxel grid is trained so that the orthonormal 3-D FFT of its volume matches the undersampled
// k-space on the sampled frequencies.
//
// Coordinates: voxel (d, h, w) -> (x, y, z) = (w, h, d) mapped linearly to [-1, 1] per axis
// (first voxel -1, last +1). Training batch: the whole grid every step (the FFT needs it), so the
// field always sees the same batch and evaluation uses that batch too.
// loss = mean over all D·H·W frequencies of |mask · (FFT(volume) - observed)|^2 (complex modulus).
//
// Metrics (evaluate): the volume clamped to [0, 1] against the ground truth in [0, 1] (data
// range 1), on the whole volume, float values (no 8-bit quantisation; psnr_8bit is the quantised
// variant):
//  - psnr: 3-D PSNR over all voxels;
//  - ssim: ssim3d = the mean of the 2-D SSIM (skimage default, 7x7 uniform window) over the D
//    slices along the first axis (z for the Colin27 files);
//  - zf_psnr, zf_ssim: the zero-filled baseline |IFFT(observed)|, clamped;
//  - kspace_mse: the final loss; sampled_fraction: the mask's mean.
// The mask is reproducible from (pattern, rate, mask_seed) — see kspace_mask in mri_data.h — and is
// also written as mask.npy (uint8, unshifted FFT order) by write_outputs.
#include <ATen/ATen.h>
#include <c10/core/Device.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "datasets/mri_data.h"
#include "datasets/npy.h"  // save_npy
#include "tasks/grid_inverse_task.h"

namespace nf {

struct MriTaskOptions {
  std::string mask = "gaussian";  // kspace_mask pattern: gaussian, random, lines
  double rate = 0.25;             // sampled fraction
  uint64_t mask_seed = 0;
  double noise = 0.0;             // complex Gaussian k-space noise std (make_mri_problem)
  nlohmann::json to_json() const;
};

// Voxel-centre coordinates [D*H*W, 3] as (x = w, y = h, z = d), each in [-1, 1].
at::Tensor volume_coordinates(int64_t D, int64_t H, int64_t W);

// Training, evaluation (the metrics above), config and preview: the whole-grid base
// (tasks/grid_inverse_task.h), with baseline() the zero-filled volume [D, H, W] (clamped to [0, 1]).
class MriTask : public GridInverseTask {
 public:
  // volume: [D, H, W] float ground truth in [0, 1]; the observation is simulated with `options`.
  MriTask(const at::Tensor& volume, MriTaskOptions options, std::string source = "");
  // comparison.png (rows: middle slices along D, H, W; columns: GT | recon | zero-filled | error),
  // reconstruction.png (the three recon slices), mask.png (centred mask slices), mask.npy
  void write_outputs(FieldImpl& field, const std::string& dir) override;
  // The training loss of a volume (no field). volume: [D, H, W] -> scalar (keeps the graph)
  at::Tensor loss_of(const at::Tensor& volume) const override;
  const at::Tensor& truth() const override { return problem_.volume; }  // [D, H, W]
  const MriProblem& problem() const { return problem_; }

 private:
  nlohmann::json settings() const override;       // options + "shape"
  nlohmann::json extra_metrics() const override;  // sampled_fraction, metric_notes
  std::vector<at::Tensor*> device_tensors() override;
  MriProblem problem_;
  MriTaskOptions options_;
};

}  // namespace nf
