#pragma once
// JSON config helpers: typed lookups with errors that name the key and what was expected, and
// config files with "parent" inheritance (assets/configs/<task>/*.json).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <limits>
#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace nf {

// An error in a config, in one line by construction: config strings (types, keys, values) are
// quoted into the message, and a JSON string may hold "\n"; control characters become '?'.
struct ConfigError : std::runtime_error {
  explicit ConfigError(const std::string& what) : std::runtime_error(one_line(what)) {}
  static std::string one_line(std::string s) {
    for (char& c : s)
      if (static_cast<unsigned char>(c) < 32 || c == 127) c = '?';
    return s;
  }
};

// cfg[key] as T, or `fallback` when absent; a present value of the wrong type is a ConfigError
// naming `where` (e.g. "field 'mlp'") and the key. Integer keys reject fractions (16.7), values
// outside T's range and (unsigned T) negative numbers instead of truncating or wrapping them.
template <typename T>
T cfg_get(const nlohmann::json& cfg, const std::string& key, const T& fallback, const std::string& where) {
  if (!cfg.contains(key) || cfg.at(key).is_null()) return fallback;
  if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>) {
    const auto& v = cfg.at(key);
    if (v.is_number()) {
      const double d = v.get<double>();
      const bool negative = v.is_number_float() ? d < 0 : (v.is_number_integer() && !v.is_number_unsigned() &&
                                                           v.get<int64_t>() < 0);
      if ((v.is_number_float() && (!std::isfinite(d) || d != std::floor(d))) ||
          (std::is_unsigned_v<T> && negative) ||
          d > static_cast<double>(std::numeric_limits<T>::max()) ||
          d < static_cast<double>(std::numeric_limits<T>::lowest()))
        throw ConfigError(where + ": key '" + key + "' must be an integer" +
                          (std::is_unsigned_v<T> ? " >= 0" : "") + " (got " + v.dump() + ")");
      if (v.is_number_float()) return static_cast<T>(d);
    }
  }
  try {
    return cfg.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw ConfigError(where + ": key '" + key + "' has the wrong type (" + cfg.at(key).dump() + ")");
  }
}
// Required key.
template <typename T>
T cfg_require(const nlohmann::json& cfg, const std::string& key, const std::string& where) {
  if (!cfg.contains(key)) throw ConfigError(where + ": missing key '" + key + "'");
  return cfg_get<T>(cfg, key, T{}, where);
}

// Reads a JSON file; a "parent" key (path relative to the file) is loaded first and this file's keys
// are merged over it (RFC 7386 merge patch). Errors name the file.
nlohmann::json load_config_file(const std::filesystem::path& path);
// Parses JSON text; errors name `origin`.
nlohmann::json parse_json(const std::string& text, const std::string& origin);

}  // namespace nf
