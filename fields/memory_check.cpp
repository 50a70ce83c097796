#include "fields/memory_check.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace nf {

double machine_memory_bytes() {
  if (const char* env = std::getenv("NORMFIELD_MEMORY_LIMIT")) {
    const double v = std::atof(env);
    if (v > 0) return v;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return 1e15;  // unknown: do not refuse
  return static_cast<double>(pages) * static_cast<double>(page);
}

std::string format_bytes(double b) {
  char buf[64];
  if (b >= 1e15) std::snprintf(buf, sizeof buf, "%.3g bytes", b);
  else if (b >= 1e9) std::snprintf(buf, sizeof buf, "%.1f GB", b / 1e9);
  else if (b >= 1e6) std::snprintf(buf, sizeof buf, "%.0f MB", b / 1e6);
  else std::snprintf(buf, sizeof buf, "%.0f KB", b / 1e3);
  return buf;
}

void require_memory(double bytes, const std::string& what) {
  const double have = machine_memory_bytes();
  if (!(bytes <= have))
    throw std::runtime_error(what + " needs about " + format_bytes(bytes) + " of memory, more than this machine's " +
                             format_bytes(have));
}

namespace {
double num(const nlohmann::json& c, const char* key, double fallback) {
  if (!c.is_object() || !c.contains(key) || !c[key].is_number()) return fallback;
  return c[key].get<double>();
}
}  // namespace

double field_train_bytes(const nlohmann::json& c, double points) {
  if (!c.is_object()) return 0;  // make_field reports that
  const double layers = std::max(1.0, c.contains("hidden_layers") ? num(c, "hidden_layers", 1) : num(c, "depth", 1));
  const double width = std::max(1.0, num(c, "width", 1));
  double in = std::max(1.0, num(c, "in_dim", 3));
  const double out = std::max(1.0, num(c, "out_dim", 1));
  const auto type_of = [](const nlohmann::json& j) {
    return j.contains("type") && j["type"].is_string() ? j["type"].get<std::string>() : std::string();
  };
  if (c.contains("encoding") && c["encoding"].is_object()) {
    const auto& e = c["encoding"];
    if (type_of(e) == "pe") in *= 1 + 2 * num(e, "octaves", 10);
    if (type_of(e) == "rff") in = 2 * num(e, "features", 256);
  }
  if (type_of(c) == "mipnerf") in = 2 * 3 * std::max(1.0, num(c, "ipe_max_deg", 16));
  const double complex = type_of(c) == "wire" ? 2.0 : 1.0;
  const double params = complex * (in * width + (layers - 1) * width * width + width * out + layers * width);
  const double param_bytes = params * 4 * 4;                         // weights, grads, Adam m and v
  const double act_bytes = points * width * (layers + 1) * 4 * 4;    // pre/post norm, ReLU, their grads
  return param_bytes + act_bytes + points * in * 4 * 2;
}

void check_field_size(const nlohmann::json& c, double points, const std::string& what) {
  if (!c.is_object()) return;
  for (const char* k : {"hidden_layers", "depth"}) {
    const double n = num(c, k, 0);
    if (n > kMaxLayers) {  // printed as a double: 1e300 does not fit a long long (undefined behaviour)
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.15g", n);
      throw std::runtime_error(what + ": " + k + " " + buf + " is more than " + std::to_string(kMaxLayers) + " layers");
    }
  }
  require_memory(field_train_bytes(c, points), what);
}

}  // namespace nf
