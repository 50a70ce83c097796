#include "fields/encoding.h"

#include <ATen/ATen.h>

#include <cmath>

#include "fields/config.h"

namespace nf {

PositionalEncodingImpl::PositionalEncodingImpl(int64_t in_dim, int64_t octaves, bool include_input)
    : in_dim_(in_dim), octaves_(octaves), include_input_(include_input) {
  if (octaves < 0) throw ConfigError("encoding 'pe': key 'octaves' must be >= 0");
}

torch::Tensor PositionalEncodingImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> parts;
  parts.reserve(2 * octaves_ + 1);
  if (include_input_) parts.push_back(x);
  for (int64_t k = 0; k < octaves_; ++k) {
    auto xf = x * (std::pow(2.0, static_cast<double>(k)) * M_PI);
    parts.push_back(at::sin(xf));
    parts.push_back(at::cos(xf));
  }
  return at::cat(parts, -1);
}

nlohmann::json PositionalEncodingImpl::config() const {
  return {{"type", "pe"}, {"octaves", octaves_}, {"include_input", include_input_}};
}

FourierFeaturesImpl::FourierFeaturesImpl(int64_t in_dim, int64_t features, double sigma)
    : in_dim_(in_dim), features_(features), sigma_(sigma) {
  if (features <= 0) throw ConfigError("encoding 'rff': key 'features' must be > 0");
  B = register_buffer("B", torch::randn({in_dim, features}) * sigma);
}

torch::Tensor FourierFeaturesImpl::forward(const torch::Tensor& x) {
  auto proj = at::matmul(x, B) * (2.0 * M_PI);
  return at::cat({at::cos(proj), at::sin(proj)}, -1);
}

nlohmann::json FourierFeaturesImpl::config() const {
  return {{"type", "rff"}, {"features", features_}, {"sigma", sigma_}};
}

Encoding make_encoding(const nlohmann::json& cfg, int64_t in_dim) {
  const std::string where = "encoding";
  if (cfg.is_null()) return std::make_shared<IdentityEncodingImpl>(in_dim);
  if (!cfg.is_object()) throw ConfigError("encoding: must be an object like {\"type\": \"pe\"}");
  auto type = cfg_get<std::string>(cfg, "type", "none", where);
  if (type == "none") return std::make_shared<IdentityEncodingImpl>(in_dim);
  if (type == "pe")
    return std::make_shared<PositionalEncodingImpl>(in_dim, cfg_get<int64_t>(cfg, "octaves", 10, "encoding 'pe'"),
                                                    cfg_get<bool>(cfg, "include_input", true, "encoding 'pe'"));
  if (type == "rff")
    return std::make_shared<FourierFeaturesImpl>(in_dim, cfg_get<int64_t>(cfg, "features", 256, "encoding 'rff'"),
                                                 cfg_get<double>(cfg, "sigma", 10.0, "encoding 'rff'"));
  throw ConfigError("encoding: unknown type '" + type + "' (valid: none, pe, rff)");
}

}  // namespace nf
