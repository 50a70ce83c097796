#pragma once
// Field factory: a registry from a config's "type" to a builder (in the spirit of tiny-cuda-nn's
// create_network), plus the 13 named methods of the paper's tables.
//
//   make_field({"type": "mlp", "in_dim": 2, "out_dim": 3, "hidden_layers": 10, "width": 28,
//               "norm": "cn", "encoding": {"type": "pe", "octaves": 10}})
//   method_config("pe+cn", /*in*/2, /*out*/3, /*layers*/10, /*width*/28)  -> the JSON above
//
// Unknown types, unknown keys and wrong value types raise nf::ConfigError listing what is valid.
#include <nlohmann/json.hpp>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "fields/field.h"

namespace nf {

using FieldBuilder = std::function<Field(const nlohmann::json& cfg)>;

class FieldRegistry {
 public:
  static FieldRegistry& global();  // holds the built-in types; add() more at start-up
  // `keys`: the config keys this type accepts (besides "type").
  void add(const std::string& type, std::vector<std::string> keys, FieldBuilder builder,
           std::string summary);
  Field make(const nlohmann::json& cfg) const;
  std::vector<std::string> types() const;
  const std::string& summary(const std::string& type) const;

 private:
  struct Entry {
    std::vector<std::string> keys;
    FieldBuilder builder;
    std::string summary;
  };
  std::map<std::string, Entry> entries_;
};

Field make_field(const nlohmann::json& cfg);

// "a, b, c": the valid names listed in config errors.
std::string join_names(const std::vector<std::string>& names);

// The paper's methods: siren, mfn, wire, relu, relu+bn, relu+ln, relu+gn, relu+cn, pe, pe+bn, pe+ln,
// pe+gn, pe+cn (also accepted: "rff", "rff+cn", ..., "mfn-gabor").
const std::vector<std::string>& method_names();
nlohmann::json method_config(const std::string& method, int64_t in_dim, int64_t out_dim,
                             int64_t hidden_layers, int64_t width);
// True when the method uses a normalization layer (the paper trains those with lr 1e-2).
bool method_has_norm(const std::string& method);
// "10x28" (also "10×28") -> {10, 28}
std::pair<int64_t, int64_t> parse_arch(const std::string& arch);

}  // namespace nf
