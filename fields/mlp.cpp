#include "fields/mlp.h"

#include <ATen/ATen.h>

#include "fields/config.h"
#include "fields/options_json.h"
#include "fields/registry.h"

namespace nf {

MLPImpl::MLPImpl(const MLPOptions& o) : options(o) {
  if (o.hidden_layers() < 1 || o.width() < 1)
    throw ConfigError("field 'mlp': hidden_layers and width must be >= 1");
  encoding = register_module("encoding", make_encoding(o.encoding(), o.in_dim()));
  int64_t d = encoding->out_dim();
  for (int64_t i = 0; i < o.hidden_layers(); ++i) {
    linears.push_back(register_module("linear" + std::to_string(i), torch::nn::Linear(d, o.width())));
    if (o.norm() != NormKind::None) {
      norms.push_back(register_module(
          "norm" + std::to_string(i),
          Norm(NormOptions(o.norm(), o.width())
                   .eps(o.norm_eps())
                   .momentum(o.norm_momentum())
                   .fused(o.norm_fused()))));
    }
    d = o.width();
  }
  output = register_module("output", torch::nn::Linear(d, o.out_dim()));
  if (o.output_activation() != "none" && o.output_activation() != "sigmoid")
    throw ConfigError("field 'mlp': key 'output_activation' must be none or sigmoid");
}

torch::Tensor MLPImpl::forward(torch::Tensor x) {
  x = encoding->forward(x);
  for (size_t i = 0; i < linears.size(); ++i) {
    x = linears[i]->forward(x);
    x = norms.empty() ? at::relu(x) : norms[i]->forward_relu(x);
  }
  x = output->forward(x);
  return options.output_activation() == "sigmoid" ? at::sigmoid(x) : x;
}

namespace {
// "norm": a NormKind in the Options, its name in JSON.
OptionKey<MLPOptions> norm_key() {
  OptionKey<MLPOptions> k;
  k.key = "norm";
  k.read = [](const nlohmann::json& c, MLPOptions& o, const std::string& where) {
    try {
      o.norm(norm_kind_from_string(cfg_get<std::string>(c, "norm", to_string(o.norm()), where)));
    } catch (const std::invalid_argument& e) {
      throw ConfigError(where + ": key 'norm': " + e.what());
    }
  };
  k.write = [](const MLPOptions& o, nlohmann::json& out) { out["norm"] = to_string(o.norm()); };
  return k;
}

// The config keys of "mlp"; defaults are MLPOptions'. config() reports the built encoding's
// full config (its defaults filled in) under "encoding".
const OptionKeys<MLPOptions>& mlp_keys() {
  static const OptionKeys<MLPOptions> keys = [] {
    auto k = network_shape_keys<MLPOptions>();
    k.push_back(norm_key());
    k.push_back(NF_OPTION_KEY(MLPOptions, norm_eps));
    k.push_back(NF_OPTION_KEY(MLPOptions, norm_momentum));
    k.push_back(NF_OPTION_KEY(MLPOptions, norm_fused));
    k.push_back(NF_OPTION_KEY(MLPOptions, encoding));
    k.push_back(NF_OPTION_KEY(MLPOptions, output_activation));
    return k;
  }();
  return keys;
}
}  // namespace

nlohmann::json MLPImpl::config() const {
  nlohmann::json j{{"type", "mlp"}};
  write_options(mlp_keys(), options, j);
  j["encoding"] = encoding->config();
  return j;
}

void register_mlp(FieldRegistry& registry) {
  registry.add("mlp", option_names(mlp_keys()),
               [](const nlohmann::json& c) -> Field {
                 MLPOptions o(0, 0, 0, 0);
                 read_options(mlp_keys(), c, o, "field 'mlp'");
                 return MLP(o).ptr();
               },
               "Linear -> Norm -> ReLU per hidden layer (ReLU, PE, +BN/LN/GN/CN)");
}

}  // namespace nf
