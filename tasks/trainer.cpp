#include "tasks/trainer.h"

#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>

#include "tasks/checkpoint.h"
#include "tasks/progress.h"

namespace nf {

nlohmann::json TrainOptions::to_json() const {
  return {{"iters", iters}, {"lr", lr.to_json()}, {"adam_eps", adam_eps}, {"log_every", log_every},
          {"checkpoint_every", checkpoint_every}};
}

Trainer::Trainer(Field field, Task& task, TrainOptions options)
    : field_(std::move(field)), task_(task), options_(std::move(options)) {
  optimizer_ = std::make_unique<torch::optim::Adam>(
      field_->parameters(), torch::optim::AdamOptions(options_.lr.lr).eps(options_.adam_eps));
}

void Trainer::save(const std::filesystem::path& path) {
  CheckpointMeta meta{step_, field_->config(), task_.config(), options_.to_json()};
  meta.train_config["seconds"] = seconds_;
  save_checkpoint(path, *field_, optimizer_.get(), meta);
}

void Trainer::load(const std::filesystem::path& path) {
  auto meta = read_checkpoint_meta(path);
  if (meta.field_config != field_->config())
    throw std::runtime_error(path.string() + ": checkpoint field config differs from this run's (" +
                             meta.field_config.dump() + ")");
  load_checkpoint(path, *field_, optimizer_.get());
  step_ = meta.step;
  seconds_ = meta.train_config.value("seconds", 0.0);
}

void Trainer::append_metrics(const LogRecord& r) {
  if (options_.out_dir.empty()) return;
  std::filesystem::create_directories(options_.out_dir);
  std::ofstream out(options_.out_dir / "metrics.jsonl", std::ios::app);
  nlohmann::json j{{"step", r.step}, {"loss", r.loss}, {"lr", r.lr}, {"seconds", r.seconds}};
  for (const auto& [k, v] : r.metrics) j[k] = v;
  out << j.dump() << "\n";
}

void Trainer::set_lr(double lr) {
  if (!(lr > 0)) throw std::invalid_argument("Trainer::set_lr: learning rate must be > 0, got " + std::to_string(lr));
  options_.lr.lr = lr;
}

LogRecord Trainer::do_step() {
  const auto t0 = std::chrono::steady_clock::now();
  const double lr = options_.lr.at(step_, options_.iters);
  for (auto& g : optimizer_->param_groups()) static_cast<torch::optim::AdamOptions&>(g.options()).lr(lr);
  field_->train();
  optimizer_->zero_grad();
  auto res = task_.step(*field_, step_);
  const double loss = res.loss.item<double>();
  if (!std::isfinite(loss)) {
    throw TrainingDiverged("training diverged at step " + std::to_string(step_ + 1) + ": loss is " +
                           std::to_string(loss) + " (lr " + std::to_string(lr) + ", field " +
                           field_->config().dump() + ")");
  }
  res.loss.backward();
  optimizer_->step();
  ++step_;
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return LogRecord{step_, loss, lr, seconds_, res.metrics};
}

void Trainer::run_steps(int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    auto r = do_step();
    history_.push_back(r);
    if (on_step) on_step(r);
  }
}

const std::vector<LogRecord>& Trainer::run() {
  if (options_.resume && !options_.out_dir.empty() && std::filesystem::exists(checkpoint_path())) {
    load(checkpoint_path());
    std::cout << options_.label << ": resumed from " << checkpoint_path().string() << " at step " << step_ << "\n";
  }
  if (!options_.out_dir.empty() && !options_.resume) std::filesystem::remove(options_.out_dir / "metrics.jsonl");
  Progress progress(options_.label, options_.iters, options_.log_every, options_.progress);
  while (step_ < options_.iters) {
    auto r = do_step();
    history_.push_back(r);
    if (on_step) on_step(r);
    progress.update(step_, r.loss, r.metrics);
    if (step_ % std::max<int64_t>(1, options_.log_every) == 0 || step_ == options_.iters) append_metrics(r);
    if (!options_.out_dir.empty() && options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0)
      save(checkpoint_path());
  }
  progress.finish();
  if (!options_.out_dir.empty()) save(checkpoint_path());
  return history_;
}

}  // namespace nf
