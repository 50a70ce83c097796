#include "report/seed_stat.h"

#include <cmath>

namespace nf {

double SeedStat::mean() const {
  if (v.empty()) return std::nan("");
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

double SeedStat::std() const {
  if (v.size() < 2) return 0.0;
  const double m = mean();
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / static_cast<double>(v.size() - 1));
}

nlohmann::json SeedStat::to_json() const {
  nlohmann::json j{{"n", v.size()}, {"std", std()}};
  j["mean"] = v.empty() ? nlohmann::json() : nlohmann::json(mean());
  return j;
}

}  // namespace nf
