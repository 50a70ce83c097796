// NeuS sampling: sphere near/far, uniform samples, merging, SDF -> alpha (unbiased weights for a
// plane, gradients), up-sampling concentrates samples at the zero crossing.
#include <gtest/gtest.h>
#include <torch/autograd.h>

#include <cmath>

#include "render/composite.h"
#include "render/neus_sampling.h"

namespace {

auto dbl = at::TensorOptions().dtype(at::kDouble);

// Unit rays from points on a sphere of radius 3 through points near the origin.
std::pair<at::Tensor, at::Tensor> some_rays(int64_t N) {
  at::Tensor o = at::randn({N, 3}, dbl);
  o = 3.0 * o / o.norm(2, -1, true);
  at::Tensor d = at::rand({N, 3}, dbl) * 0.4 - 0.2 - o;
  return {o, d / d.norm(2, -1, true)};
}

TEST(NeusSampling, NearFarFromSphereIsTheChordInterval) {
  at::manual_seed(0);
  auto [o, d] = some_rays(20);
  auto [near, far] = nf::near_far_from_sphere(o, d);
  ASSERT_EQ(near.sizes(), (std::vector<int64_t>{20, 1}));
  // The closest point to the origin is at mid; unit d: far - near = 2 (the reference's values).
  const at::Tensor mid = 0.5 * (near + far);
  const at::Tensor closest = o + d * mid;
  EXPECT_TRUE(at::allclose((closest * d).sum(-1), at::zeros({20}, dbl), 0, 1e-12));
  EXPECT_TRUE(at::allclose(far - near, at::full({20, 1}, 2.0, dbl)));
  // The sphere's entry and exit points lie within [near, far]; with |d| = 2 the interval halves.
  const at::Tensor h = (1.0 - closest.pow(2).sum(-1, true)).clamp_min(0).sqrt();
  EXPECT_TRUE((mid - h >= near - 1e-12).all().item<bool>());
  EXPECT_TRUE((mid + h <= far + 1e-12).all().item<bool>());
  auto [n2, f2] = nf::near_far_from_sphere(o, 2 * d);
  EXPECT_TRUE(at::allclose(n2, 0.5 * near) && at::allclose(f2, 0.5 * far));
}

TEST(NeusSampling, UniformZAndPerturbation) {
  const at::Tensor near = at::tensor({1.0, 2.0}, dbl).unsqueeze(1), far = near + 2.0;
  const at::Tensor z = nf::neus_uniform_z(near, far, 5, false);
  EXPECT_TRUE(at::allclose(z[0], at::tensor({1.0, 1.5, 2.0, 2.5, 3.0}, dbl)));
  auto gen = at::detail::createCPUGenerator(7);
  const at::Tensor zp = nf::neus_uniform_z(near, far, 5, true, gen);
  const at::Tensor shift = zp - z;  // one shift per ray, within half a bin
  EXPECT_TRUE(at::allclose(shift, shift.select(1, 0).unsqueeze(1).expand_as(shift)));
  EXPECT_TRUE((shift.abs() <= 0.2 + 1e-12).all().item<bool>());
  EXPECT_GT(shift.abs().max().item<double>(), 0.0);
}

TEST(NeusSampling, CatZValsSortsAndCarriesTheSdf) {
  const at::Tensor z = at::tensor({0.0, 1.0, 2.0, 3.0}, dbl).unsqueeze(0), nz = at::tensor({2.5, 0.5}, dbl).unsqueeze(0);
  auto [zs, sdf] = nf::cat_z_vals(z, nz, 10 * z, 10 * nz);
  EXPECT_TRUE(at::equal(zs, at::tensor({0.0, 0.5, 1.0, 2.0, 2.5, 3.0}, dbl).unsqueeze(0)));
  EXPECT_TRUE(at::equal(sdf, 10 * zs));
  EXPECT_FALSE(nf::cat_z_vals(z, nz).second.defined());
}

// A ray hitting the plane {x : <n, x> = c} at t*: sdf(o + t d) = c - <n, o> - t <n, d> ... with
// sdf = <n, x> - c the outside is the side the ray comes from when <n, d> < 0.
struct PlaneRay {
  at::Tensor o, d, n;
  double c, t_hit;
};

PlaneRay plane_ray(double cos_incidence) {
  PlaneRay p;
  p.n = at::tensor({0.0, 0.0, 1.0}, dbl);
  p.c = 0.1;
  const double s = std::sqrt(1 - cos_incidence * cos_incidence);
  p.d = at::tensor({s, 0.0, -cos_incidence}, dbl).unsqueeze(0);  // <n, d> = -cos_incidence
  p.o = at::tensor({-0.3, 0.2, 0.8}, dbl).unsqueeze(0);
  p.t_hit = (0.8 - p.c) / cos_incidence;
  return p;
}

// NeuS's weights are unbiased for a plane: they peak at the surface and their mean is the hit.
TEST(NeusSampling, CompositedWeightsPeakAtThePlane) {
  for (double ci : {1.0, 0.6}) {
    const PlaneRay p = plane_ray(ci);
    const int64_t S = 400;
    const at::Tensor z = at::linspace(0.0, 2.5, S, dbl).unsqueeze(0);  // [1, S]
    auto [dists, mid] = nf::neus_sections(z, 2.5 / (S - 1));
    const at::Tensor pts = p.o.unsqueeze(1) + p.d.unsqueeze(1) * mid.unsqueeze(-1);  // [1, S, 3]
    const at::Tensor sdf = (pts * p.n).sum(-1) - p.c;                                // [1, S]
    const at::Tensor cos = (p.d * p.n).sum(-1, true).expand({1, S});                 // <d, grad sdf>
    const at::Tensor alpha = nf::sdf_to_alpha(sdf, cos, dists, at::full({1}, 50.0, dbl), 1.0);
    const nf::RenderOutput out = nf::composite(alpha, at::ones({1, S, 3}, dbl), mid);
    const double peak = mid[0][out.weights[0].argmax().item<int64_t>()].item<double>();
    const double step = 2.5 / (S - 1);
    EXPECT_NEAR(peak, p.t_hit, step) << "cos " << ci;
    EXPECT_NEAR(out.acc.item<double>(), 1.0, 1e-3);
    EXPECT_NEAR(out.depth.item<double>() / out.acc.item<double>(), p.t_hit, 0.5 * step) << "cos " << ci;
    // Symmetric about the hit (unbiased): near the surface the weights have ~no skew. (The window
    // leaves out the reference's +1e-5 in alpha, a small uniform weight in front of the surface.)
    const at::Tensor win = (mid[0] - p.t_hit).abs() < 0.1;
    const at::Tensor w = out.weights[0] * win, m = mid[0];
    const at::Tensor mean = (w * m).sum() / w.sum();
    const double sd = ((w * (m - mean).pow(2)).sum() / w.sum()).sqrt().item<double>();
    const double skew = ((w * (m - mean).pow(3)).sum() / w.sum()).item<double>() / (sd * sd * sd);
    EXPECT_LT(std::abs(skew), 0.05) << "cos " << ci;
  }
}

TEST(NeusSampling, SdfToAlphaIsDifferentiable) {
  at::manual_seed(1);
  const at::Tensor sdf = (at::rand({3, 8}, dbl) - 0.5).requires_grad_(true);
  const at::Tensor cos = (-at::rand({3, 8}, dbl)).requires_grad_(true);
  const at::Tensor dists = at::full({3, 8}, 0.05, dbl);
  const at::Tensor inv_s = at::full({1}, 20.0, dbl).requires_grad_(true);
  auto f = [&](const at::Tensor& s) { return nf::sdf_to_alpha(sdf, cos, dists, s, 0.5).sum(); };
  f(inv_s).backward();
  ASSERT_TRUE(sdf.grad().defined() && cos.grad().defined() && inv_s.grad().defined());
  EXPECT_GT(sdf.grad().abs().sum().item<double>(), 0.0);
  c10::NoGradGuard ng;
  const double h = 1e-5;
  const double fd = (f(inv_s + h).item<double>() - f(inv_s - h).item<double>()) / (2 * h);
  EXPECT_NEAR(inv_s.grad().item<double>(), fd, 1e-6 * std::max(1.0, std::abs(fd)));
  const at::Tensor a = nf::sdf_to_alpha(sdf, cos, dists, inv_s, 0.5);
  EXPECT_TRUE((a >= 0).all().item<bool>() && (a <= 1).all().item<bool>());
}

// Up-sampling from 64 uniform samples puts the new samples at the zero crossing; the full schedule
// (4 rounds, inv_s 64 .. 512, SDF from a callback) puts them closer still.
TEST(NeusSampling, UpSamplingConcentratesAtTheSurface) {
  const PlaneRay p = plane_ray(0.8);
  auto [near, far] = nf::near_far_from_sphere(p.o, p.d);
  const at::Tensor z = nf::neus_uniform_z(near, far, 64, false);
  auto sdf_fn = [&](const at::Tensor& pts) { return (pts * p.n).sum(-1) - p.c; };
  const at::Tensor pts = p.o.unsqueeze(1) + p.d.unsqueeze(1) * z.unsqueeze(-1);
  const at::Tensor nz = nf::up_sample(p.o, p.d, z, sdf_fn(pts.reshape({-1, 3})).reshape({1, 64}), 16, 64.0);
  ASSERT_EQ(nz.sizes(), (std::vector<int64_t>{1, 16}));
  const double spacing = 2.0 / 63;
  EXPECT_LT((nz - p.t_hit).abs().max().item<double>(), 3 * spacing);
  EXPECT_LT(std::abs(nz.mean().item<double>() - p.t_hit), spacing);
  EXPECT_TRUE(at::equal(nz, std::get<0>(at::sort(nz, 1))));
  const at::Tensor all = nf::neus_sample_z(p.o, p.d, near, far, 64, 64, 4, sdf_fn, false);
  ASSERT_EQ(all.sizes(), (std::vector<int64_t>{1, 128}));
  EXPECT_TRUE(at::equal(all, std::get<0>(at::sort(all, 1))));
  // Of the 64 new samples, many within a quarter of the uniform spacing of the surface (the first
  // round alone puts ~3 of its 16 there, the sharper later rounds most of theirs).
  const int64_t close = ((all - p.t_hit).abs() < 0.25 * spacing).sum().item<int64_t>();
  EXPECT_GE(close, 24);
  EXPECT_THROW(nf::neus_sample_z(p.o, p.d, near, far, 64, 63, 4, sdf_fn, false), std::runtime_error);
}

}  // namespace
