#include <c10/core/GradMode.h>
#include "fields/mfn.h"

#include <ATen/ATen.h>

#include <cmath>

#include "fields/config.h"
#include "fields/options_json.h"
#include "fields/registry.h"

namespace nf {

MFNImpl::MFNImpl(const MFNOptions& o) : options(o) {
  if (o.hidden_layers() < 1 || o.width() < 1) throw ConfigError("field 'mfn': hidden_layers and width must be >= 1");
  if (o.filter() != "fourier" && o.filter() != "gabor")
    throw ConfigError("field 'mfn': key 'filter' must be fourier or gabor, got '" + o.filter() + "'");
  c10::NoGradGuard ng;
  const int64_t n_filters = o.hidden_layers();
  const double L1 = static_cast<double>(n_filters);  // = n_layers + 1 of the official code
  const double scale = o.input_scale() / std::sqrt(L1);
  for (int64_t i = 0; i < n_filters; ++i) {
    auto f = register_module("filter" + std::to_string(i), torch::nn::Linear(o.in_dim(), o.width()));
    f->bias.uniform_(-M_PI, M_PI);
    if (o.filter() == "gabor") {
      auto mu = register_parameter("mu" + std::to_string(i), torch::rand({o.width(), o.in_dim()}) * 2 - 1);
      // Gamma(alpha', beta) via the standard gamma sampler: X = G(alpha') / beta.
      auto conc = torch::full({o.width()}, o.alpha() / L1);
      auto gamma = register_parameter("gamma" + std::to_string(i), at::_standard_gamma(conc) / o.beta());
      f->weight.mul_(scale * at::sqrt(gamma).unsqueeze(1));
      mus.push_back(mu);
      gammas.push_back(gamma);
    } else {
      f->weight.mul_(scale);
    }
    filters.push_back(f);
  }
  const double bound = std::sqrt(o.weight_scale() / o.width());
  for (int64_t i = 0; i + 1 < n_filters; ++i) {
    auto l = register_module("linear" + std::to_string(i), torch::nn::Linear(o.width(), o.width()));
    l->weight.uniform_(-bound, bound);
    linears.push_back(l);
  }
  output = register_module("output", torch::nn::Linear(o.width(), o.out_dim()));
}

torch::Tensor MFNImpl::filter(size_t i, const torch::Tensor& x) {
  auto s = at::sin(filters[i]->forward(x));
  if (options.filter() == "fourier") return s;
  // |x - mu|^2 = |x|^2 + |mu|^2 - 2 x.mu   -> [N, width]
  auto d = x.pow(2).sum(-1, true) + mus[i].pow(2).sum(-1).unsqueeze(0) - 2 * at::matmul(x, mus[i].t());
  return s * at::exp(-0.5 * d * gammas[i].unsqueeze(0));
}

torch::Tensor MFNImpl::forward(torch::Tensor x) {
  auto z = filter(0, x);
  for (size_t i = 0; i < linears.size(); ++i) z = filter(i + 1, x) * linears[i]->forward(z);
  return output->forward(z);
}

namespace {
// The config keys of "mfn"; defaults are MFNOptions'.
const OptionKeys<MFNOptions>& mfn_keys() {
  using O = MFNOptions;
  static const auto keys = network_keys<O>({NF_OPTION_KEY(O, filter), NF_OPTION_KEY(O, input_scale), NF_OPTION_KEY(O, weight_scale),
                                            NF_OPTION_KEY(O, alpha), NF_OPTION_KEY(O, beta)});
  return keys;
}
}  // namespace

nlohmann::json MFNImpl::config() const { return options_config("mfn", mfn_keys(), options); }

void register_mfn(FieldRegistry& registry) {
  add_field_type<MFNImpl>(registry, "mfn", mfn_keys(), MFNOptions(0, 0, 0, 0),
                          "multiplicative filter network (Fourier or Gabor filters)");
}

}  // namespace nf
