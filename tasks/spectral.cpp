#include "tasks/spectral.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <stdexcept>

#include "fields/registry.h"
#include "tasks/task_registry.h"
#include "tasks/trainer.h"

namespace nf {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Field build(const std::string& method, const SpectralTarget& t, int64_t layers, int64_t width, uint64_t seed,
            nlohmann::json* cfg_out) {
  auto cfg = method_config(method, t.coords.size(1), t.values.size(1), layers, width);
  at::manual_seed(seed);
  auto f = make_field(cfg);
  if (cfg_out) *cfg_out = cfg;
  return f;
}

// The training signal of a spectral fit: MSE on the whole target every step (no randomness).
class FullBatchFit : public Task {
 public:
  explicit FullBatchFit(const SpectralTarget& target) : target_(target) {}
  std::string name() const override { return "spectral-fit"; }
  StepResult step(FieldImpl& field, int64_t) override {
    return {(field.forward(target_.coords) - target_.values).pow(2).mean(), {}};
  }
  nlohmann::json evaluate(FieldImpl&) override { return nlohmann::json::object(); }
  nlohmann::json config() const override { return {{"target", target_.name}}; }

 private:
  const SpectralTarget& target_;
};

// Adam at a constant lr, nothing written. No explosion check (explode_factor 0): a run whose loss
// grows but stays finite continues, as the analyses always did; a non-finite loss still stops it.
TrainOptions spectral_train_options(int64_t iters, double lr, bool progress, const std::string& label) {
  TrainOptions t;
  t.iters = iters;
  t.lr.lr = lr;
  t.explode_factor = 0;
  t.checkpoint_minutes = 0;
  t.log_every = std::max<int64_t>(iters / 10, 1);
  t.progress = progress;
  t.label = label;
  return t;
}

}  // namespace

double default_lr(const std::string& method) { return paper_default_lr(method); }

std::vector<int64_t> SpectrumFitResult::converged_at(double threshold) const {
  const size_t nb = band_error.empty() ? 0 : band_error.front().size();
  std::vector<int64_t> out(nb, -1);
  for (size_t b = 0; b < nb; ++b) {
    for (size_t r = band_error.size(); r-- > 0;) {
      const double e = band_error[r][b];
      if (!(e < threshold)) break;
      out[b] = iterations[r];
    }
  }
  return out;
}

nlohmann::json SpectrumFitResult::to_json(double threshold) const {
  return {{"method", method},
          {"lr", lr},
          {"field", field_config},
          {"seconds", seconds},
          {"final_loss", loss.empty() ? -1.0 : loss.back()},
          {"final_band_error", band_error.empty() ? std::vector<double>{} : band_error.back()},
          {"converged_threshold", threshold},
          {"converged_at", converged_at(threshold)}};
}

SpectrumFitResult fit_spectrum(const std::string& method, const SpectralTarget& target,
                               const SpectrumFitOptions& o) {
  SpectrumFitResult r;
  r.method = method;
  auto field = build(method, target, o.layers, o.width, o.seed, &r.field_config);
  r.lr = o.lr > 0 ? o.lr : default_lr(method);
  FullBatchFit task(target);
  Trainer trainer(field, task, spectral_train_options(o.iters, r.lr, o.progress, method));
  const auto t0 = std::chrono::steady_clock::now();
  auto record = [&](int64_t step, double loss) {
    r.iterations.push_back(step);
    r.loss.push_back(loss);
    r.band_error.push_back(target_band_errors(*field, target));
  };
  {
    at::NoGradGuard ng;
    record(0, (field->forward(target.coords) - target.values).pow(2).mean().item<double>());
  }
  // After optimizer step s: the loss of step s and the band error of the updated weights.
  trainer.on_step = [&](const LogRecord& rec) {
    if (rec.step % o.every == 0 || rec.step == o.iters) record(rec.step, rec.loss);
  };
  try {
    trainer.run();
  } catch (const TrainingDiverged& e) {
    throw std::runtime_error("spectrum: " + method + ": " + e.what());
  }
  r.seconds = seconds_since(t0);
  return r;
}

NtkRunResult run_ntk(const std::string& method, const SpectralTarget& target, const NtkRunOptions& o) {
  NtkRunResult r;
  r.method = method;
  r.seed = o.seed;
  auto field = build(method, target, o.layers, o.width, o.seed, &r.field_config);
  r.params = field->num_parameters();
  if (o.train_steps > 0) {
    FullBatchFit task(target);
    Trainer trainer(field, task,
                    spectral_train_options(o.train_steps, o.lr > 0 ? o.lr : default_lr(method), false, method));
    trainer.run();
    r.final_loss = trainer.last_loss();
  }
  const auto t0 = std::chrono::steady_clock::now();
  r.stats = ntk_statistics(empirical_ntk(*field, target.coords, o.double_precision));
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace nf
