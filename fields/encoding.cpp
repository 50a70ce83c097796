#include "fields/encoding.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>

#include "fields/config.h"
#include "fields/options_json.h"

namespace nf {

namespace {

// The config keys of "pe" and "rff"; defaults are their Options'.
const OptionKeys<PositionalEncodingOptions>& pe_keys() {
  static const OptionKeys<PositionalEncodingOptions> k{NF_OPTION_KEY(PositionalEncodingOptions, octaves),
                                                       NF_OPTION_KEY(PositionalEncodingOptions, include_input)};
  return k;
}
const OptionKeys<FourierFeaturesOptions>& rff_keys() {
  static const OptionKeys<FourierFeaturesOptions> k{NF_OPTION_KEY(FourierFeaturesOptions, features),
                                                    NF_OPTION_KEY(FourierFeaturesOptions, sigma)};
  return k;
}

}  // namespace

PositionalEncodingImpl::PositionalEncodingImpl(const PositionalEncodingOptions& o) : options(o) {
  if (o.octaves() < 0) throw ConfigError("encoding 'pe': key 'octaves' must be >= 0");
}

torch::Tensor PositionalEncodingImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> parts;
  parts.reserve(2 * options.octaves() + 1);
  if (options.include_input()) parts.push_back(x);
  for (int64_t k = 0; k < options.octaves(); ++k) {
    auto xf = x * (std::pow(2.0, static_cast<double>(k)) * M_PI);
    parts.push_back(at::sin(xf));
    parts.push_back(at::cos(xf));
  }
  return at::cat(parts, -1);
}

nlohmann::json PositionalEncodingImpl::config() const { return options_config("pe", pe_keys(), options); }

FourierFeaturesImpl::FourierFeaturesImpl(const FourierFeaturesOptions& o) : options(o) {
  if (o.features() <= 0) throw ConfigError("encoding 'rff': key 'features' must be > 0");
  B = register_buffer("B", torch::randn({o.in_dim(), o.features()}) * o.sigma());
}

torch::Tensor FourierFeaturesImpl::forward(const torch::Tensor& x) {
  auto proj = at::matmul(x, B) * (2.0 * M_PI);
  return at::cat({at::cos(proj), at::sin(proj)}, -1);
}

nlohmann::json FourierFeaturesImpl::config() const { return options_config("rff", rff_keys(), options); }

EncodingRegistry& EncodingRegistry::global() {
  static EncodingRegistry* r = [] {
    auto* reg = new EncodingRegistry();
    reg->add("none", {}, [](const nlohmann::json&, int64_t in_dim) -> Encoding {
      return std::make_shared<IdentityEncodingImpl>(in_dim);
    });
    reg->add("pe", option_names(pe_keys()), [](const nlohmann::json& c, int64_t in_dim) -> Encoding {
      PositionalEncodingOptions o(in_dim);
      read_options(pe_keys(), c, o, "encoding 'pe'");
      return PositionalEncoding(o).ptr();
    });
    reg->add("rff", option_names(rff_keys()), [](const nlohmann::json& c, int64_t in_dim) -> Encoding {
      FourierFeaturesOptions o(in_dim);
      read_options(rff_keys(), c, o, "encoding 'rff'");
      return FourierFeatures(o).ptr();
    });
    return reg;
  }();
  return *r;
}

void EncodingRegistry::add(const std::string& type, std::vector<std::string> keys, EncodingBuilder builder) {
  entries_[type] = Entry{std::move(keys), std::move(builder)};
}

std::vector<std::string> EncodingRegistry::types() const {
  std::vector<std::string> t;
  for (const auto& [k, v] : entries_) t.push_back(k);
  return t;
}

Encoding EncodingRegistry::make(const nlohmann::json& cfg, int64_t in_dim) const {
  if (cfg.is_null()) return std::make_shared<IdentityEncodingImpl>(in_dim);
  if (!cfg.is_object()) throw ConfigError("encoding: must be an object like {\"type\": \"pe\"}");
  const auto type = cfg_get<std::string>(cfg, "type", "none", "encoding");
  auto it = entries_.find(type);
  if (it == entries_.end())
    throw ConfigError("encoding: unknown type '" + type + "' (valid: " + join_names(types()) + ")");
  reject_unknown_keys(cfg, it->second.keys, "encoding '" + type + "'");
  return it->second.builder(cfg, in_dim);
}

Encoding make_encoding(const nlohmann::json& cfg, int64_t in_dim) { return EncodingRegistry::global().make(cfg, in_dim); }

}  // namespace nf
