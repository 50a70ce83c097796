#pragma once
// JSON config helpers: typed lookups with errors that name the key and what was expected, and
// config files with "parent" inheritance (assets/configs/<task>/*.json).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace nf {

struct ConfigError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// cfg[key] as T, or `fallback` when absent; a present value of the wrong type is a ConfigError
// naming `where` (e.g. "field 'mlp'") and the key.
template <typename T>
T cfg_get(const nlohmann::json& cfg, const std::string& key, const T& fallback, const std::string& where) {
  if (!cfg.contains(key) || cfg.at(key).is_null()) return fallback;
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
