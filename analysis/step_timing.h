#pragma once
// Timing of one full training step of a field (forward, MSE loss, backward, Adam step), for
// comparing normalization implementations (reference vs fused, see fields/norm_fused.h).
// Not used by tests (no timed tests); the `normfield bench-step` CLI command reports these.
// The timed loop is its own, not the shared Trainer (tasks/trainer.h): it measures the bare step,
// and the Trainer adds per-step work (the loss read back to the host, a divergence check, the lr
// schedule, progress and metrics) that would be timed with it; analysis/ also sits below tasks/.
#include <ATen/ATen.h>

#include <string>

#include "fields/field.h"

namespace nf {

struct StepTiming {
  std::string method;      // what was timed, e.g. "relu+cn (fused)"
  double ms_per_iter = 0;  // mean wall-clock milliseconds of one train step
  double cpu_ms_per_iter = 0;  // process CPU time (all threads) per step: steadier on a busy host
  int iters = 0;           // timed steps
  int warmup = 0;          // untimed steps before them
  int64_t points = 0;      // batch size N
  std::string device;      // "cpu" or "cuda"
};

// Mean wall-clock ms of one Adam train step of `field` on the full batch x -> y: zero_grad,
// forward, MSE loss, backward, optimizer step. `warmup` untimed steps run first. On CUDA the device
// is synchronised before the clock starts and after the last step. The field's parameters are
// updated (it trains); its norm layers stay in whatever mode they are in.
// x: [N, in_dim], y: [N, out_dim] (same device and dtype as the field's parameters).
double time_train_step(Field field, const at::Tensor& x, const at::Tensor& y, int iters, int warmup,
                       double lr = 1e-3);

// time_train_step wrapped into a StepTiming labelled `method`.
StepTiming measure_train_step(const std::string& method, Field field, const at::Tensor& x,
                              const at::Tensor& y, int iters, int warmup, double lr = 1e-3);

}  // namespace nf
