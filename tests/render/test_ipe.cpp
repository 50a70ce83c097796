// mip-NeRF integrated positional encoding: frustum Gaussians against Monte-Carlo samples of the
// frustum, IPE against E[sin(2^k x)], and the pos_enc ordering.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <cmath>

#include "render/ipe.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

// n points uniform in the volume of the conical frustum t in [t0, t1] around direction d (apex at 0),
// radius r * t: t with density ~ t^2 (inverse CDF), uniform in the disc perpendicular to d.
at::Tensor sample_frustum(const at::Tensor& d, double t0, double t1, double r, int64_t n, at::Generator& gen) {
  auto opt = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor u = at::rand({n}, gen, opt);
  const at::Tensor t = (std::pow(t0, 3) + u * (std::pow(t1, 3) - std::pow(t0, 3))).pow(1.0 / 3.0);  // [n]
  const at::Tensor rho = r * t * at::rand({n}, gen, opt).sqrt();
  const at::Tensor phi = 2 * kPi * at::rand({n}, gen, opt);
  // Orthonormal basis (a, b) of the plane perpendicular to d.
  const at::Tensor dn = d / d.norm();
  at::Tensor a = at::linalg_cross(dn, at::tensor({0.3, 1.0, 0.2}, opt));
  a = a / a.norm();
  const at::Tensor b = at::linalg_cross(dn, a);
  return t.unsqueeze(1) * d + (rho * at::cos(phi)).unsqueeze(1) * a + (rho * at::sin(phi)).unsqueeze(1) * b;
}

TEST(ConicalFrustum, GaussianMatchesMonteCarloMoments) {
  at::Generator gen = at::detail::createCPUGenerator(11);
  const int64_t n = 400000;
  const at::Tensor d = at::tensor({0.4, -0.3, -1.0}, at::kDouble);  // unnormalised, like generate_rays
  struct Case { double t0, t1, r; };
  for (const Case c : {Case{2.0, 2.5, 0.05}, Case{1.0, 3.0, 0.2}, Case{0.5, 0.6, 0.5}}) {
    const at::Tensor x = sample_frustum(d, c.t0, c.t1, c.r, n, gen);  // [n, 3]
    const nf::Gaussians g = nf::conical_frustum_to_gaussian(
        d.unsqueeze(0), at::full({1, 1}, c.t0, at::kDouble), at::full({1, 1}, c.t1, at::kDouble),
        at::full({1, 1}, c.r, at::kDouble));
    ASSERT_EQ(g.means.sizes(), (std::vector<int64_t>{1, 1, 3}));
    const at::Tensor mc_mean = x.mean(0), mc_var = x.var(0);
    const at::Tensor mean = g.means.reshape({3}), var = g.cov_diag.reshape({3});
    // Standard errors of the mean (sqrt(var / n)) and variance (~var * sqrt(2 / n) for light tails).
    const at::Tensor se_mean = (mc_var / n).sqrt(), se_var = mc_var * std::sqrt(2.0 / n) * 1.5;
    EXPECT_TRUE(((mean - mc_mean).abs() < 5 * se_mean).all().item<bool>())
        << "t " << c.t0 << ".." << c.t1 << " mean " << mean << " mc " << mc_mean;
    EXPECT_TRUE(((var - mc_var).abs() < 5 * se_var).all().item<bool>())
        << "t " << c.t0 << ".." << c.t1 << " var " << var << " mc " << mc_var;
  }
}

TEST(IntegratedPosEnc, MatchesExpectedSinusoidsAtLowFrequencies) {
  at::Generator gen = at::detail::createCPUGenerator(5);
  const int64_t n = 1000000;
  const at::Tensor d = at::tensor({0.2, 0.1, -1.0}, at::kDouble);
  const double t0 = 2.0, t1 = 2.2, r = 0.03;
  const at::Tensor x = sample_frustum(d, t0, t1, r, n, gen);  // [n, 3]
  const nf::Gaussians g = nf::conical_frustum_to_gaussian(
      d.unsqueeze(0), at::full({1, 1}, t0, at::kDouble), at::full({1, 1}, t1, at::kDouble),
      at::full({1, 1}, r, at::kDouble));
  const int L = 3;
  const at::Tensor enc = nf::integrated_pos_enc(g.means, g.cov_diag, 0, L).reshape({-1});  // [2 * 3 * L]
  ASSERT_EQ(enc.size(0), 2 * 3 * L);
  for (int k = 0; k < L; ++k)
    for (int c = 0; c < 3; ++c) {
      const at::Tensor y = x.select(1, c) * std::pow(2.0, k);
      const double es = at::sin(y).mean().item<double>(), ec = at::cos(y).mean().item<double>();
      // Layout: [sin over (k, c)] then [cos over (k, c)], index k * 3 + c.
      EXPECT_NEAR(enc[k * 3 + c].item<double>(), es, 4e-3) << "sin k=" << k << " c=" << c;
      EXPECT_NEAR(enc[3 * L + k * 3 + c].item<double>(), ec, 4e-3) << "cos k=" << k << " c=" << c;
    }
  // The encoding is damped: a much wider frustum at the same place has smaller high-frequency terms.
  const nf::Gaussians wide = nf::conical_frustum_to_gaussian(
      d.unsqueeze(0), at::full({1, 1}, 1.0, at::kDouble), at::full({1, 1}, 3.2, at::kDouble),
      at::full({1, 1}, 0.3, at::kDouble));
  const at::Tensor ew = nf::integrated_pos_enc(wide.means, wide.cov_diag, 0, 16);
  EXPECT_LT(ew.slice(-1, 3 * 8, 3 * 16).abs().max().item<double>(), 1e-6);  // sin of k >= 8
}

TEST(IntegratedPosEnc, ZeroVarianceIsPlainPosEncAndShapes) {
  const at::Tensor means = at::randn({4, 7, 3}, at::kDouble) * 3;
  const at::Tensor ipe = nf::integrated_pos_enc(means, at::zeros({4, 7, 3}, at::kDouble));
  ASSERT_EQ(ipe.sizes(), (std::vector<int64_t>{4, 7, 96}));
  EXPECT_EQ(nf::ipe_dim(), 96);
  // In double the mod-100-pi argument reduction of safe_sin changes nothing measurable.
  const at::Tensor pe = nf::pos_enc(means, 0, 16, false);
  EXPECT_TRUE(at::allclose(ipe, pe, 0.0, 1e-8));
  // float32 at high frequencies: the reduced argument keeps the error at the level of rounding y.
  const at::Tensor ipef = nf::integrated_pos_enc(means.to(at::kFloat), at::zeros({4, 7, 3}));
  EXPECT_EQ(ipef.scalar_type(), at::kFloat);
  EXPECT_TRUE(at::allclose(ipef.slice(-1, 0, 3 * 6).to(at::kDouble), pe.slice(-1, 0, 3 * 6), 0.0, 1e-4));
}

TEST(PosEnc, MipNerfOrdering) {
  const at::Tensor x = at::tensor({0.3, -0.7, 1.1}, at::kDouble).reshape({1, 3});
  const at::Tensor e = nf::pos_enc(x, 0, 2, true);  // [x, sin(x), sin(2x), cos(x), cos(2x)] per coord
  ASSERT_EQ(e.sizes(), (std::vector<int64_t>{1, nf::pos_enc_dim(3, 0, 2, true)}));
  const double v[3] = {0.3, -0.7, 1.1};
  for (int c = 0; c < 3; ++c) {
    EXPECT_DOUBLE_EQ(e[0][c].item<double>(), v[c]);
    EXPECT_NEAR(e[0][3 + c].item<double>(), std::sin(v[c]), 1e-12);
    EXPECT_NEAR(e[0][6 + c].item<double>(), std::sin(2 * v[c]), 1e-12);
    EXPECT_NEAR(e[0][9 + c].item<double>(), std::cos(v[c]), 1e-12);
    EXPECT_NEAR(e[0][12 + c].item<double>(), std::cos(2 * v[c]), 1e-12);
  }
  EXPECT_EQ(nf::pos_enc(at::randn({5, 8, 3}), 0, 4, true).size(-1), 27);  // mip-NeRF view dirs
}

TEST(CastRays, AddsOriginsAndUsesRadii) {
  nf::Rays r = nf::generate_rays(2, 2, 1.5, at::eye(4, at::kDouble), 2.0, 6.0);
  r.origins = r.origins + at::tensor({1.0, 2.0, 3.0}, at::kDouble);
  const at::Tensor t = at::linspace(2.0, 6.0, 5, at::kDouble).expand({4, 5});
  const nf::Gaussians g = nf::cast_rays(t, r);
  const nf::Gaussians g0 =
      nf::conical_frustum_to_gaussian(r.directions, t.slice(1, 0, -1), t.slice(1, 1), r.radii);
  EXPECT_TRUE(at::allclose(g.means, g0.means + at::tensor({1.0, 2.0, 3.0}, at::kDouble)));
  EXPECT_TRUE(at::allclose(g.cov_diag, g0.cov_diag));
  // Means lie on the rays, a bit beyond the interval mid-point (more volume far away).
  const at::Tensor tm = (g0.means / r.directions.unsqueeze(1)).select(-1, 2);  // [4, 4]
  const at::Tensor mid = 0.5 * (t.slice(1, 0, -1) + t.slice(1, 1));
  EXPECT_TRUE((tm > mid).all().item<bool>());
  EXPECT_TRUE((tm < t.slice(1, 1)).all().item<bool>());
}

}  // namespace
