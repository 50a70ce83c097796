#pragma once
// JSON <-> Options: the config keys of a module bound once to the TORCH_ARGs of its Options, so
// that the registry's builder (JSON -> Options), the module's config() (Options -> JSON) and the
// list of accepted keys come from one table, and every default is written once, in the Options.
//
//   const OptionKeys<SirenOptions>& keys() {
//     static const OptionKeys<SirenOptions> k{NF_REQUIRED_KEY(SirenOptions, in_dim), ...,
//                                             NF_OPTION_KEY(SirenOptions, omega0)};
//     return k;
//   }
//   SirenOptions o(0, 0, 0, 0); read_options(keys(), cfg, o, "field 'siren'");   // builder
//   nlohmann::json j{{"type", "siren"}}; write_options(keys(), options, j);      // config()
#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <initializer_list>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fields/config.h"
#include "fields/norm.h"
#include "fields/registry.h"

namespace nf {

template <class O>
struct OptionKey {
  std::string key;
  bool required = false;  // missing -> ConfigError "missing key"; else the Options' value stays
  std::function<void(const nlohmann::json& cfg, O& o, const std::string& where)> read;
  std::function<void(const O& o, nlohmann::json& out)> write;
};
template <class O>
using OptionKeys = std::vector<OptionKey<O>>;

// `get` / `cget`: the TORCH_ARG's mutable and const getters. The value type is the TORCH_ARG's;
// reading goes through cfg_get / cfg_require (their errors name `where` and the key).
template <class O, class Get, class CGet>
OptionKey<O> option_key(std::string key, bool required, Get get, CGet cget) {
  using T = std::decay_t<decltype(get(std::declval<O&>()))>;
  OptionKey<O> k;
  k.key = key;
  k.required = required;
  k.read = [key, required, get](const nlohmann::json& cfg, O& o, const std::string& where) {
    T& v = get(o);
    v = required ? cfg_require<T>(cfg, key, where) : cfg_get<T>(cfg, key, v, where);
  };
  k.write = [key, cget](const O& o, nlohmann::json& out) { out[key] = cget(o); };
  return k;
}

#define NF_OPTION_KEY_(O, name, required)                                          \
  ::nf::option_key<O>(#name, required, [](O& o) -> auto& { return o.name(); }, \
                      [](const O& o) -> const auto& { return o.name(); })
// A key with a default (the Options' own value).
#define NF_OPTION_KEY(O, name) NF_OPTION_KEY_(O, name, false)
// A key the config must give (e.g. in_dim).
#define NF_REQUIRED_KEY(O, name) NF_OPTION_KEY_(O, name, true)

// A required size key, checked to lie in [min, 2^24] before any module is built (an in_dim of 0
// reached LibTorch's multi-line errors; found by fuzz/fuzz_config).
template <class O, class Get, class CGet>
OptionKey<O> size_key(std::string key, int64_t min, Get get, CGet cget) {
  OptionKey<O> k = option_key<O>(key, true, get, cget);
  k.read = [key, min, get](const nlohmann::json& cfg, O& o, const std::string& where) {
    const auto v = cfg_require<int64_t>(cfg, key, where);
    if (v < min || v > (int64_t{1} << 24))
      throw ConfigError(where + ": key '" + key + "' must be in [" + std::to_string(min) + ", 16777216], got " +
                        std::to_string(v));
    get(o) = v;
  };
  return k;
}
#define NF_SIZE_KEY(O, name, min) \
  ::nf::size_key<O>(#name, min, [](O& o) -> auto& { return o.name(); }, [](const O& o) -> const auto& { return o.name(); })

// A key held in the Options as a value of its own type (an enum) and in JSON as its name: `parse`
// reads the name (std::invalid_argument -> ConfigError "<where>: key '<key>': <what>"), `print` writes it.
template <class O, class Get, class CGet, class Parse, class Print>
OptionKey<O> named_key(std::string key, Get get, CGet cget, Parse parse, Print print) {
  OptionKey<O> k;
  k.key = key;
  k.read = [key, get, parse, print](const nlohmann::json& cfg, O& o, const std::string& where) {
    auto& v = get(o);
    try {
      v = parse(cfg_get<std::string>(cfg, key, print(v), where));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(where + ": key '" + key + "': " + e.what());
    }
  };
  k.write = [key, cget, print](const O& o, nlohmann::json& out) { out[key] = print(cget(o)); };
  return k;
}
// A named key whose type has `to_string` and `<parse>(const std::string&)`, e.g. NormKind.
#define NF_NAMED_KEY(O, name, parse)                                                               \
  ::nf::named_key<O>(#name, [](O& o) -> auto& { return o.name(); },                              \
                     [](const O& o) -> const auto& { return o.name(); }, [](const std::string& s) { return parse(s); }, \
                     [](const auto& v) { return to_string(v); })

// Throws ConfigError "<what>: unknown key 'k' (valid keys: a, b, ... | none)" for a key of cfg other
// than "type" that keys lacks (the field and encoding registries).
inline void reject_unknown_keys(const nlohmann::json& cfg, const std::vector<std::string>& keys, const std::string& what) {
  for (const auto& [key, value] : cfg.items()) {
    if (key == "type" || std::find(keys.begin(), keys.end(), key) != keys.end()) continue;
    throw ConfigError(what + ": unknown key '" + key + "' (valid keys: " +
                      (keys.empty() ? std::string("none") : join_names(keys)) + ")");
  }
}

// norm, norm_eps, norm_momentum, norm_fused: the norm keys of MLP, MipNeRF and NeuS Options.
template <class O>
void add_norm_keys(OptionKeys<O>& k) {
  k.push_back(NF_NAMED_KEY(O, norm, norm_kind_from_string));
  k.push_back(NF_OPTION_KEY(O, norm_eps));
  k.push_back(NF_OPTION_KEY(O, norm_momentum));
  k.push_back(NF_OPTION_KEY(O, norm_fused));
}

// A config with a "preset" (mipnerf, neus): the preset's values (preset_config(name), its "norm"
// left out) are defaults; the config's own keys override them. Without "preset": cfg unchanged.
template <class PresetConfig>
nlohmann::json apply_preset(nlohmann::json cfg, const PresetConfig& preset_config, const std::string& where) {
  if (!cfg.contains("preset")) return cfg;
  auto base = preset_config(cfg_get<std::string>(cfg, "preset", "full", where));
  base.erase("norm");
  for (auto& [k, v] : base.items())
    if (!cfg.contains(k)) cfg[k] = v;
  return cfg;
}

// The four keys of every coordinate network's Options (all required; hidden_layers may be 0).
template <class O>
OptionKeys<O> network_shape_keys() {
  return {NF_SIZE_KEY(O, in_dim, 1), NF_SIZE_KEY(O, out_dim, 1), NF_SIZE_KEY(O, hidden_layers, 0),
          NF_SIZE_KEY(O, width, 1)};
}

// The shape keys, then `extra` (a network's own keys).
template <class O>
OptionKeys<O> network_keys(std::initializer_list<OptionKey<O>> extra) {
  auto k = network_shape_keys<O>();
  k.insert(k.end(), extra.begin(), extra.end());
  return k;
}

// Reads every key of `keys` present in cfg into o (required ones must be present).
template <class O>
void read_options(const OptionKeys<O>& keys, const nlohmann::json& cfg, O& o, const std::string& where) {
  for (const auto& k : keys) k.read(cfg, o, where);
}

// Writes every key of `keys` from o into out.
template <class O>
void write_options(const OptionKeys<O>& keys, const O& o, nlohmann::json& out) {
  for (const auto& k : keys) k.write(o, out);
}

// The key names, in table order (the registries' lists of accepted keys).
template <class O>
std::vector<std::string> option_names(const OptionKeys<O>& keys) {
  std::vector<std::string> names;
  for (const auto& k : keys) names.push_back(k.key);
  return names;
}

// A module's config(): {"type": type} and every key of `keys` from its Options.
template <class O>
nlohmann::json options_config(const std::string& type, const OptionKeys<O>& keys, const O& o) {
  nlohmann::json j{{"type", type}};
  write_options(keys, o, j);
  return j;
}

// Registers field type `type` built as Impl(options): options start as `defaults`, then every key of
// `keys` the config gives (checked by the registry against the key names). With `preset` (a
// function preset name -> config), the type also accepts "preset" (apply_preset).
template <class Impl, class O>
void add_field_type(FieldRegistry& registry, const std::string& type, const OptionKeys<O>& keys, const O& defaults,
                    const std::string& summary,
                    std::function<nlohmann::json(const std::string&)> preset = nullptr) {
  auto names = option_names(keys);
  if (preset) names.insert(names.begin(), "preset");
  registry.add(
      type, names,
      [&keys, defaults, type, preset](const nlohmann::json& cfg) -> Field {
        const std::string where = "field '" + type + "'";
        O o = defaults;
        read_options(keys, preset ? apply_preset(cfg, preset, where) : cfg, o, where);
        return std::make_shared<Impl>(o);
      },
      summary);
}

}  // namespace nf
