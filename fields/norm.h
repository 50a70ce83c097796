#pragma once
// Normalization layers for coordinate networks: BN, LN, GN, CN (Cai et al.), as one LibTorch module
// (Options + Impl + TORCH_MODULE). Input is a batch of pre-activations [T, C].
//
// Two inference modes:
//  - NormMode::Batch  : statistics of the current batch (the reference behaviour; training).
//  - NormMode::Frozen : batch-dimension statistics fixed (BN: channel mean/var; GN: global mean/var;
//                       CN: column mean/var and the reference batch size T); per-sample statistics
//                       stay live. Each output row then depends only on its own input row, so any
//                       chunking of an evaluation gives the same result.
// Frozen statistics come from a running estimate (EMA while training, `momentum`) or from an exact
// calibration pass (begin_calibration / forward in batch mode / end_calibration). They are module
// buffers, hence saved in checkpoints.
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <string>
#include <vector>

namespace nf {

enum class NormKind { None, Batch, Layer, Global, Cross };
enum class NormMode { Batch, Frozen };

// "none", "bn", "ln", "gn", "cn" (also "batch", "layer", "global", "cross").
NormKind norm_kind_from_string(const std::string& s);
std::string to_string(NormKind k);
std::string to_string(NormMode m);
NormMode norm_mode_from_string(const std::string& s);
const std::vector<std::string>& norm_kind_names();

struct NormOptions {
  NormOptions(NormKind kind, int64_t channels) : kind_(kind), channels_(channels) {}
  TORCH_ARG(NormKind, kind);
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(double, eps) = 1e-5;
  // EMA factor of the running estimate of frozen statistics during training; 0 disables it.
  TORCH_ARG(double, momentum) = 0.1;
  TORCH_ARG(bool, affine) = true;
  TORCH_ARG(NormMode, mode) = NormMode::Batch;
  // CN and GN use the fused kernels (fields/norm_fused.h) for float/double input; false: the
  // reference formulas (fields/norm_reference.h). Same results either way.
  TORCH_ARG(bool, fused) = true;
};

class NormImpl : public torch::nn::Cloneable<NormImpl> {
 public:
  explicit NormImpl(const NormOptions& options);
  void reset() override;
  void pretty_print(std::ostream& stream) const override;

  // x: [T, C] -> [T, C]
  torch::Tensor forward(const torch::Tensor& x);
  // relu(forward(x)); CN with the fused kernels applies the ReLU in its output pass (and masks its
  // backward) instead of a pass of its own. x: [T, C] -> [T, C]
  torch::Tensor forward_relu(const torch::Tensor& x);

  NormMode mode() const { return options.mode(); }
  void set_mode(NormMode m);
  // Frozen statistics are usable (set by a running estimate or a calibration).
  bool has_frozen_stats() const;

  // Exact calibration: statistics of every batch seen between begin and end are pooled (sums in
  // double), the reference batch size T is the pooled count. Calibrating on one batch makes frozen
  // mode reproduce batch mode on that batch exactly.
  void begin_calibration();
  void end_calibration();
  bool calibrating() const { return calibrating_; }

  // Per-point evaluation of the batch-mode field (x-derivatives without the coupling through the
  // batch statistics, e.g. NeuS normals and eikonal term). While keep_batch_stats(true), every
  // batch-mode forward also keeps its batch-dimension statistics in kept_mean / kept_var /
  // kept_count (same definitions as the frozen buffers: BN column mean and biased variance; GN mean
  // and unbiased variance [1]; CN column mean, unbiased variance and T). They are computed with
  // differentiable ops, so they keep their graph to whatever produced that batch (the weights).
  // forward_kept(x) applies the frozen formula with them (reference ops, differentiable to any order
  // in x, the affine parameters and the kept statistics); on the batch that produced them it equals
  // forward(x). LN and none: forward(x).
  void keep_batch_stats(bool on) { keep_ = on; }
  torch::Tensor forward_kept(const torch::Tensor& x);  // [T', C] -> [T', C]
  torch::Tensor kept_mean, kept_var;  // BN/CN [C], GN [1]; undefined until a batch was kept
  double kept_count = 0;

  NormOptions options;
  torch::Tensor weight;  // [C] (affine gamma, init 1)
  torch::Tensor bias;    // [C] (affine beta, init 0)
  // Frozen statistics (buffers): BN [C] mean, [C] biased var; GN [1] mean, [1] unbiased var;
  // CN [C] column mean, [C] unbiased column var. count: [1] reference batch size; 0 = unset.
  torch::Tensor frozen_mean;
  torch::Tensor frozen_var;
  torch::Tensor frozen_count;

 private:
  bool observing() const;  // a running estimate or a calibration wants this batch's statistics
  // Running estimate / calibration accumulation from x; batch_stats [2, C] or [2] (mean, variance as
  // the fused forward computed them), when defined, saves the running estimate its own pass.
  void observe(const torch::Tensor& x, const torch::Tensor& batch_stats = {});
  void keep(const torch::Tensor& x);  // kept_* from the batch x (see keep_batch_stats)
  bool calibrating_ = false;
  bool keep_ = false;
  torch::Tensor acc_sum_, acc_sumsq_;    // double accumulators
  double acc_count_ = 0;
  double acc_rows_ = 0;
};
TORCH_MODULE(Norm);

}  // namespace nf
