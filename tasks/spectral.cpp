#include "tasks/spectral.h"

#include <torch/optim/adam.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <random>
#include <stdexcept>

#include "fields/registry.h"
#include "fields/spectrum.h"
#include "tasks/task_registry.h"

namespace nf {
namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

Field build(const std::string& method, const SpectralTarget& t, int64_t layers, int64_t width, uint64_t seed,
            nlohmann::json* cfg_out) {
  auto cfg = method_config(method, t.coords.size(1), t.values.size(1), layers, width);
  at::manual_seed(seed);
  auto f = make_field(cfg);
  if (cfg_out) *cfg_out = cfg;
  return f;
}

at::Tensor to_spatial(const at::Tensor& v, const std::vector<int64_t>& shape) {  // [N, C] -> [N] / [H, W, C]
  if (shape.size() == 1) return v.size(1) == 1 ? v.reshape({shape[0]}) : v;
  return v.reshape({shape[0], shape[1], v.size(1)});
}

std::vector<double> band_errors(FieldImpl& f, const SpectralTarget& t) {
  at::NoGradGuard ng;
  auto pred = f.forward(t.coords);
  auto e = t.frequency_indices.empty()
               ? relative_band_error(to_spatial(pred, t.shape), to_spatial(t.values, t.shape), t.n_bins, t.max_freq)
               : relative_error_at_frequencies(to_spatial(pred, t.shape), to_spatial(t.values, t.shape),
                                               t.frequency_indices);
  auto c = e.contiguous();
  return std::vector<double>(c.data_ptr<double>(), c.data_ptr<double>() + c.numel());
}

}  // namespace

SpectralTarget sine_sum_target(int64_t n, int64_t components, int64_t base_cycles, uint64_t seed) {
  if (n < 8 || components < 1 || base_cycles < 1 || 2 * (components + 0.5) * base_cycles > n)
    throw std::runtime_error("tasks/spectral.cpp: sine_sum_target: need n >= 8 and the highest frequency below Nyquist");
  SpectralTarget t;
  t.name = "sine-sum";
  auto x = -1.0 + 2.0 * at::arange(n, at::kDouble) / static_cast<double>(n);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> phase(0, 2 * M_PI);
  auto y = at::zeros({n}, at::kDouble);
  for (int64_t i = 1; i <= components; ++i) {
    const int64_t c = i * base_cycles;
    y += at::sin(M_PI * static_cast<double>(c) * x + phase(rng));
    t.band_labels.push_back(static_cast<double>(c));
    t.frequency_indices.push_back(c);
  }
  y /= static_cast<double>(components);
  t.coords = x.to(at::kFloat).view({n, 1});
  t.values = y.to(at::kFloat).view({n, 1});
  t.shape = {n};
  t.n_bins = components;
  // (band alternative: component i sits at r = 2 c_i / n in Nyquist units, one per band up to this)
  t.max_freq = 2.0 * (components + 0.5) * base_cycles / n;
  t.band_unit = "cycles over [-1, 1]";
  return t;
}

namespace {
at::Tensor grid_coords(int64_t H, int64_t W) {  // reference convention: both axes / (H - 1)
  auto r = at::arange(H, at::kFloat) / static_cast<float>(H - 1) * 2 - 1;
  auto c = at::arange(W, at::kFloat) / static_cast<float>(H - 1) * 2 - 1;
  auto g = at::meshgrid({r, c}, "ij");
  return at::stack({g[1].reshape({-1}), g[0].reshape({-1})}, 1);  // (x = column, y = row)
}
void radial_labels(SpectralTarget& t) {
  const double mf = t.max_freq > 0 ? t.max_freq : std::sqrt(2.0);
  t.band_labels.clear();
  for (int64_t b = 0; b < t.n_bins; ++b) t.band_labels.push_back((b + 0.5) * mf / t.n_bins);
  t.band_unit = "radial frequency (fraction of Nyquist)";
}
}  // namespace

SpectralTarget zone_plate_target(int64_t size, int64_t n_bins) {
  SpectralTarget t;
  t.name = "zone-plate";
  auto xy = grid_coords(size, size);
  auto r2 = xy.pow(2).sum(1, true);
  // phase pi/4 * size * r^2: size * r / 4 cycles per unit, one unit = (size - 1) / 2 pixels, so about
  // r / 2 cycles per pixel: Nyquist at r = 1 (the corners, r up to sqrt 2, alias).
  t.values = 0.5 + 0.5 * at::cos(M_PI / 4 * size * r2);
  t.coords = xy;
  t.shape = {size, size};
  t.n_bins = n_bins;
  t.max_freq = 0;
  radial_labels(t);
  return t;
}

SpectralTarget image_target(const at::Tensor& hwc, const std::string& name, int64_t n_bins) {
  if (hwc.dim() != 3) throw std::runtime_error(name + ": image must be [H, W, C]");
  SpectralTarget t;
  t.name = name;
  const int64_t H = hwc.size(0), W = hwc.size(1), C = hwc.size(2);
  t.coords = grid_coords(H, W);
  t.values = hwc.to(at::kFloat).reshape({H * W, C}).contiguous();
  t.shape = {H, W};
  t.n_bins = n_bins;
  t.max_freq = 0;
  radial_labels(t);
  return t;
}

double default_lr(const std::string& method) { return paper_default_lr(method); }

std::vector<int64_t> SpectrumFitResult::converged_at(double threshold) const {
  const size_t nb = band_error.empty() ? 0 : band_error.front().size();
  std::vector<int64_t> out(nb, -1);
  for (size_t b = 0; b < nb; ++b) {
    for (size_t r = band_error.size(); r-- > 0;) {
      const double e = band_error[r][b];
      if (!(e < threshold)) break;
      out[b] = iterations[r];
    }
  }
  return out;
}

nlohmann::json SpectrumFitResult::to_json(double threshold) const {
  return {{"method", method},
          {"lr", lr},
          {"field", field_config},
          {"seconds", seconds},
          {"final_loss", loss.empty() ? -1.0 : loss.back()},
          {"final_band_error", band_error.empty() ? std::vector<double>{} : band_error.back()},
          {"converged_threshold", threshold},
          {"converged_at", converged_at(threshold)}};
}

SpectrumFitResult fit_spectrum(const std::string& method, const SpectralTarget& target,
                               const SpectrumFitOptions& o) {
  SpectrumFitResult r;
  r.method = method;
  auto field = build(method, target, o.layers, o.width, o.seed, &r.field_config);
  r.lr = o.lr > 0 ? o.lr : default_lr(method);
  torch::optim::Adam opt(field->parameters(), torch::optim::AdamOptions(r.lr));
  const auto t0 = std::chrono::steady_clock::now();
  auto record = [&](int64_t step, double loss) {
    r.iterations.push_back(step);
    r.loss.push_back(loss);
    r.band_error.push_back(band_errors(*field, target));
  };
  {
    at::NoGradGuard ng;
    record(0, (field->forward(target.coords) - target.values).pow(2).mean().item<double>());
  }
  int64_t next_print = std::max<int64_t>(o.iters / 10, 1);
  for (int64_t s = 1; s <= o.iters; ++s) {
    opt.zero_grad();
    auto loss = (field->forward(target.coords) - target.values).pow(2).mean();
    loss.backward();
    opt.step();
    if (s % o.every == 0 || s == o.iters) {
      const double l = loss.item<double>();
      if (!std::isfinite(l))
        throw std::runtime_error("spectrum: " + method + " diverged at step " + std::to_string(s) + " (lr " +
                                 std::to_string(r.lr) + ")");
      record(s, l);
      if (o.progress && (s >= next_print || s == o.iters)) {
        next_print += std::max<int64_t>(o.iters / 10, 1);
        std::printf("  %-8s step %6lld  loss %.3e  %.1f s\n", method.c_str(), static_cast<long long>(s), l,
                    seconds_since(t0));
        std::fflush(stdout);
      }
    }
  }
  r.seconds = seconds_since(t0);
  return r;
}

NtkRunResult run_ntk(const std::string& method, const SpectralTarget& target, const NtkRunOptions& o) {
  NtkRunResult r;
  r.method = method;
  r.seed = o.seed;
  auto field = build(method, target, o.layers, o.width, o.seed, &r.field_config);
  r.params = field->num_parameters();
  if (o.train_steps > 0) {
    torch::optim::Adam opt(field->parameters(), torch::optim::AdamOptions(o.lr > 0 ? o.lr : default_lr(method)));
    for (int64_t s = 0; s < o.train_steps; ++s) {
      opt.zero_grad();
      auto loss = (field->forward(target.coords) - target.values).pow(2).mean();
      loss.backward();
      opt.step();
      r.final_loss = loss.item<double>();
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  r.stats = ntk_statistics(empirical_ntk(*field, target.coords, o.double_precision));
  r.seconds = seconds_since(t0);
  return r;
}

}  // namespace nf
