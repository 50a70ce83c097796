#include "tasks/trainer.h"

#include <csignal>
#include <atomic>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <sstream>

#include "fields/file_io.h"
#include "tasks/checkpoint.h"
#include "tasks/progress.h"

namespace nf {

namespace {

// SIGINT/SIGTERM while Trainer::run() is active: remember the signal, let the loop save and stop.
volatile std::sig_atomic_t g_signal = 0;
void on_signal(int sig) { g_signal = sig; }

class SignalGuard {
 public:
  SignalGuard() {
    g_signal = 0;
    old_int_ = std::signal(SIGINT, on_signal);
    old_term_ = std::signal(SIGTERM, on_signal);
  }
  ~SignalGuard() {
    std::signal(SIGINT, old_int_ == SIG_ERR ? SIG_DFL : old_int_);
    std::signal(SIGTERM, old_term_ == SIG_ERR ? SIG_DFL : old_term_);
  }

 private:
  void (*old_int_)(int);
  void (*old_term_)(int);
};

std::string num(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Settings that may change between an interrupted run and its resume: how long to train, how
// often to log/save, and evaluation-only options.
bool may_change_on_resume(const std::string& key) {
  static const char* const kFree[] = {"iters", "log_every", "checkpoint_every", "checkpoint_minutes", "explode_factor",
                                      "seconds", "first_loss", "last_loss", "chunk", "eval_split", "eval_max_views",
                                      "eval_skip", "recalibrate", "resolution", "threshold", "block", "gt_check"};
  for (const char* k : kFree)
    if (key == k) return true;
  return false;
}

// First key (in `now`) whose value differs from `saved`; "" when none.
std::string first_difference(const nlohmann::json& saved, const nlohmann::json& now) {
  if (!saved.is_object() || !now.is_object()) return saved == now ? "" : "(all)";
  for (const auto& [k, v] : now.items()) {
    if (may_change_on_resume(k)) continue;
    if (!saved.contains(k) || saved.at(k) != v) return k;
  }
  for (const auto& [k, v] : saved.items())
    if (!may_change_on_resume(k) && !now.contains(k)) return k;
  return "";
}

std::string short_dump(const nlohmann::json& j) {
  std::string s = j.dump();
  return s.size() > 80 ? s.substr(0, 80) + "..." : s;
}

}  // namespace

nlohmann::json TrainOptions::to_json() const {
  return {{"iters", iters}, {"lr", lr.to_json()}, {"adam_eps", adam_eps}, {"log_every", log_every},
          {"checkpoint_every", checkpoint_every}};
}

Trainer::Trainer(Field field, Task& task, TrainOptions options)
    : field_(std::move(field)), task_(task), options_(std::move(options)) {
  optimizer_ = std::make_unique<torch::optim::Adam>(
      field_->parameters(), torch::optim::AdamOptions(options_.lr.lr).eps(options_.adam_eps));
}

bool Trainer::weights_finite() {
  for (const auto& p : field_->parameters())
    if (!at::isfinite(p).all().item<bool>()) return false;
  return true;
}

void Trainer::save(const std::filesystem::path& path) {
  // Never replace a good checkpoint with broken weights (the update after the last finite loss
  // may have produced NaNs): the last file on disk stays the last good state.
  if (!weights_finite())
    throw TrainingDiverged("training diverged at step " + std::to_string(step_) +
                           ": the weights are no longer finite (kept the previous checkpoint " + path.string() +
                           "; field " + field_->config().dump() + ")");
  CheckpointMeta meta{step_, field_->config(), task_.config(), options_.to_json()};
  meta.train_config["seconds"] = seconds_;
  meta.train_config["first_loss"] = first_loss_;
  meta.train_config["last_loss"] = last_loss_;
  save_checkpoint(path, *field_, optimizer_.get(), meta);
}

// A checkpoint during training: the one it replaces stays as <path>.prev (a hard link, no copy),
// so that if the weights saved now give a non-finite loss at the next step, run() puts it back.
void Trainer::save_during_run() {
  const auto path = checkpoint_path();
  const std::filesystem::path prev = path.string() + ".prev";
  std::error_code ec;
  std::filesystem::remove(prev, ec);
  if (std::filesystem::exists(path, ec)) std::filesystem::create_hard_link(path, prev, ec);
  save(path);
}

// After a divergence at step step_ + 1: the checkpoint on disk holds the weights that gave the bad
// loss when it was saved at step_; restore the one before it. Returns what the disk now holds.
std::string Trainer::keep_last_good_checkpoint() {
  const auto path = checkpoint_path();
  const std::filesystem::path prev = path.string() + ".prev";
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return "no checkpoint was saved";
  try {
    if (read_checkpoint_meta(path).step == step_) {
      if (std::filesystem::exists(prev, ec)) {
        std::filesystem::rename(prev, path, ec);
        if (ec) return "could not restore " + prev.string();
      } else {  // the only checkpoint holds the weights that diverge: a resume must not start from it
        const std::string bad = path.string() + ".diverged";
        std::filesystem::rename(path, bad, ec);
        return "no good checkpoint yet (the one at step " + std::to_string(step_) + " diverges: moved to " + bad + ")";
      }
    }
    return "kept the last good checkpoint " + path.string() + " (step " + std::to_string(read_checkpoint_meta(path).step) + ")";
  } catch (const std::exception& e) {
    return e.what();
  }
}

void Trainer::load(const std::filesystem::path& path) {
  auto meta = read_checkpoint_meta(path);
  if (meta.field_config != field_->config())
    throw std::runtime_error(path.string() + ": checkpoint field config differs from this run's (" +
                             meta.field_config.dump() + ")");
  load_checkpoint(path, *field_, optimizer_.get());
  step_ = meta.step;
  seconds_ = meta.train_config.value("seconds", 0.0);
  first_loss_ = meta.train_config.value("first_loss", 0.0);
  last_loss_ = meta.train_config.value("last_loss", 0.0);
}

void Trainer::check_resume_settings(const std::filesystem::path& path) const {
  const auto meta = read_checkpoint_meta(path);
  const auto task_now = task_.config();
  std::string k = first_difference(meta.task_config, task_now);
  if (!k.empty())
    throw std::runtime_error(path.string() + ": --resume: task setting '" + k + "' differs (checkpoint: " +
                             short_dump(meta.task_config.value(k, nlohmann::json())) + ", now: " +
                             short_dump(task_now.value(k, nlohmann::json())) +
                             "); use another --out or the checkpoint's settings");
  const auto train_now = options_.to_json();
  k = first_difference(meta.train_config, train_now);
  if (!k.empty())
    throw std::runtime_error(path.string() + ": --resume: training setting '" + k + "' differs (checkpoint: " +
                             short_dump(meta.train_config.value(k, nlohmann::json())) + ", now: " +
                             short_dump(train_now.value(k, nlohmann::json())) +
                             "); use another --out or the checkpoint's settings");
}

// After a resume from step s, metrics.jsonl may hold lines for steps > s (logged after the
// checkpoint, before the interruption): drop them so no step appears twice.
void Trainer::trim_metrics_after(int64_t step) const {
  const auto path = options_.out_dir / "metrics.jsonl";
  std::ifstream in(path);
  if (!in) return;
  std::string kept, line;
  bool dropped = false;
  while (std::getline(in, line)) {
    try {
      auto j = nlohmann::json::parse(line);
      if (j.value("step", int64_t{0}) <= step) {
        kept += line + "\n";
        continue;
      }
    } catch (const std::exception&) {  // a torn line: drop it too
    }
    dropped = true;
  }
  in.close();
  if (dropped) write_file_atomic(path, kept);
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
  const bool exploded = std::isfinite(loss) && step_ > 0 && options_.explode_factor > 0 && first_loss_ > 0 &&
                        loss > options_.explode_factor * std::max(first_loss_, 1e-2);
  if (!std::isfinite(loss) || exploded) {
    throw TrainingDiverged("training diverged at step " + std::to_string(step_ + 1) + ": loss is " + num(loss) +
                           (exploded ? " (" + num(loss / first_loss_) + "x the first loss " + num(first_loss_) + ")"
                                     : std::string()) +
                           " (lr " + num(lr) + ", field " + field_->config().dump() + ")");
  }
  res.loss.backward();
  optimizer_->step();
  if (step_ == 0) first_loss_ = loss;
  last_loss_ = loss;
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
  const bool files = !options_.out_dir.empty();
  if (options_.resume && files) {
    if (std::filesystem::exists(checkpoint_path())) {
      check_resume_settings(checkpoint_path());
      load(checkpoint_path());
      trim_metrics_after(step_);
      std::cout << options_.label << ": resumed from " << checkpoint_path().string() << " at step " << step_
                << " of " << options_.iters << "\n";
    } else {
      std::cout << options_.label << ": --resume: no checkpoint at " << checkpoint_path().string()
                << ", starting fresh\n";
    }
  }
  if (files && !options_.resume) std::filesystem::remove(options_.out_dir / "metrics.jsonl");
  SignalGuard signals;
  Progress progress(options_.label, options_.iters, options_.log_every, options_.progress);
  auto last_save = std::chrono::steady_clock::now();
  while (step_ < options_.iters) {
    LogRecord r;
    try {
      r = do_step();
    } catch (const TrainingDiverged& e) {
      if (!files) throw;
      progress.finish();
      throw TrainingDiverged(std::string(e.what()) + "; " + keep_last_good_checkpoint());
    }
    history_.push_back(r);
    if (on_step) on_step(r);
    progress.update(step_, r.loss, r.metrics);
    if (step_ % std::max<int64_t>(1, options_.log_every) == 0 || step_ == options_.iters) append_metrics(r);
    if (!files) {
      if (g_signal) throw TrainingInterrupted("interrupted at step " + std::to_string(step_) + " (no --out: nothing saved)");
      continue;
    }
    const auto now = std::chrono::steady_clock::now();
    const bool by_step = options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0;
    const bool by_time = options_.checkpoint_minutes > 0 &&
                         std::chrono::duration<double>(now - last_save).count() >= 60.0 * options_.checkpoint_minutes;
    if (by_step || by_time || g_signal) {
      save_during_run();
      last_save = now;
    }
    if (g_signal) {
      progress.finish();
      throw TrainingInterrupted("interrupted by signal " + std::to_string(int(g_signal)) + " at step " +
                                std::to_string(step_) + ": checkpoint saved to " + checkpoint_path().string() +
                                " (continue with --resume)");
    }
  }
  progress.finish();
  if (files) {
    save(checkpoint_path());
    std::error_code ec;
    std::filesystem::remove(checkpoint_path().string() + ".prev", ec);
  }
  return history_;
}

}  // namespace nf
