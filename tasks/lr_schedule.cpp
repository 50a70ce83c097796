#include "tasks/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace nf {

double LrSchedule::at(int64_t step, int64_t total) const {
  if (warmup > 0 && step < warmup) return lr * static_cast<double>(step) / static_cast<double>(warmup);
  if (kind == "constant" || total <= 1) return lr;
  const double end = lr_final < 0 ? lr / 10 : lr_final;
  const int64_t s = std::max<int64_t>(0, step - warmup), n = std::max<int64_t>(1, total - 1 - warmup);
  const double f = std::min(1.0, static_cast<double>(s) / static_cast<double>(n));
  if (kind == "exponential") return lr * std::pow(end / lr, f);
  if (kind == "cosine") return end + 0.5 * (lr - end) * (1 + std::cos(M_PI * f));
  throw std::invalid_argument("unknown lr schedule '" + kind + "' (valid: constant, exponential, cosine)");
}

nlohmann::json LrSchedule::to_json() const {
  nlohmann::json j{{"kind", kind}, {"lr", lr}, {"lr_final", lr_final}};
  if (warmup > 0) j["warmup"] = warmup;
  return j;
}

LrSchedule LrSchedule::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": lr schedule must be a JSON object, got " + j.dump());
  auto num = [&](const char* key, double def) {
    if (!j.contains(key)) return def;
    if (!j[key].is_number()) throw std::runtime_error(where + ": key '" + std::string(key) + "' must be a number");
    return j[key].get<double>();
  };
  LrSchedule s;
  if (j.contains("kind") && !j["kind"].is_string()) throw std::runtime_error(where + ": key 'kind' must be a string");
  const std::string kind = j.value("kind", std::string("constant"));
  if (kind != "constant" && kind != "exponential" && kind != "cosine")
    throw std::runtime_error(where + ": key 'kind': unknown lr schedule '" + kind + "' (valid: constant, exponential, cosine)");
  s.kind = kind;
  s.lr = num("lr", s.lr);
  s.lr_final = num("lr_final", s.lr_final);
  const double w = num("warmup", 0);
  if (!(s.lr > 0) || w < 0 || w != std::floor(w))
    throw std::runtime_error(where + ": lr schedule needs lr > 0 and a whole warmup >= 0, got " + j.dump());
  s.warmup = static_cast<int64_t>(w);
  return s;
}

LrSchedule lr_schedule_from_string(const std::string& kind, double lr, double lr_final) {
  if (kind != "constant" && kind != "exponential" && kind != "cosine")
    throw std::invalid_argument("--schedule: unknown lr schedule '" + kind + "' (valid: constant, exponential, cosine)");
  return LrSchedule{kind, lr, lr_final};
}

}  // namespace nf
