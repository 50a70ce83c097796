#include "app/flag_checks.h"

#include <cerrno>
#include <cfloat>
#include <cmath>
#include <cstdlib>
#include <regex>
#include <sstream>
#include <thread>

#include "fields/config.h"

namespace nf::app {
namespace {

std::string fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// The flag's text, quoted and cut short (never echo kilobytes of junk).
std::string shown(const std::string& s) { return "'" + (s.size() > 40 ? s.substr(0, 40) + "..." : s) + "'"; }

// Parses the whole string as a double; false on junk, overflow or underflow to zero.
bool parse_double(const std::string& s, double& v) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  v = std::strtod(s.c_str(), &end);
  if (end != s.c_str() + s.size()) return false;
  if (errno == ERANGE) return false;  // 1e-400 (-> 0 or denormal) and 1e400 (-> inf)
  return true;
}

bool parse_int(const std::string& s, int64_t& v) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  const long long x = std::strtoll(s.c_str(), &end, 10);
  if (end != s.c_str() + s.size() || errno == ERANGE) return false;
  v = x;
  return true;
}

std::string range_str(int64_t lo, int64_t hi) {
  if (hi == kMaxInt) return ">= " + std::to_string(lo);
  return "in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]";
}

}  // namespace

CLI::Validator positive_float() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0;
        if (!parse_double(s, v) || !std::isfinite(v) || !(v > 0) || v > FLT_MAX || v < FLT_MIN)
          return "must be a finite number > 0 (within float32: " + fmt(FLT_MIN) + " to " + fmt(FLT_MAX) +
                 "), got " + shown(s);
        return {};
      },
      "NUMBER > 0");
}

CLI::Validator nonnegative_float() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        double v = 0;
        if (!parse_double(s, v) || !std::isfinite(v) || v < 0) return "must be a finite number >= 0, got " + shown(s);
        return {};
      },
      "NUMBER >= 0");
}

CLI::Validator float_in(double lo, double hi, bool lo_open, bool hi_open) {
  const std::string range = std::string(lo_open ? "(" : "[") + fmt(lo) + ", " + fmt(hi) + (hi_open ? ")" : "]");
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        double v = 0;
        const bool ok = parse_double(s, v) && std::isfinite(v) && (lo_open ? v > lo : v >= lo) &&
                        (hi_open ? v < hi : v <= hi);
        if (!ok) return "must be a number in " + range + ", got " + shown(s);
        return {};
      },
      "NUMBER in " + range);
}

CLI::Validator int_in(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [=](std::string& s) -> std::string {
        int64_t v = 0;
        if (!parse_int(s, v) || v < lo || v > hi) return "must be a whole number " + range_str(lo, hi) + ", got " + shown(s);
        return {};
      },
      "INT " + range_str(lo, hi));
}

int64_t max_threads() {
  const int64_t hw = std::thread::hardware_concurrency();
  return std::max<int64_t>(64, 4 * hw);
}

CLI::Validator thread_count() { return int_in(0, max_threads()); }

void require_positive_float(double v, const std::string& where) {
  if (!std::isfinite(v) || !(v > 0) || v > FLT_MAX || v < FLT_MIN)
    throw ConfigError(where + ": must be a finite number > 0, got " + fmt(v));
}

void require_int_in(int64_t v, int64_t lo, int64_t hi, const std::string& where) {
  if (v < lo || v > hi) throw ConfigError(where + ": must be a whole number " + range_str(lo, hi) + ", got " + std::to_string(v));
}

std::pair<int, int> parse_wxh(const std::string& flag, const std::string& text, const std::string& example,
                              int max_digits) {
  const auto side = "(\\d{1," + std::to_string(max_digits) + "})";
  std::smatch m;
  if (!std::regex_match(text, m, std::regex(side + "x" + side)))
    throw std::runtime_error(flag + ": expected WxH such as " + example + ", got '" + text + "'");
  return {std::stoi(m[1]), std::stoi(m[2])};
}

void check_config_keys(const nlohmann::json& cfg, const std::vector<std::string>& command_keys,
                       const std::string& file) {
  static const char* const kCommon[] = {"method", "arch",  "iters", "lr",      "lr_final",   "schedule", "log_every",
                                        "checkpoint_every", "seed", "field", "comment", "description"};
  std::vector<std::string> allowed(std::begin(kCommon), std::end(kCommon));
  allowed.insert(allowed.end(), command_keys.begin(), command_keys.end());
  for (const auto& [key, value] : cfg.items()) {
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string list;
    for (const auto& k : allowed) list += (list.empty() ? "" : ", ") + k;
    throw ConfigError(file + ": unknown key '" + key + "' (valid keys: " + list + ")");
  }
}

}  // namespace nf::app
