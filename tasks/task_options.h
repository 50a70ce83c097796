#pragma once
// What the scene tasks' option readers share (NerfOptions::from_json, NeusOptions::from_json).
#include <nlohmann/json.hpp>

#include <string>

#include "fields/config.h"

namespace nf {

// Throws ConfigError "<where>: <kind> options must be a JSON object" unless j is one, and with
// strict "<where>: unknown key 'k' in the <kind> options" for a key of j that `known` (the options'
// to_json()) lacks.
inline void check_options_keys(const nlohmann::json& j, const nlohmann::json& known, const std::string& where,
                               const std::string& kind, bool strict) {
  if (!j.is_object()) throw ConfigError(where + ": " + kind + " options must be a JSON object");
  for (const auto& [k, v] : j.items())
    if (strict && !known.contains(k)) throw ConfigError(where + ": unknown key '" + k + "' in the " + kind + " options");
}

}  // namespace nf
