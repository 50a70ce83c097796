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

#include <functional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "fields/config.h"

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

// The four keys of every coordinate network's Options (all required).
template <class O>
OptionKeys<O> network_shape_keys() {
  return {NF_REQUIRED_KEY(O, in_dim), NF_REQUIRED_KEY(O, out_dim), NF_REQUIRED_KEY(O, hidden_layers),
          NF_REQUIRED_KEY(O, width)};
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

}  // namespace nf
