#include "analysis/step_timing.h"

#include <torch/cuda.h>
#include <torch/optim/adam.h>

#include <chrono>
#include <ctime>
#include <stdexcept>

namespace nf {
namespace {
void sync(const at::Tensor& t) {
  if (t.is_cuda()) torch::cuda::synchronize();
}

double cpu_ms() { return 1e3 * static_cast<double>(std::clock()) / CLOCKS_PER_SEC; }

struct Times {
  double wall_ms, cpu_ms;
};

Times time_steps(Field field, const at::Tensor& x, const at::Tensor& y, int iters, int warmup, double lr) {
  if (!field) throw std::runtime_error("analysis/step_timing.cpp: time_train_step: field is null");
  if (iters < 1) throw std::runtime_error("analysis/step_timing.cpp: time_train_step: iters must be >= 1");
  TORCH_CHECK(x.dim() == 2 && y.dim() == 2 && x.size(0) == y.size(0),
              "time_train_step: expects x [N, in] and y [N, out], got ", x.sizes(), " and ", y.sizes());
  field->train();
  torch::optim::Adam opt(field->parameters(), torch::optim::AdamOptions(lr));
  auto step = [&] {
    opt.zero_grad();
    auto loss = at::mse_loss(field->forward(x), y);
    loss.backward();
    opt.step();
  };
  for (int i = 0; i < warmup; ++i) step();
  sync(x);
  const double c0 = cpu_ms();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < iters; ++i) step();
  sync(x);
  const auto t1 = std::chrono::steady_clock::now();
  const double c1 = cpu_ms();
  return {std::chrono::duration<double, std::milli>(t1 - t0).count() / iters, (c1 - c0) / iters};
}
}  // namespace

double time_train_step(Field field, const at::Tensor& x, const at::Tensor& y, int iters, int warmup,
                       double lr) {
  return time_steps(std::move(field), x, y, iters, warmup, lr).wall_ms;
}

StepTiming measure_train_step(const std::string& method, Field field, const at::Tensor& x,
                              const at::Tensor& y, int iters, int warmup, double lr) {
  StepTiming t;
  t.method = method;
  t.iters = iters;
  t.warmup = warmup;
  t.points = x.size(0);
  t.device = x.is_cuda() ? "cuda" : "cpu";
  const Times tm = time_steps(std::move(field), x, y, iters, warmup, lr);
  t.ms_per_iter = tm.wall_ms;
  t.cpu_ms_per_iter = tm.cpu_ms;
  return t;
}

}  // namespace nf
