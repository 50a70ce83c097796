#pragma once
// Learning-rate schedules as pure functions of the step (so resuming needs no schedule state).
#include <nlohmann/json.hpp>

#include <string>

namespace nf {

struct LrSchedule {
  std::string kind = "constant";  // constant | exponential | cosine
  double lr = 1e-3;               // at step 0
  double lr_final = -1;           // at the last step (exponential, cosine); < 0 means lr / 10
  // Linear warm-up: lr * step / warmup for step < warmup (0 at step 0, as NeuS), then the schedule
  // over steps warmup .. total-1. 0: none.
  int64_t warmup = 0;
  double at(int64_t step, int64_t total) const;
  nlohmann::json to_json() const;
  // Inverse of to_json (a checkpoint's train config "lr"); errors name `where` and the key.
  static LrSchedule from_json(const nlohmann::json& j, const std::string& where);
};

LrSchedule lr_schedule_from_string(const std::string& kind, double lr, double lr_final);

}  // namespace nf
