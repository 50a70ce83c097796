#include "tasks/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace nf {

bool stdout_is_terminal() { return isatty(fileno(stdout)) != 0; }

std::string format_duration(double seconds) {
  const long long s = seconds > 0 ? static_cast<long long>(seconds + 0.5) : 0;
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60)
    std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%llds", s);
  return buf;
}

Progress::Progress(std::string label, int64_t total, int64_t every, bool enabled)
    : label_(std::move(label)), total_(total), every_(every > 0 ? every : 100), enabled_(enabled),
      tty_(stdout_is_terminal()), t0_(std::chrono::steady_clock::now()), last_draw_(t0_) {}

double Progress::elapsed_s() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
}

void Progress::update(int64_t step, double loss, const std::map<std::string, double>& metrics) {
  if (!enabled_) return;
  if (start_step_ < 0) {
    start_step_ = step - 1;
    t0_ = std::chrono::steady_clock::now();
  }
  const auto now = std::chrono::steady_clock::now();
  const bool last = step >= total_;
  const double el = elapsed_s();
  const double rate = el > 0 ? (step - start_step_) / el : 0;
  std::string extra;
  char buf[64];
  // Remaining time at the mean rate since the first update (after the first step: a resumed run
  // counts only its own steps).
  std::string eta;
  if (!last && rate > 0 && step - start_step_ >= 2) eta = "  ETA " + format_duration((total_ - step) / rate);
  for (const auto& [k, v] : metrics) {
    std::snprintf(buf, sizeof buf, " %s %.3f", k.c_str(), v);
    extra += buf;
  }
  if (tty_) {
    if (!last && std::chrono::duration<double>(now - last_draw_).count() < 0.1) return;
    last_draw_ = now;
    const int width = 30;
    const int filled = total_ > 0 ? static_cast<int>(width * step / total_) : 0;
    std::string bar(filled, '#');
    bar.resize(width, '.');
    std::printf("\r%s [%s] %lld/%lld %.1f it/s loss %.3e%s%s   ", label_.c_str(), bar.c_str(),
                static_cast<long long>(step), static_cast<long long>(total_), rate, loss, extra.c_str(), eta.c_str());
    std::fflush(stdout);
  } else if (step % every_ == 0 || last) {
    std::printf("%s step %lld/%lld  %.1f it/s  loss %.4e%s%s\n", label_.c_str(), static_cast<long long>(step),
                static_cast<long long>(total_), rate, loss, extra.c_str(), eta.c_str());
    std::fflush(stdout);
  }
}

void Progress::finish() {
  if (enabled_ && tty_) std::printf("\n");
}

}  // namespace nf
