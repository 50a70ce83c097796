// Compositing from alphas: fused (CPU loop / CUDA kernel, hand-written backward) against the
// tensor-op reference, finite differences, edge cases, and NeRF's volume rendering as a special case.
#include <gtest/gtest.h>
#include <torch/cuda.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "render/composite.h"
#include "render/volume_render.h"

namespace {

enum class Bg { None, Shared, PerRay };

struct Problem {
  at::Tensor alpha, rgb, t, bg;  // [N, S], [N, S, C], [N, S] or undefined, [C] / [N, C] / undefined
};

Problem random_problem(int64_t N, int64_t S, int64_t C, at::ScalarType dt, Bg bg, bool with_t) {
  auto opt = at::TensorOptions().dtype(dt);
  Problem p;
  p.alpha = at::rand({N, S}, opt);
  p.alpha.slice(0, 0, N / 3).mul_(0.05);  // mostly transparent rays, mostly opaque ones, mixed
  p.alpha.slice(0, N / 3, 2 * N / 3).pow_(0.1);
  p.rgb = at::rand({N, S, C}, opt);
  if (with_t) p.t = std::get<0>(at::sort(at::rand({N, S}, opt) * 4 + 2, 1));
  if (bg == Bg::Shared) p.bg = at::rand({C}, opt);
  if (bg == Bg::PerRay) p.bg = at::rand({N, C}, opt);
  return p;
}

// A scalar loss touching every output, with fixed random weights.
struct Loss {
  at::Tensor a, b, c, d;  // [N, C], [N], [N], [N, S]
  Loss(int64_t N, int64_t S, int64_t C, at::ScalarType dt) {
    auto opt = at::TensorOptions().dtype(dt);
    a = at::randn({N, C}, opt), b = at::randn({N}, opt), c = at::randn({N}, opt), d = at::randn({N, S}, opt);
  }
  at::Tensor operator()(const nf::RenderOutput& o) const {
    const auto dev = o.rgb.device();
    at::Tensor l = (o.rgb * a.to(dev)).sum() + (o.acc * c.to(dev)).sum() + (o.weights * d.to(dev)).sum();
    if (o.depth.defined()) l = l + (o.depth * b.to(dev)).sum();
    return l;
  }
};

using Fn = nf::RenderOutput (*)(const at::Tensor&, const at::Tensor&, const at::Tensor&, const at::Tensor&, double);

// Outputs and gradients w.r.t. alpha, rgb, t, bg (undefined where the input is).
std::vector<at::Tensor> run(Fn fn, const Problem& p, const Loss& loss, double eps = nf::kNeusAlphaEps,
                            const c10::Device& dev = c10::kCPU) {
  auto leaf = [&](const at::Tensor& x) { return x.defined() ? x.to(dev).clone().requires_grad_(true) : at::Tensor(); };
  at::Tensor a = leaf(p.alpha), c = leaf(p.rgb), t = leaf(p.t), bg = leaf(p.bg);
  nf::RenderOutput o = fn(a, c, t, bg, eps);
  loss(o).backward();
  auto cpu = [](const at::Tensor& x) { return x.defined() ? x.detach().to(at::kCPU) : at::Tensor(); };
  return {cpu(o.rgb), cpu(o.depth), cpu(o.acc), cpu(o.weights), cpu(a.grad()), cpu(c.grad()),
          t.defined() ? cpu(t.grad()) : at::Tensor(), bg.defined() ? cpu(bg.grad()) : at::Tensor()};
}

void expect_all_close(const std::vector<at::Tensor>& got, const std::vector<at::Tensor>& want, double rtol,
                      double atol, const std::string& what) {
  const char* names[] = {"rgb", "depth", "acc", "weights", "grad alpha", "grad rgb", "grad t", "grad bg"};
  ASSERT_EQ(got.size(), want.size());
  for (size_t k = 0; k < got.size(); ++k) {
    ASSERT_EQ(got[k].defined(), want[k].defined()) << what << ": " << names[k];
    if (!got[k].defined()) continue;
    ASSERT_EQ(got[k].sizes(), want[k].sizes()) << what << ": " << names[k];
    EXPECT_TRUE(at::allclose(got[k], want[k], rtol, atol))
        << what << ": " << names[k] << " max diff " << (got[k] - want[k]).abs().max().item<double>();
  }
}

// check(p, loss, tol, label) on a random problem of N rays of S samples and 3 channels (and its
// loss) for each dtype (float, double: tol 1e-5, 1e-12), background and with / without t, in turn.
void for_each_problem(int64_t N, int64_t S,
                      const std::function<void(const Problem&, const Loss&, double, const std::string&)>& check) {
  for (auto dt : {at::kFloat, at::kDouble})
    for (Bg bg : {Bg::None, Bg::Shared, Bg::PerRay})
      for (bool with_t : {true, false}) {
        const Problem p = random_problem(N, S, 3, dt, bg, with_t);
        const Loss loss(N, S, 3, dt);
        check(p, loss, dt == at::kFloat ? 1e-5 : 1e-12,
              std::string(dt == at::kFloat ? "float" : "double") + " bg " + std::to_string(int(bg)) +
                  (with_t ? " t" : " no t"));
      }
}

TEST(Composite, FusedCpuMatchesReferenceFloatAndDouble) {
  at::manual_seed(1);
  for_each_problem(150, 40, [](const Problem& p, const Loss& loss, double tol, const std::string& label) {
    expect_all_close(run(&nf::composite_fused, p, loss), run(&nf::composite_reference, p, loss), tol, tol, label);
  });
}

TEST(Composite, EdgeCasesZeroAndOneAlphasSingleSampleOtherChannelCounts) {
  at::manual_seed(2);
  // Exact 0 and 1 alphas (an opaque sample blocks everything behind it up to eps).
  Problem p = random_problem(6, 5, 3, at::kDouble, Bg::Shared, true);
  p.alpha[0].fill_(0.0);
  p.alpha[1].fill_(1.0);
  p.alpha[2][2] = 1.0;
  p.alpha[3][0] = 0.0;
  p.alpha[3][4] = 1.0;
  const Loss loss(6, 5, 3, at::kDouble);
  const auto fused = run(&nf::composite_fused, p, loss), ref = run(&nf::composite_reference, p, loss);
  expect_all_close(fused, ref, 1e-12, 1e-12, "alpha 0/1");
  EXPECT_NEAR(fused[2][0].item<double>(), 0.0, 1e-15);  // a transparent ray: acc 0, colour = bg
  EXPECT_TRUE(at::allclose(fused[0][0], p.bg));
  EXPECT_NEAR(fused[2][1].item<double>(), 1.0, 1e-6);   // first sample opaque: w = [1, ~1e-7, ...]
  EXPECT_NEAR(fused[3][1][0].item<double>(), 1.0, 1e-15);
  EXPECT_LT(fused[3][1][1].item<double>(), 2e-7);
  // S = 1: w = alpha.
  for (int64_t C : {1, 3, 4}) {
    const Problem q = random_problem(7, 1, C, at::kFloat, Bg::PerRay, true);
    const Loss l(7, 1, C, at::kFloat);
    const auto f = run(&nf::composite_fused, q, l);
    expect_all_close(f, run(&nf::composite_reference, q, l), 1e-6, 1e-6, "S = 1, C = " + std::to_string(C));
    EXPECT_TRUE(at::allclose(f[3], q.alpha));
  }
  const Problem q = random_problem(20, 9, 6, at::kDouble, Bg::Shared, false);
  const Loss l(20, 9, 6, at::kDouble);
  expect_all_close(run(&nf::composite_fused, q, l), run(&nf::composite_reference, q, l), 1e-12, 1e-12, "C = 6");
}

// Central finite differences of the fused op (double) against its hand-written backward.
TEST(Composite, GradcheckDouble) {
  at::manual_seed(3);
  const int64_t N = 4, S = 6, C = 3;
  Problem p = random_problem(N, S, C, at::kDouble, Bg::Shared, true);
  p.alpha = p.alpha.clamp(0.02, 0.98);  // keep +-h inside [0, 1]
  const Loss loss(N, S, C, at::kDouble);
  const auto g = run(&nf::composite_fused, p, loss);
  auto value = [&](const Problem& q) {
    return loss(nf::composite_fused(q.alpha, q.rgb, q.t, q.bg, nf::kNeusAlphaEps)).item<double>();
  };
  const double h = 1e-6;
  auto check = [&](at::Tensor Problem::*field, const at::Tensor& grad, const char* name) {
    const at::Tensor flat = (p.*field).reshape({-1});
    const at::Tensor gflat = grad.reshape({-1});
    for (int64_t k = 0; k < flat.numel(); ++k) {
      Problem plus = p, minus = p;
      plus.*field = (p.*field).clone();
      minus.*field = (p.*field).clone();
      (plus.*field).view({-1})[k] += h;
      (minus.*field).view({-1})[k] -= h;
      const double fd = (value(plus) - value(minus)) / (2 * h);
      EXPECT_NEAR(gflat[k].item<double>(), fd, 1e-6 * std::max(1.0, std::abs(fd))) << name << " entry " << k;
    }
  };
  check(&Problem::alpha, g[4], "alpha");
  check(&Problem::rgb, g[5], "rgb");
  check(&Problem::t, g[6], "t");
  check(&Problem::bg, g[7], "bg");
}

// NeRF's volume rendering is compositing with alpha = 1 - exp(-sigma delta), t = interval mids, eps = 0.
TEST(Composite, VolumeRenderIsCompositingWithoutEps) {
  at::manual_seed(4);
  const int64_t N = 50, S = 32;
  auto opt = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor density = at::rand({N, S}, opt) * 3, rgb = at::rand({N, S, 3}, opt);
  const at::Tensor t_vals = std::get<0>(at::sort(at::rand({N, S + 1}, opt) * 4 + 2, 1));
  const at::Tensor dirs = at::randn({N, 3}, opt), bg = at::rand({3}, opt);
  const nf::RenderOutput vr = nf::volume_render(density, rgb, t_vals, dirs, bg);
  const at::Tensor delta = (t_vals.slice(1, 1) - t_vals.slice(1, 0, -1)) * dirs.norm(2, -1, true);
  const at::Tensor mids = 0.5 * (t_vals.slice(1, 1) + t_vals.slice(1, 0, -1));
  const nf::RenderOutput c = nf::composite(1.0 - at::exp(-density * delta), rgb, mids, bg, 0.0);
  EXPECT_TRUE(at::allclose(c.weights, vr.weights, 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(c.rgb, vr.rgb, 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(c.depth, vr.depth, 1e-10, 1e-12));
  EXPECT_TRUE(at::allclose(c.acc, vr.acc, 1e-10, 1e-12));
}

TEST(Composite, BadShapesGiveOneLineErrors) {
  const at::Tensor a = at::rand({4, 5}), c = at::rand({4, 5, 3});
  auto message = [](auto&& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message([&] { nf::composite(a, at::rand({4, 6, 3})); }),
            "composite_fused: rgb must be [N, S, C] with N = 4, S = 5, got [4, 6, 3]");
  EXPECT_EQ(message([&] { nf::composite(a, c, at::rand({4, 6})); }),
            "composite_fused: t must be [N, S] = [4, 5] or undefined, got [4, 6]");
  EXPECT_EQ(message([&] { nf::composite(a, c, {}, at::rand({2})); }),
            "composite_fused: bg must be [C] or [N, C] with C = 3 (or undefined), got [2]");
  EXPECT_EQ(message([&] { nf::composite(a, c.to(at::kDouble)); }), "composite_fused: all inputs must share alpha's dtype");
  EXPECT_EQ(message([&] { nf::composite(a.view({-1}), c); }), "composite_fused: alpha must be [N, S], got [20]");
}

TEST(Composite, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  at::manual_seed(5);
  for_each_problem(1000, 64, [](const Problem& p, const Loss& loss, double tol, const std::string&) {
    expect_all_close(run(&nf::composite_fused, p, loss, nf::kNeusAlphaEps, c10::Device(c10::kCUDA)),
                     run(&nf::composite_fused, p, loss), tol, tol, "cuda vs cpu");
  });
}

}  // namespace
