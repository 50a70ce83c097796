#include <c10/core/GradMode.h>
#include "fields/siren.h"

#include <ATen/ATen.h>
#include <torch/nn/init.h>

#include <cmath>

#include "fields/config.h"
#include "fields/options_json.h"
#include "fields/registry.h"

namespace nf {

SirenImpl::SirenImpl(const SirenOptions& o) : options(o) {
  if (o.hidden_layers() < 1 || o.width() < 1) throw ConfigError("field 'siren': hidden_layers and width must be >= 1");
  c10::NoGradGuard ng;
  int64_t d = o.in_dim();
  for (int64_t i = 0; i < o.hidden_layers(); ++i) {
    auto lin = register_module("linear" + std::to_string(i), torch::nn::Linear(d, o.width()));
    const double bound = i == 0 ? 1.0 / d : std::sqrt(6.0 / d) / o.hidden_omega0();
    lin->weight.uniform_(-bound, bound);
    layers.push_back(lin);
    d = o.width();
  }
  output = register_module("output", torch::nn::Linear(d, o.out_dim()));
  const double bound = std::sqrt(6.0 / d) / o.hidden_omega0();
  output->weight.uniform_(-bound, bound);
}

torch::Tensor SirenImpl::forward(torch::Tensor x) {
  for (size_t i = 0; i < layers.size(); ++i) {
    const double w0 = i == 0 ? options.omega0() : options.hidden_omega0();
    x = at::sin(layers[i]->forward(x) * w0);
  }
  return output->forward(x);
}

namespace {
// The config keys of "siren"; defaults are SirenOptions'.
const OptionKeys<SirenOptions>& siren_keys() {
  using O = SirenOptions;
  static const auto keys = network_keys<O>({NF_OPTION_KEY(O, omega0), NF_OPTION_KEY(O, hidden_omega0)});
  return keys;
}
}  // namespace

nlohmann::json SirenImpl::config() const { return options_config("siren", siren_keys(), options); }

void register_siren(FieldRegistry& registry) {
  add_field_type<SirenImpl>(registry, "siren", siren_keys(), SirenOptions(0, 0, 0, 0),
                            "SIREN, sine activations (omega0 = 30)");
}

}  // namespace nf
