// Volume rendering: fused (CPU loop / CUDA kernel, hand-written backward) against the tensor-op
// reference, finite differences, and simple analytic cases.
#include <gtest/gtest.h>
#include <torch/autograd.h>
#include <torch/cuda.h>

#include <cmath>

#include "render/volume_render.h"

namespace {

struct Problem {
  at::Tensor density, rgb, t_vals, dirs, bg;  // [N, S], [N, S, 3], [N, S + 1], [N, 3], [3]
};

Problem random_problem(int64_t N, int64_t S, at::ScalarType dt, double density_scale = 2.0) {
  auto opt = at::TensorOptions().dtype(dt);
  Problem p;
  p.density = at::rand({N, S}, opt) * density_scale;
  p.density.select(1, 0).mul_(0.1);  // mixed regimes
  p.rgb = at::rand({N, S, 3}, opt);
  p.t_vals = std::get<0>(at::sort(at::rand({N, S + 1}, opt) * 4 + 2, 1));
  p.dirs = at::randn({N, 3}, opt);
  p.bg = at::rand({3}, opt);
  return p;
}

// A scalar loss touching every output, with fixed random weights.
struct Loss {
  at::Tensor a, b, c, d;  // [N, 3], [N], [N], [N, S]
  Loss(int64_t N, int64_t S, at::ScalarType dt) {
    auto opt = at::TensorOptions().dtype(dt);
    a = at::randn({N, 3}, opt), b = at::randn({N}, opt), c = at::randn({N}, opt), d = at::randn({N, S}, opt);
  }
  at::Tensor operator()(const nf::RenderOutput& o) const {
    return (o.rgb * a.to(o.rgb.device())).sum() + (o.depth * b.to(o.rgb.device())).sum() +
           (o.acc * c.to(o.rgb.device())).sum() + (o.weights * d.to(o.rgb.device())).sum();
  }
};

using RenderFn = nf::RenderOutput (*)(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&,
                                      const at::Tensor&);

// Values and gradients w.r.t. density, rgb and bg.
std::vector<at::Tensor> run(RenderFn fn, const Problem& p, const Loss& loss, bool bg_grad = true) {
  at::Tensor d = p.density.clone().requires_grad_(true), c = p.rgb.clone().requires_grad_(true);
  at::Tensor bg = p.bg.clone().requires_grad_(bg_grad);
  nf::RenderOutput o = fn(d, c, p.t_vals, p.dirs, bg);
  loss(o).backward();
  std::vector<at::Tensor> r = {o.rgb.detach(), o.depth.detach(), o.acc.detach(), o.weights.detach(),
                               d.grad(), c.grad()};
  if (bg_grad) r.push_back(bg.grad());
  return r;
}

TEST(VolumeRender, FusedCpuMatchesReferenceFloat) {
  const int64_t N = 300, S = 48;
  const Problem p = random_problem(N, S, at::kFloat);
  const Loss loss(N, S, at::kFloat);
  const auto ref = run(&nf::volume_render_reference, p, loss);
  const auto fused = run(&nf::volume_render_fused, p, loss);
  const char* names[] = {"rgb", "depth", "acc", "weights", "grad density", "grad rgb", "grad bg"};
  for (size_t i = 0; i < ref.size(); ++i) {
    const double tol = i == 6 ? 1e-4 : 1e-5;  // grad bg sums 300 rays
    EXPECT_TRUE(at::allclose(fused[i], ref[i], tol, tol)) << names[i] << " max err " << (fused[i] - ref[i]).abs().max();
  }
  // Per-ray background [N, 3] too.
  Problem q = p;
  q.bg = at::rand({N, 3});
  const auto ref2 = run(&nf::volume_render_reference, q, loss), fused2 = run(&nf::volume_render_fused, q, loss);
  for (size_t i = 0; i < ref2.size(); ++i) EXPECT_TRUE(at::allclose(fused2[i], ref2[i], 1e-5, 1e-5)) << names[i];
}

TEST(VolumeRender, FusedBackwardMatchesFiniteDifferences) {
  const int64_t N = 3, S = 5;
  const Problem p = random_problem(N, S, at::kDouble, 3.0);
  const Loss loss(N, S, at::kDouble);
  const auto g = run(&nf::volume_render_fused, p, loss);
  const double h = 1e-6;
  auto L = [&](const at::Tensor& d, const at::Tensor& c, const at::Tensor& bg) {
    at::NoGradGuard ng;
    return loss(nf::volume_render_fused(d, c, p.t_vals, p.dirs, bg)).item<double>();
  };
  // Central differences over every element of density, rgb and bg.
  for (int which = 0; which < 3; ++which) {
    const at::Tensor base = which == 0 ? p.density : which == 1 ? p.rgb : p.bg;
    const at::Tensor analytic = g[4 + which].reshape({-1});
    for (int64_t k = 0; k < base.numel(); ++k) {
      at::Tensor plus = base.clone(), minus = base.clone();
      plus.view({-1})[k] += h;
      minus.view({-1})[k] -= h;
      auto eval = [&](const at::Tensor& x) {
        return L(which == 0 ? x : p.density, which == 1 ? x : p.rgb, which == 2 ? x : p.bg);
      };
      const double fd = (eval(plus) - eval(minus)) / (2 * h);
      EXPECT_NEAR(analytic[k].item<double>(), fd, 1e-6 * (1 + std::abs(fd))) << "input " << which << " element " << k;
    }
  }
}

TEST(VolumeRender, WeightsAndAnalyticCases) {
  const int64_t N = 64, S = 32;
  Problem p = random_problem(N, S, at::kFloat, 5.0);
  nf::RenderOutput o = nf::volume_render(p.density, p.rgb, p.t_vals, p.dirs, p.bg);
  EXPECT_TRUE((o.weights >= 0).all().item<bool>());
  EXPECT_TRUE((o.weights.sum(1) <= 1 + 1e-6).all().item<bool>());
  EXPECT_TRUE(at::allclose(o.acc, o.weights.sum(1)));

  // Opaque first sample: its colour, depth at its mid-point, acc 1.
  const at::Tensor t = at::linspace(2.0, 6.0, S + 1).expand({N, S + 1});  // intervals of 0.125
  const at::Tensor dirs = at::tensor({0.0f, 0.0f, -1.0f}).expand({N, 3});
  at::Tensor dens = at::zeros({N, S});
  dens.select(1, 0).fill_(1e3);
  o = nf::volume_render(dens, p.rgb, t, dirs, p.bg);
  EXPECT_TRUE(at::allclose(o.rgb, p.rgb.select(1, 0), 1e-5, 1e-5));
  EXPECT_TRUE(at::allclose(o.acc, at::ones({N}), 1e-6, 1e-6));
  EXPECT_TRUE(at::allclose(o.depth, at::full({N}, 2.0625), 1e-5, 1e-5));

  // Empty space: background, zero opacity; normalized_depth falls back to far.
  o = nf::volume_render(at::zeros({N, S}), p.rgb, p.t_vals, p.dirs, p.bg);
  EXPECT_TRUE(at::allclose(o.rgb, p.bg.expand({N, 3})));
  EXPECT_TRUE(at::allclose(o.acc, at::zeros({N})));
  EXPECT_TRUE(at::allclose(nf::normalized_depth(o, p.t_vals), p.t_vals.select(1, -1)));

  // Homogeneous medium along a unit direction: acc = 1 - exp(-sigma (t_S - t_0)); |dir| scales it.
  o = nf::volume_render(at::full({N, S}, 0.3), p.rgb, t, dirs, p.bg);
  EXPECT_TRUE(at::allclose(o.acc, at::full({N}, 1.0 - std::exp(-0.3 * 4.0)), 1e-5, 1e-6));
  o = nf::volume_render(at::full({N, S}, 0.3), p.rgb, t, dirs * 2, p.bg);
  EXPECT_TRUE(at::allclose(o.acc, at::full({N}, 1.0 - std::exp(-0.3 * 8.0)), 1e-5, 1e-6));
}

TEST(VolumeRender, ErrorsAndDtypes) {
  Problem p = random_problem(4, 6, at::kFloat);
  EXPECT_THROW(nf::volume_render(p.density, p.rgb.slice(1, 0, 5), p.t_vals, p.dirs, p.bg), std::runtime_error);
  EXPECT_THROW(nf::volume_render(p.density, p.rgb, p.density, p.dirs, p.bg), std::runtime_error);
  EXPECT_THROW(nf::volume_render(p.density, p.rgb, p.t_vals, p.dirs, at::zeros({4})), std::runtime_error);
  EXPECT_THROW(nf::volume_render(p.density, p.rgb, p.t_vals.to(at::kDouble), p.dirs, p.bg), std::runtime_error);
  at::Tensor t = p.t_vals.clone().requires_grad_(true);
  EXPECT_THROW(nf::volume_render_fused(p.density, p.rgb, t, p.dirs, p.bg), std::runtime_error);
  // Zero rays are fine.
  nf::RenderOutput o = nf::volume_render(at::zeros({0, 6}), at::zeros({0, 6, 3}), at::zeros({0, 7}),
                                         at::zeros({0, 3}), p.bg);
  EXPECT_EQ(o.rgb.size(0), 0);
}

TEST(VolumeRender, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  for (auto dt : {at::kFloat, at::kDouble}) {
    const int64_t N = 5000, S = 64;
    const Problem p = random_problem(N, S, dt);
    const Loss loss(N, S, dt);
    Problem q{p.density.cuda(), p.rgb.cuda(), p.t_vals.cuda(), p.dirs.cuda(), p.bg.cuda()};
    const auto cpu = run(&nf::volume_render_fused, p, loss);
    const auto gpu = run(&nf::volume_render_fused, q, loss);
    const auto ref = run(&nf::volume_render_reference, q, loss);  // reference on the GPU too
    const double tol = dt == at::kFloat ? 1e-5 : 1e-10;
    for (size_t i = 0; i < cpu.size(); ++i) {
      const double ti = i == 6 ? tol * 100 : tol;  // grad bg sums N rays
      EXPECT_TRUE(gpu[i].is_cuda());
      EXPECT_TRUE(at::allclose(gpu[i].cpu(), cpu[i], ti, ti)) << "output " << i << " dtype " << dt;
      EXPECT_TRUE(at::allclose(ref[i].cpu(), cpu[i], ti, ti)) << "reference output " << i << " dtype " << dt;
    }
  }
}

}  // namespace
