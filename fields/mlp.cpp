#include "fields/mlp.h"

#include <ATen/ATen.h>

#include "fields/config.h"

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

nlohmann::json MLPImpl::config() const {
  return {{"type", "mlp"},
          {"in_dim", options.in_dim()},
          {"out_dim", options.out_dim()},
          {"hidden_layers", options.hidden_layers()},
          {"width", options.width()},
          {"norm", to_string(options.norm())},
          {"norm_eps", options.norm_eps()},
          {"norm_momentum", options.norm_momentum()},
          {"norm_fused", options.norm_fused()},
          {"encoding", encoding->config()},
          {"output_activation", options.output_activation()}};
}

}  // namespace nf
