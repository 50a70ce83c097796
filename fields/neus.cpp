// NeuS's SDF, colour and variance networks with optional normalization layers (see neus.h).
#include "fields/neus.h"

#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <c10/core/GradMode.h>
#include <torch/autograd.h>

#include <cmath>

#include "fields/config.h"
#include "fields/options_json.h"
#include "fields/registry.h"

namespace nf {

GradientMode gradient_mode_from_string(const std::string& s) {
  if (s == "per_point") return GradientMode::PerPoint;
  if (s == "autograd") return GradientMode::Autograd;
  throw std::invalid_argument("unknown gradient mode '" + s + "' (valid: per_point, autograd)");
}

std::string to_string(GradientMode m) { return m == GradientMode::PerPoint ? "per_point" : "autograd"; }

torch::Tensor neus_embed(const torch::Tensor& x, int64_t octaves) {
  std::vector<torch::Tensor> parts{x};
  for (int64_t k = 0; k < octaves; ++k) {
    auto xf = x * static_cast<double>(int64_t{1} << k);
    parts.push_back(at::sin(xf));
    parts.push_back(at::cos(xf));
  }
  return parts.size() == 1 ? x : at::cat(parts, -1);
}

NeuSImpl::NeuSImpl(const NeuSOptions& o) : options(o) {
  const std::string w = "field 'neus'";
  if (o.sdf_depth() < 1 || o.sdf_width() < 1) throw ConfigError(w + ": sdf_depth and sdf_width must be >= 1");
  if (o.skip() < 0 || o.skip() > o.sdf_depth())
    throw ConfigError(w + ": key 'skip' must be in 0..sdf_depth (0: no skip connection)");
  if (o.skip() > 0 && o.sdf_width() <= sdf_input_dim())
    throw ConfigError(w + ": sdf_width must exceed the input width " + std::to_string(sdf_input_dim()) +
                      " when skip > 0");
  if (o.multires() < 0 || o.multires_view() < 0) throw ConfigError(w + ": multires and multires_view must be >= 0");
  if (o.feature_dim() < 0 || o.color_depth() < 0 || o.color_width() < 1)
    throw ConfigError(w + ": feature_dim, color_depth must be >= 0, color_width >= 1");
  if (!(o.scale() > 0)) throw ConfigError(w + ": key 'scale' must be > 0");
  const int64_t d_in = sdf_input_dim();
  const int64_t L = o.sdf_depth();
  int64_t d = d_in;
  for (int64_t l = 0; l <= L; ++l) {
    const int64_t in = l == o.skip() && o.skip() > 0 ? o.sdf_width() : d;
    int64_t out = l == L ? 1 + o.feature_dim() : o.sdf_width();
    if (l + 1 == o.skip()) out = o.sdf_width() - d_in;
    sdf_layers.push_back(register_module("sdf" + std::to_string(l),
                                         WNLinear(WNLinearOptions(in, out).weight_norm(o.weight_norm()))));
    if (l < L && o.norm() != NormKind::None)
      sdf_norms.push_back(register_module(
          "sdf_norm" + std::to_string(l),
          Norm(NormOptions(o.norm(), out).eps(o.norm_eps()).momentum(o.norm_momentum()).fused(o.norm_fused()))));
    d = out;
  }
  if (o.norm_init() != "refit" && o.norm_init() != "reference" && o.norm_init() != "identity")
    throw ConfigError(w + ": key 'norm_init' must be refit, identity or reference, got '" + o.norm_init() + "'");
  if (o.geometric_init()) geometric_init();
  if (o.geometric_init() && o.norm() != NormKind::None && o.norm_init() == "identity") identity_norm_init();
  if (o.geometric_init() && o.norm() != NormKind::None && o.norm_init() == "refit") refit_sdf_output();
  int64_t c = 3 + view_input_dim() + 3 + o.feature_dim();
  for (int64_t l = 0; l <= o.color_depth(); ++l) {
    const int64_t out = l == o.color_depth() ? 3 : o.color_width();
    color_layers.push_back(register_module("color" + std::to_string(l),
                                           WNLinear(WNLinearOptions(c, out).weight_norm(o.weight_norm()))));
    c = out;
  }
  variance = register_parameter("variance", torch::full({1}, o.init_variance()));
}

void NeuSImpl::geometric_init() {
  c10::NoGradGuard ng;
  const auto& o = options;
  const int64_t L = o.sdf_depth();
  const int64_t d_in = sdf_input_dim();
  for (int64_t l = 0; l <= L; ++l) {
    auto& lin = sdf_layers[l];
    const double in = static_cast<double>(lin->v.size(1));
    const double out = static_cast<double>(lin->v.size(0));
    if (l == L) {
      lin->v.normal_(std::sqrt(M_PI) / std::sqrt(in), 1e-4);
      lin->b.fill_(-o.bias());
    } else {
      lin->b.zero_();
      lin->v.normal_(0.0, std::sqrt(2.0) / std::sqrt(out));
      if (o.multires() > 0 && l == 0) {
        lin->v.slice(1, 3).zero_();
      } else if (o.multires() > 0 && o.skip() > 0 && l == o.skip()) {
        lin->v.slice(1, lin->v.size(1) - (d_in - 3)).zero_();
      }
    }
    lin->reset_g();
  }
}

namespace {
// The init's sample: 4096 uniform points of the unit ball (a fixed generator). -> [4096, 3]
at::Tensor init_ball_points() {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(20211);
  auto d = at::randn({4096, 3}, gen, at::kFloat);
  return d / d.norm(2, {1}, true) * at::rand({4096, 1}, gen, at::kFloat).pow(1.0 / 3.0);
}
}  // namespace

void NeuSImpl::identity_norm_init() {
  c10::NoGradGuard ng;
  const auto& o = options;
  auto x = init_ball_points();
  auto in = neus_embed(x * o.scale(), o.multires());
  auto h = in;
  for (int64_t l = 0; l < o.sdf_depth(); ++l) {
    if (o.skip() > 0 && l == o.skip()) h = at::cat({h, in}, 1) / std::sqrt(2.0);
    h = sdf_layers[l]->forward(h);
    auto& n = sdf_norms[l];
    const double momentum = n->options.momentum();
    n->options.momentum(0.0);  // no running-estimate update from this pass
    n->weight.fill_(1.0);
    n->bias.zero_();
    auto y = n->forward(h);  // batch statistics of the sample, affine identity
    // Per channel, least squares h ~ gamma * y + beta: the norm then returns its input (exactly for
    // BN and GN, whose output is an affine map of the input per channel; approximately for CN and LN).
    auto hd = h.to(at::kDouble), yd = y.to(at::kDouble);
    auto yc = yd - yd.mean(0), hc = hd - hd.mean(0);
    auto gamma = (yc * hc).sum(0) / yc.pow(2).sum(0).clamp_min(1e-12);
    auto beta = hd.mean(0) - gamma * yd.mean(0);
    n->weight.copy_(gamma.to(n->weight.scalar_type()));
    n->bias.copy_(beta.to(n->bias.scalar_type()));
    h = at::softplus(n->forward(h), 100.0, 20.0);
    n->options.momentum(momentum);
  }
}

void NeuSImpl::refit_sdf_output() {
  c10::NoGradGuard ng;
  auto x = init_ball_points();
  std::vector<double> momentum;
  for (auto& n : sdf_norms) {  // no running-estimate update from this pass
    momentum.push_back(n->options.momentum());
    n->options.momentum(0.0);
  }
  auto& out = sdf_layers.back();
  auto o = at::linear(hidden(x, false), out->weight().slice(0, 0, 1)).squeeze(1).to(at::kDouble);
  for (size_t k = 0; k < sdf_norms.size(); ++k) sdf_norms[k]->options.momentum(momentum[k]);
  auto t = (x.norm(2, {1}) - options.bias()).to(at::kDouble);
  auto oc = o - o.mean(), tc = t - t.mean();
  const double var = oc.pow(2).sum().item<double>();
  const double a = var > 0 ? (oc * tc).sum().item<double>() / var : 0.0;
  const double b = t.mean().item<double>() - a * o.mean().item<double>();
  if (out->options.weight_norm())
    out->g[0].mul_(a);
  else
    out->v[0].mul_(a);
  out->b[0].fill_(b);
}

torch::Tensor NeuSImpl::hidden(const torch::Tensor& x, bool kept) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == 3, "neus: points must be [N, 3], got ", x.sizes());
  const auto& o = options;
  auto in = neus_embed(x * o.scale(), o.multires());
  auto h = in;
  for (int64_t l = 0; l < o.sdf_depth(); ++l) {
    if (o.skip() > 0 && l == o.skip()) h = at::cat({h, in}, 1) / std::sqrt(2.0);
    h = sdf_layers[l]->forward(h);
    if (!sdf_norms.empty()) h = kept ? sdf_norms[l]->forward_kept(h) : sdf_norms[l]->forward(h);
    h = at::softplus(h, 100.0, 20.0);
  }
  if (o.skip() > 0 && o.skip() == o.sdf_depth()) h = at::cat({h, in}, 1) / std::sqrt(2.0);
  return h;
}

torch::Tensor NeuSImpl::sdf_and_feature(const torch::Tensor& x) {
  auto out = sdf_layers.back()->forward(hidden(x, false));
  if (options.scale() == 1.0) return out;
  return at::cat({out.slice(1, 0, 1) / options.scale(), out.slice(1, 1)}, 1);
}

torch::Tensor NeuSImpl::sdf(const torch::Tensor& x) {
  return sdf_layers.back()->forward_rows(hidden(x, false), 0, 1).squeeze(1) / options.scale();
}

torch::Tensor NeuSImpl::forward(torch::Tensor x) { return sdf(x).unsqueeze(1); }

namespace {

// r with its sdf and feature split from out [N, 1 + F] (r.gradient already set), detached as the
// caller's grad mode and create_graph ask.
NeuSImpl::SdfGrad split_output(NeuSImpl::SdfGrad r, const torch::Tensor& out, bool grad_on, bool create_graph) {
  r.sdf = out.select(1, 0);
  r.feature = out.slice(1, 1);
  if (!create_graph) r.gradient = r.gradient.detach();
  if (!grad_on) {
    r.sdf = r.sdf.detach();
    r.feature = r.feature.detach();
  }
  return r;
}

}  // namespace

NeuSImpl::SdfGrad NeuSImpl::sdf_feature_gradient(const torch::Tensor& x, bool create_graph) {
  const bool grad_on = c10::GradMode::is_enabled();
  SdfGrad r;
  torch::Tensor out;
  if (!batch_dependent() || options.gradient_mode() == GradientMode::Autograd) {
    at::AutoGradMode enable(true);
    auto xg = x.detach().set_requires_grad(true);
    out = sdf_and_feature(xg);
    auto s = out.slice(1, 0, 1);
    r.gradient = torch::autograd::grad({s}, {xg}, {at::ones_like(s)}, /*retain_graph=*/true, create_graph)[0];
  } else {
    // Per point: a batch-mode pass keeps the statistics, a second pass holds them fixed.
    for (auto& n : sdf_norms) n->keep_batch_stats(true);
    try {
      out = sdf_and_feature(x);
    } catch (...) {
      for (auto& n : sdf_norms) n->keep_batch_stats(false);
      throw;
    }
    for (auto& n : sdf_norms) n->keep_batch_stats(false);
    at::AutoGradMode enable(true);
    auto xg = x.detach().set_requires_grad(true);
    auto s = sdf_layers.back()->forward_rows(hidden(xg, true), 0, 1) / options.scale();
    r.gradient = torch::autograd::grad({s}, {xg}, {at::ones_like(s)}, /*retain_graph=*/true, create_graph)[0];
    for (auto& n : sdf_norms) n->kept_mean = n->kept_var = torch::Tensor();  // release the graph
  }
  return split_output(std::move(r), out, grad_on, create_graph);
}

NeuSImpl::SdfGrad NeuSImpl::sdf_feature_gradient_kept(const torch::Tensor& x, bool create_graph) {
  const bool grad_on = c10::GradMode::is_enabled();
  SdfGrad r;
  at::AutoGradMode enable(true);
  auto xg = x.detach().set_requires_grad(true);
  auto out = sdf_layers.back()->forward(hidden(xg, true));
  if (options.scale() != 1.0) out = at::cat({out.slice(1, 0, 1) / options.scale(), out.slice(1, 1)}, 1);
  auto s = out.slice(1, 0, 1);
  r.gradient = torch::autograd::grad({s}, {xg}, {at::ones_like(s)}, /*retain_graph=*/true, create_graph)[0];
  return split_output(std::move(r), out, grad_on, create_graph);
}

void NeuSImpl::release_kept_stats() {
  for (auto& n : sdf_norms) n->kept_mean = n->kept_var = torch::Tensor();
}

torch::Tensor NeuSImpl::gradient(const torch::Tensor& x, bool create_graph) {
  return sdf_feature_gradient(x, create_graph).gradient;
}

torch::Tensor NeuSImpl::color(const torch::Tensor& points, const torch::Tensor& dirs, const torch::Tensor& normals,
                              const torch::Tensor& feature) {
  TORCH_CHECK(points.dim() == 2 && points.size(1) == 3 && dirs.sizes() == points.sizes() &&
                  normals.sizes() == points.sizes(),
              "neus color: points, dirs, normals must be [N, 3]");
  TORCH_CHECK(feature.dim() == 2 && feature.size(0) == points.size(0) && feature.size(1) == options.feature_dim(),
              "neus color: feature must be [N, ", options.feature_dim(), "], got ", feature.sizes());
  auto h = at::cat({points, neus_embed(dirs, options.multires_view()), normals, feature}, 1);
  for (int64_t l = 0; l < options.color_depth(); ++l) h = at::relu(color_layers[l]->forward(h));
  return at::sigmoid(color_layers.back()->forward(h));
}

void NeuSImpl::keep_batch_stats(bool on) {
  for (auto& n : sdf_norms) n->keep_batch_stats(on);
}

torch::Tensor NeuSImpl::sdf_kept(const torch::Tensor& x) {
  return sdf_layers.back()->forward_rows(hidden(x, true), 0, 1).squeeze(1) / options.scale();
}

torch::Tensor NeuSImpl::inv_s() const { return at::exp(variance * 10.0); }

namespace {
// The config keys of "neus" (besides "preset"); defaults are NeuSOptions'.
const OptionKeys<NeuSOptions>& neus_keys() {
  using O = NeuSOptions;
  static const OptionKeys<O> keys = [] {
    OptionKeys<O> k{NF_OPTION_KEY(O, sdf_depth),      NF_OPTION_KEY(O, sdf_width),     NF_OPTION_KEY(O, skip),
                    NF_OPTION_KEY(O, multires),       NF_OPTION_KEY(O, feature_dim),   NF_OPTION_KEY(O, bias),
                    NF_OPTION_KEY(O, scale),          NF_OPTION_KEY(O, geometric_init), NF_OPTION_KEY(O, weight_norm),
                    NF_OPTION_KEY(O, color_depth),    NF_OPTION_KEY(O, color_width),   NF_OPTION_KEY(O, multires_view),
                    NF_OPTION_KEY(O, init_variance)};
    add_norm_keys(k);
    k.push_back(NF_NAMED_KEY(O, gradient_mode, gradient_mode_from_string));
    k.push_back(NF_OPTION_KEY(O, norm_init));
    return k;
  }();
  return keys;
}
}  // namespace

nlohmann::json NeuSImpl::config() const { return options_config("neus", neus_keys(), options); }

nlohmann::json neus_config(const std::string& preset, const std::string& norm) {
  nlohmann::json c{{"type", "neus"}, {"norm", norm}};
  if (preset == "full") {
    c.update({{"sdf_depth", 8}, {"sdf_width", 256}, {"skip", 4}, {"feature_dim", 256}, {"color_depth", 4},
              {"color_width", 256}});
  } else if (preset == "small") {
    c.update({{"sdf_depth", 4}, {"sdf_width", 64}, {"skip", 2}, {"feature_dim", 64}, {"color_depth", 2},
              {"color_width", 64}});
  } else {
    throw ConfigError("field 'neus': unknown preset '" + preset + "' (valid: full, small)");
  }
  return c;
}

void register_neus(FieldRegistry& registry) {
  add_field_type<NeuSImpl>(registry, "neus", neus_keys(), NeuSOptions(),
                           "NeuS SDF + colour + variance networks (geometric init, weight norm; optional BN/LN/GN/CN)",
                           [](const std::string& preset) { return neus_config(preset, "none"); });
}

}  // namespace nf
