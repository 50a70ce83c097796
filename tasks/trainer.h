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
  int64_t checkpoint_every = 0;   // 0: only at the end
  std::filesystem::path out_dir;  // empty: no files written
  bool resume = false;            // continue from out_dir/checkpoint.pt if present
  bool progress = true;
  std::string label = "train";
  nlohmann::json to_json() const;
};

struct LogRecord {
  int64_t step;  // 1-based: number of finished steps
  double loss, lr, seconds;
  std::map<std::string, double> metrics;
};

// Thrown when the loss becomes NaN/Inf: names the step, the loss and the field config.
struct TrainingDiverged : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class Trainer {
 public:
  Trainer(Field field, Task& task, TrainOptions options);
  // Runs from the current step to options.iters (resuming first when asked). Returns the log.
  const std::vector<LogRecord>& run();
  // Runs exactly n more steps (for the viewer: step in small slices).
  void run_steps(int64_t n);
  // Base learning rate of the schedule from the next step on (the viewer's lr slider); lr > 0.
  void set_lr(double lr);
  void save(const std::filesystem::path& path);
  void load(const std::filesystem::path& path);

  int64_t step() const { return step_; }
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
  Field field_;
  Task& task_;
  TrainOptions options_;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  int64_t step_ = 0;
  double seconds_ = 0;
  std::vector<LogRecord> history_;
};

}  // namespace nf
