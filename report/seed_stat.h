#pragma once
// Mean and sample standard deviation of a metric over runs (seeds), for the sweep tables.
#include <nlohmann/json.hpp>

#include <vector>

namespace nf {

// Mean and sample standard deviation (n - 1; 0 for one value) of a metric over runs (seeds).
struct SeedStat {
  std::vector<double> v;
  double mean() const;
  double std() const;
  nlohmann::json to_json() const;  // {"mean", "std", "n"}; mean null when there is no value
};

}  // namespace nf
