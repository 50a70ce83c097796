// The mip-NeRF MLP with optional normalization layers (see mipnerf.h).
#include "fields/mipnerf.h"

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/nn/init.h>

#include "fields/config.h"
#include "fields/options_json.h"
#include "fields/registry.h"

namespace nf {
namespace {

torch::nn::Linear glorot_linear(int64_t in, int64_t out) {
  torch::nn::Linear l(in, out);
  c10::NoGradGuard ng;
  torch::nn::init::xavier_uniform_(l->weight);
  torch::nn::init::zeros_(l->bias);
  return l;
}

bool skip_after(const MipNeRFOptions& o, int64_t i) { return o.skip() > 0 && i > 0 && i % o.skip() == 0; }

// Exchanges the frozen-statistics handles of the norm layers with the coarse buffers for the
// lifetime of the guard (handles, not contents: no in-place change of a tensor a graph may hold).
struct CoarseStatsGuard {
  CoarseStatsGuard(MipNeRFImpl& m, std::vector<Norm> norms, bool active) : m_(m), norms_(std::move(norms)), active_(active) {
    if (active_) swap();
  }
  ~CoarseStatsGuard() {
    if (active_) swap();
  }
  void swap() {
    for (size_t k = 0; k < norms_.size(); ++k) {
      std::swap(norms_[k]->frozen_mean, m_.coarse_mean[k]);
      std::swap(norms_[k]->frozen_var, m_.coarse_var[k]);
      std::swap(norms_[k]->frozen_count, m_.coarse_count[k]);
    }
  }
  MipNeRFImpl& m_;
  std::vector<Norm> norms_;
  bool active_;
};

}  // namespace

MipNeRFImpl::MipNeRFImpl(const MipNeRFOptions& o) : options(o) {
  const std::string w = "field 'mipnerf'";
  if (o.depth() < 1 || o.width() < 1) throw ConfigError(w + ": depth and width must be >= 1");
  if (o.skip() < 0) throw ConfigError(w + ": key 'skip' must be >= 0 (0: no skip connection)");
  if (o.view_depth() < 0 || o.view_width() < 1) throw ConfigError(w + ": view_depth must be >= 0, view_width >= 1");
  if (o.ipe_min_deg() < 0 || o.ipe_max_deg() <= o.ipe_min_deg())
    throw ConfigError(w + ": need 0 <= ipe_min_deg < ipe_max_deg");
  if (o.view_max_deg() < 0) throw ConfigError(w + ": key 'view_max_deg' must be >= 0");
  auto make_norm = [&](int64_t channels) {
    return Norm(NormOptions(o.norm(), channels).eps(o.norm_eps()).momentum(o.norm_momentum()).fused(o.norm_fused()));
  };
  int64_t d = ipe_dim();
  for (int64_t i = 0; i < o.depth(); ++i) {
    trunk.push_back(register_module("trunk" + std::to_string(i), glorot_linear(d, o.width())));
    if (o.norm() != NormKind::None) trunk_norms.push_back(register_module("norm" + std::to_string(i), make_norm(o.width())));
    d = o.width() + (skip_after(o, i) ? ipe_dim() : 0);
  }
  density_head = register_module("density", glorot_linear(d, 1));
  bottleneck = register_module("bottleneck", glorot_linear(d, o.width()));
  int64_t h = o.width() + view_dim();
  for (int64_t j = 0; j < o.view_depth(); ++j) {
    view_layers.push_back(register_module("view" + std::to_string(j), glorot_linear(h, o.view_width())));
    if (o.norm() != NormKind::None && o.norm_view())
      view_norms.push_back(register_module("view_norm" + std::to_string(j), make_norm(o.view_width())));
    h = o.view_width();
  }
  rgb_head = register_module("rgb", glorot_linear(h, 3));
  for (const auto& n : all_norms()) {
    const auto k = coarse_mean.size();
    coarse_mean.push_back(register_buffer("coarse_mean" + std::to_string(k), n->frozen_mean.clone()));
    coarse_var.push_back(register_buffer("coarse_var" + std::to_string(k), n->frozen_var.clone()));
    coarse_count.push_back(register_buffer("coarse_count" + std::to_string(k), n->frozen_count.clone()));
  }
  pass_stats = register_buffer("pass_stats", torch::zeros({1}));
}

std::vector<Norm> MipNeRFImpl::all_norms() const {
  std::vector<Norm> v = trunk_norms;
  v.insert(v.end(), view_norms.begin(), view_norms.end());
  return v;
}

bool MipNeRFImpl::has_pass_stats() const { return pass_stats.item<double>() > 0; }

std::pair<torch::Tensor, torch::Tensor> MipNeRFImpl::forward_nerf(const torch::Tensor& ipe,
                                                                  const torch::Tensor& viewdir_enc, NerfPass pass) {
  TORCH_CHECK(ipe.dim() == 2 && ipe.size(1) == ipe_dim(), "mipnerf: ipe features must be [M, ", ipe_dim(), "], got ",
              ipe.sizes());
  TORCH_CHECK(viewdir_enc.dim() == 2 && viewdir_enc.size(1) == view_dim() && viewdir_enc.size(0) == ipe.size(0),
              "mipnerf: viewdir encoding must be [M, ", view_dim(), "] with M = ", ipe.size(0), ", got ",
              viewdir_enc.sizes());
  auto norms = all_norms();
  // Coarse statistics apply in frozen mode (not while calibrating: that measures batch statistics).
  bool use_coarse = pass == NerfPass::Coarse && !norms.empty();
  for (auto& n : norms) use_coarse = use_coarse && n->mode() == NormMode::Frozen && !n->calibrating();
  use_coarse = use_coarse && has_pass_stats();  // last: reading the flag syncs with the device
  CoarseStatsGuard guard(*this, norms, use_coarse);

  const auto& o = options;
  torch::Tensor x = ipe;
  for (int64_t i = 0; i < o.depth(); ++i) {
    x = trunk[i]->forward(x);
    x = trunk_norms.empty() ? at::relu(x) : trunk_norms[i]->forward_relu(x);
    if (skip_after(o, i)) x = at::cat({x, ipe}, -1);
  }
  auto density = at::softplus(density_head->forward(x).squeeze(-1) + o.density_bias());  // [M]
  auto h = at::cat({bottleneck->forward(x), viewdir_enc}, -1);
  for (int64_t j = 0; j < o.view_depth(); ++j) {
    h = view_layers[j]->forward(h);
    h = view_norms.empty() ? at::relu(h) : view_norms[j]->forward_relu(h);
  }
  auto rgb = at::sigmoid(rgb_head->forward(h)) * (1 + 2 * o.rgb_padding()) - o.rgb_padding();  // [M, 3]
  return {density, rgb};
}

torch::Tensor MipNeRFImpl::forward(torch::Tensor x) {
  TORCH_CHECK(x.dim() == 2 && x.size(1) == in_dim(), "mipnerf: packed input must be [M, ", in_dim(), "], got ",
              x.sizes());
  auto [density, rgb] = forward_nerf(x.slice(1, 0, ipe_dim()), x.slice(1, ipe_dim()), NerfPass::Fine);
  return at::cat({rgb, density.unsqueeze(-1)}, -1);
}

void MipNeRFImpl::calibrate_nerf(const std::function<void()>& coarse_pass, const std::function<void()>& fine_pass,
                                 int64_t coarse_rows_per_call, int64_t fine_rows_per_call) {
  c10::NoGradGuard ng;
  auto norms = all_norms();
  for (auto& n : norms) n->begin_calibration();
  coarse_pass();
  for (size_t k = 0; k < norms.size(); ++k) {
    norms[k]->end_calibration();
    coarse_mean[k].copy_(norms[k]->frozen_mean);
    coarse_var[k].copy_(norms[k]->frozen_var);
    coarse_count[k].copy_(norms[k]->frozen_count);
    if (coarse_rows_per_call > 0) coarse_count[k].fill_(static_cast<double>(coarse_rows_per_call));
  }
  for (auto& n : norms) n->begin_calibration();
  fine_pass();
  for (auto& n : norms) {
    n->end_calibration();
    if (fine_rows_per_call > 0) n->frozen_count.fill_(static_cast<double>(fine_rows_per_call));
    n->set_mode(NormMode::Frozen);
  }
  pass_stats.fill_(1.0);
}

namespace {
// The config keys of "mipnerf" (besides "preset"); defaults are MipNeRFOptions', but view_width's
// is half the width (at least 1).
const OptionKeys<MipNeRFOptions>& mipnerf_keys() {
  using O = MipNeRFOptions;
  static const OptionKeys<O> keys = [] {
    OptionKeys<O> k{NF_OPTION_KEY(O, depth), NF_OPTION_KEY(O, width), NF_OPTION_KEY(O, skip)};
    add_norm_keys(k);
    k.push_back(NF_OPTION_KEY(O, norm_view));
    auto view_width = NF_OPTION_KEY(O, view_width);
    view_width.read = [](const nlohmann::json& c, O& o, const std::string& w) {
      o.view_width(cfg_get<int64_t>(c, "view_width", o.width() / 2 > 0 ? o.width() / 2 : 1, w));
    };
    k.push_back(view_width);
    for (auto key : {NF_OPTION_KEY(O, view_depth), NF_OPTION_KEY(O, ipe_min_deg), NF_OPTION_KEY(O, ipe_max_deg),
                     NF_OPTION_KEY(O, view_max_deg), NF_OPTION_KEY(O, density_bias), NF_OPTION_KEY(O, rgb_padding)})
      k.push_back(key);
    return k;
  }();
  return keys;
}
}  // namespace

nlohmann::json MipNeRFImpl::config() const { return options_config("mipnerf", mipnerf_keys(), options); }

nlohmann::json mipnerf_config(const std::string& preset, const std::string& norm) {
  nlohmann::json c{{"type", "mipnerf"}, {"norm", norm}};
  if (preset == "full") {
    c.update({{"depth", 8}, {"width", 256}, {"skip", 4}, {"view_width", 128}});
  } else if (preset == "small") {
    c.update({{"depth", 4}, {"width", 64}, {"skip", 2}, {"view_width", 32}});
  } else {
    throw ConfigError("field 'mipnerf': unknown preset '" + preset + "' (valid: full, small)");
  }
  return c;
}

void register_mipnerf(FieldRegistry& registry) {
  add_field_type<MipNeRFImpl>(
      registry, "mipnerf", mipnerf_keys(), MipNeRFOptions(),
      "mip-NeRF MLP (IPE input, skip at layer 4, density + view-dependent rgb; optional BN/LN/GN/CN)",
      [](const std::string& preset) { return mipnerf_config(preset, "none"); });
}

}  // namespace nf
