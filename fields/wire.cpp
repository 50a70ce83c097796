#include "fields/wire.h"

#include <ATen/ATen.h>

#include <cmath>

#include "fields/config.h"
#include "fields/options_json.h"
#include "fields/registry.h"

namespace nf {

WireImpl::Layer WireImpl::make_layer(const std::string& name, int64_t in, int64_t out, bool complex_in) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  Layer l;
  l.wr = register_parameter(name + "_wr", torch::empty({out, in}).uniform_(-bound, bound));
  l.br = register_parameter(name + "_br", torch::empty({out}).uniform_(-bound, bound));
  if (complex_in) {
    l.wi = register_parameter(name + "_wi", torch::empty({out, in}).uniform_(-bound, bound));
    l.bi = register_parameter(name + "_bi", torch::empty({out}).uniform_(-bound, bound));
  }
  return l;
}

WireImpl::WireImpl(const WireOptions& o) : options(o) {
  if (o.hidden_layers() < 1 || o.width() < 1) throw ConfigError("field 'wire': hidden_layers and width must be >= 1");
  hidden_width_ = std::max<int64_t>(1, static_cast<int64_t>(o.width() / std::sqrt(2.0)));
  int64_t d = o.in_dim();
  for (int64_t i = 0; i < o.hidden_layers(); ++i) {
    layers_.push_back(make_layer("layer" + std::to_string(i), d, hidden_width_, /*complex_in=*/i > 0));
    d = hidden_width_;
  }
  output_ = make_layer("output", d, o.out_dim(), /*complex_in=*/true);
}

torch::Tensor WireImpl::forward(torch::Tensor x) {
  // Complex arithmetic on (real, imag) pairs: z = W h + b with W = wr + i wi, h = hr + i hi.
  torch::Tensor hr = x, hi;
  auto linear = [](const Layer& l, const torch::Tensor& hr, const torch::Tensor& hi) {
    auto zr = at::addmm(l.br, hr, l.wr.t());
    torch::Tensor zi;
    if (l.wi.defined()) {
      zi = at::addmm(l.bi, hr, l.wi.t());
      if (hi.defined()) {
        zr = zr - at::matmul(hi, l.wi.t());
        zi = zi + at::matmul(hi, l.wr.t());
      }
    } else {
      zi = at::zeros_like(zr);
    }
    return std::make_pair(zr, zi);
  };
  for (auto& l : layers_) {
    auto [zr, zi] = linear(l, hr, hi);
    // exp(i w z - |s z|^2) with z = zr + i zi:
    //   i w z = -w zi + i w zr ; |s z|^2 = s^2 (zr^2 + zi^2)
    auto mag = at::exp(-options.omega() * zi - options.scale() * options.scale() * (zr * zr + zi * zi));
    auto phase = options.omega() * zr;
    hr = mag * at::cos(phase);
    hi = mag * at::sin(phase);
  }
  return linear(output_, hr, hi).first;
}

namespace {
// The config keys of "wire"; defaults are WireOptions'.
const OptionKeys<WireOptions>& wire_keys() {
  using O = WireOptions;
  static const auto keys = network_keys<O>({NF_OPTION_KEY(O, omega), NF_OPTION_KEY(O, scale)});
  return keys;
}
}  // namespace

nlohmann::json WireImpl::config() const { return options_config("wire", wire_keys(), options); }

void register_wire(FieldRegistry& registry) {
  add_field_type<WireImpl>(registry, "wire", wire_keys(), WireOptions(0, 0, 0, 0),
                           "WIRE, complex Gabor wavelets (omega = 20, s = 10)");
}

}  // namespace nf
