#pragma once
// The trainer shared by all tasks: Adam, a learning-rate schedule, progress output, a JSONL metrics
// log, atomic checkpoints every N steps, exact resume, and NaN/Inf detection.
#include <nlohmann/json.hpp>
#include <torch/optim/adam.h>

#include <filesystem>
#include <functional>
#include <memory>

#include "fields/field.h"
#include "tasks/lr_schedule.h"
#include "tasks/task.h"

namespace nf {

struct TrainOptions {
  int64_t iters = 1000;
  LrSchedule lr;
  double adam_eps = 1e-8;
  int64_t log_every = 100;        // metrics.jsonl line and plain progress line
  int64_t checkpoint_every = 0;   // steps between checkpoints (0: none by step count)
  double checkpoint_minutes = 5;  // also a checkpoint when this much time passed since the last (0: off)
  double explode_factor = 1e4;    // loss above this x the run's first loss counts as diverged (0: off)
  std::filesystem::path out_dir;  // empty: no files written
  bool resume = false;            // continue from out_dir/checkpoint.pt if present
  bool progress = true;
  std::string label = "train";
  nlohmann::json to_json() const;
};

struct LogRecord {
  int64_t step = 0;  // 1-based: number of finished steps
  double loss = 0, lr = 0, seconds = 0;
  std::map<std::string, double> metrics;
};

// Thrown when the loss becomes NaN/Inf, or explodes (grows by options.explode_factor over the
// run's first loss), or the weights stop being finite: names the step, the loss and the field
// config. Checkpoints are only ever written with finite weights, so the last one on disk is the
// last good state.
struct TrainingDiverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Thrown by run() after SIGINT/SIGTERM: the checkpoint was saved first (the message says where).
struct TrainingInterrupted : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Trainer {
 public:
  Trainer(Field field, Task& task, TrainOptions options);
  // Runs from the current step to options.iters (resuming first when asked). Returns the log.
  // With options.resume it says what it resumed from (or that it starts fresh) and refuses a
  // checkpoint whose task or training settings differ from this run's, naming the setting.
  // While it runs, SIGINT/SIGTERM save a checkpoint and end it with TrainingInterrupted.
  const std::vector<LogRecord>& run();
  // Runs exactly n more steps (for the viewer: step in small slices).
  void run_steps(int64_t n);
  // Base learning rate of the schedule from the next step on (the viewer's lr slider); lr > 0.
  void set_lr(double lr);
  // Replaces the schedule from the next step on (the viewer's lr control: a constant override).
  void set_schedule(const LrSchedule& lr) { options_.lr = lr; }
  void save(const std::filesystem::path& path);
  void load(const std::filesystem::path& path);

  int64_t step() const { return step_; }
  // Loss of the run's first step and of the last one, across resumes (0 before any step).
  double first_loss() const { return first_loss_; }
  double last_loss() const { return last_loss_; }
  double seconds() const { return seconds_; }
  Field field() const { return field_; }
  torch::optim::Adam& optimizer() { return *optimizer_; }
  const std::vector<LogRecord>& history() const { return history_; }
  const TrainOptions& options() const { return options_; }
  std::filesystem::path checkpoint_path() const { return options_.out_dir / "checkpoint.pt"; }
  // Called after every step (viewer, tests).
  std::function<void(const LogRecord&)> on_step;

 private:
  LogRecord do_step();
  void append_metrics(const LogRecord& r);
  void check_resume_settings(const std::filesystem::path& path) const;
  void trim_metrics_after(int64_t step) const;
  bool weights_finite();
  void save_during_run();
  std::string keep_last_good_checkpoint();
  Field field_;
  Task& task_;
  TrainOptions options_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  int64_t step_ = 0;
  double seconds_ = 0;
  double first_loss_ = 0, last_loss_ = 0;
  std::vector<LogRecord> history_;
};

}  // namespace nf
