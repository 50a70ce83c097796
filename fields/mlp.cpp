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
// The config keys of "mlp"; defaults are MLPOptions'. config() reports the built encoding's
// full config (its defaults filled in) under "encoding".
const OptionKeys<MLPOptions>& mlp_keys() {
  static const OptionKeys<MLPOptions> keys = [] {
    auto k = network_shape_keys<MLPOptions>();
    add_norm_keys(k);
    k.push_back(NF_OPTION_KEY(MLPOptions, encoding));
    k.push_back(NF_OPTION_KEY(MLPOptions, output_activation));
    return k;
  }();
  return keys;
}
}  // namespace

nlohmann::json MLPImpl::config() const {
  auto j = options_config("mlp", mlp_keys(), options);
  j["encoding"] = encoding->config();
  return j;
}

void register_mlp(FieldRegistry& registry) {
  add_field_type<MLPImpl>(registry, "mlp", mlp_keys(), MLPOptions(0, 0, 0, 0),
                          "Linear -> Norm -> ReLU per hidden layer (ReLU, PE, +BN/LN/GN/CN)");
}

}  // namespace nf
