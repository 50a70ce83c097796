#pragma once
// Progress output for long runs: a redrawn bar (it/s, loss, PSNR, ETA) when stdout is a terminal,
// plain lines every `every` steps otherwise (logs, CI).
#include <chrono>
#include <map>
#include <string>

namespace nf {

class Progress {
 public:
  Progress(std::string label, int64_t total, int64_t every, bool enabled = true);
  // step: 1-based count of finished steps.
  void update(int64_t step, double loss, const std::map<std::string, double>& metrics);
  void finish();
  double elapsed_s() const;

 private:
  std::string label_;
  int64_t total_, every_, start_step_ = -1;
  bool enabled_, tty_;
  std::chrono::steady_clock::time_point t0_, last_draw_;
};

bool stdout_is_terminal();
// "45s", "3m05s", "2h07m" (rounded to the second; negative -> "0s").
std::string format_duration(double seconds);

}  // namespace nf
