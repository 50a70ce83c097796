#include "fields/registry.h"

#include <algorithm>
#include <sstream>

#include "fields/config.h"
#include "fields/mfn.h"
#include "fields/mipnerf.h"
#include "fields/mlp.h"
#include "fields/neus.h"
#include "fields/options_json.h"
#include "fields/siren.h"
#include "fields/wire.h"

namespace nf {
std::string join_names(const std::vector<std::string>& names) {
  std::string s;
  for (const auto& x : names) s += (s.empty() ? "" : ", ") + x;
  return s;
}

FieldRegistry& FieldRegistry::global() {
  static FieldRegistry* r = [] {
    auto* reg = new FieldRegistry();
    register_mlp(*reg);
    register_siren(*reg);
    register_wire(*reg);
    register_mfn(*reg);
    register_mipnerf(*reg);
    register_neus(*reg);
    return reg;
  }();
  return *r;
}

void FieldRegistry::add(const std::string& type, std::vector<std::string> keys, FieldBuilder builder,
                        std::string summary) {
  entries_[type] = Entry{std::move(keys), std::move(builder), std::move(summary)};
}

std::vector<std::string> FieldRegistry::types() const {
  std::vector<std::string> t;
  for (const auto& [k, v] : entries_) t.push_back(k);
  return t;
}

const std::string& FieldRegistry::summary(const std::string& type) const { return entries_.at(type).summary; }

Field FieldRegistry::make(const nlohmann::json& cfg) const {
  if (!cfg.is_object()) throw ConfigError("field config must be a JSON object with a \"type\"");
  if (!cfg.contains("type") || !cfg["type"].is_string())
    throw ConfigError("field config: missing key 'type' (valid types: " + join_names(types()) + ")");
  const auto type = cfg["type"].get<std::string>();
  auto it = entries_.find(type);
  if (it == entries_.end())
    throw ConfigError("field config: unknown type '" + type + "' (valid types: " + join_names(types()) + ")");
  reject_unknown_keys(cfg, it->second.keys, "field '" + type + "'");
  return it->second.builder(cfg);
}

Field make_field(const nlohmann::json& cfg) { return FieldRegistry::global().make(cfg); }

const std::vector<std::string>& method_names() {
  static const std::vector<std::string> m{"siren", "mfn",   "wire",  "relu",  "relu+bn", "relu+ln", "relu+gn",
                                          "relu+cn", "pe",  "pe+bn", "pe+ln", "pe+gn",   "pe+cn"};
  return m;
}

bool method_has_norm(const std::string& method) { return method.find('+') != std::string::npos; }

nlohmann::json method_config(const std::string& method, int64_t in_dim, int64_t out_dim,
                             int64_t hidden_layers, int64_t width) {
  nlohmann::json c{{"in_dim", in_dim}, {"out_dim", out_dim}, {"hidden_layers", hidden_layers}, {"width", width}};
  if (method == "siren" || method == "wire" || method == "mfn") {
    c["type"] = method;
    return c;
  }
  if (method == "mfn-gabor") {
    c["type"] = "mfn";
    c["filter"] = "gabor";
    return c;
  }
  auto plus = method.find('+');
  const std::string base = method.substr(0, plus);
  const std::string norm = plus == std::string::npos ? "none" : method.substr(plus + 1);
  c["type"] = "mlp";
  if (base == "relu") {
    c["encoding"] = {{"type", "none"}};
  } else if (base == "pe") {
    c["encoding"] = {{"type", "pe"}, {"octaves", 10}};
  } else if (base == "rff") {
    c["encoding"] = {{"type", "rff"}, {"features", 256}, {"sigma", 10.0}};
  } else {
    throw ConfigError("unknown method '" + method + "' (valid: " + join_names(method_names()) +
                      ", mfn-gabor, rff, rff+<norm>)");
  }
  try {
    norm_kind_from_string(norm);
  } catch (const std::invalid_argument&) {
    throw ConfigError("unknown method '" + method + "' (valid: " + join_names(method_names()) + ")");
  }
  c["norm"] = norm;
  return c;
}

std::pair<int64_t, int64_t> parse_arch(const std::string& arch) {
  std::string s = arch;
  // accept "x", "X" and the multiplication sign (UTF-8 C3 97)
  for (const std::string sep : {"\xC3\x97", "X"}) {
    auto p = s.find(sep);
    if (p != std::string::npos) s.replace(p, sep.size(), "x");
  }
  auto p = s.find('x');
  try {
    if (p == std::string::npos) throw std::invalid_argument("no x");
    size_t a = 0, b = 0;
    const long long L = std::stoll(s.substr(0, p), &a);
    const long long W = std::stoll(s.substr(p + 1), &b);
    if (a != p || b != s.size() - p - 1 || L < 1 || W < 1) throw std::invalid_argument("bad");
    return {L, W};
  } catch (const std::exception&) {
    throw ConfigError("architecture '" + arch + "' is not LAYERSxWIDTH (e.g. 10x28)");
  }
}

}  // namespace nf
