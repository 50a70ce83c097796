// Stratified and hierarchical (importance) sampling along rays.
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include <limits>

#include "render/samplers.h"

namespace {

nf::Rays some_rays(int64_t N, double near, double far) {
  nf::Rays r;
  r.origins = at::zeros({N, 3});
  r.directions = at::randn({N, 3});
  r.viewdirs = r.directions / r.directions.norm(2, -1, true);
  r.radii = at::full({N, 1}, 0.01);
  r.near = at::full({N, 1}, near);
  r.far = at::full({N, 1}, far);
  return r;
}

bool sorted_rows(const at::Tensor& t) { return (t.slice(1, 1) - t.slice(1, 0, -1)).min().item<double>() >= 0; }

// mip-NeRF's dense-mask sorted_piecewise_constant_pdf (deterministic), a direct port as the oracle.
at::Tensor mipnerf_pdf_dense(const at::Tensor& bins, at::Tensor weights, int64_t n) {
  const double eps = 1e-5, feps = std::numeric_limits<float>::epsilon();
  at::Tensor wsum = weights.sum(-1, true);
  const at::Tensor pad = at::clamp_min(eps - wsum, 0.0);
  weights = weights + pad / double(weights.size(-1));
  wsum = wsum + pad;
  const at::Tensor pdf = weights / wsum;
  at::Tensor cdf = at::clamp_max(at::cumsum(pdf.slice(1, 0, -1), -1), 1.0);
  const int64_t N = bins.size(0);
  cdf = at::cat({at::zeros({N, 1}, cdf.options()), cdf, at::ones({N, 1}, cdf.options())}, -1);
  const at::Tensor u = at::linspace(0.0, 1.0 - feps, n, cdf.options()).expand({N, n});
  const at::Tensor mask = u.unsqueeze(-2) >= cdf.unsqueeze(-1);  // [N, B, n]
  auto find = [&](const at::Tensor& x) {
    const at::Tensor xe = x.unsqueeze(-1).expand_as(mask);
    const at::Tensor x0 = std::get<0>(at::where(mask, xe, x.slice(1, 0, 1).unsqueeze(-1).expand_as(mask)).max(-2));
    const at::Tensor x1 = std::get<0>(at::where(~mask, xe, x.slice(1, -1).unsqueeze(-1).expand_as(mask)).min(-2));
    return std::make_pair(x0, x1);
  };
  auto [b0, b1] = find(bins);
  auto [c0, c1] = find(cdf);
  const at::Tensor t = at::clamp(at::nan_to_num((u - c0) / (c1 - c0), 0.0), 0.0, 1.0);
  return b0 + t * (b1 - b0);
}

TEST(SampleStratified, DeterministicIsLinspace) {
  nf::Rays r = some_rays(3, 2.0, 6.0);
  const at::Tensor t = nf::sample_stratified(r, 4, false);
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{3, 5}));
  EXPECT_TRUE(at::allclose(t, at::tensor({2.0f, 3.0f, 4.0f, 5.0f, 6.0f}).expand({3, 5})));
  const at::Tensor td = nf::sample_stratified(r, 2, false, {}, /*lindisp=*/true);
  // Linear in disparity: 1/2, (1/2 + 1/6)/2, 1/6.
  EXPECT_TRUE(at::allclose(td[0], at::tensor({2.0f, 3.0f, 6.0f})));
}

TEST(SampleStratified, RandomizedStaysInStrata) {
  nf::Rays r = some_rays(200, 2.0, 6.0);
  at::Generator gen = at::detail::createCPUGenerator(7);
  const at::Tensor t = nf::sample_stratified(r, 8, true, gen);  // edges 2, 2.5, ..., 6
  ASSERT_EQ(t.sizes(), (std::vector<int64_t>{200, 9}));
  EXPECT_TRUE(sorted_rows(t));
  const at::Tensor base = at::linspace(2.0, 6.0, 9);
  const at::Tensor lo = at::clamp_min(base - 0.25, 2.0), hi = at::clamp_max(base + 0.25, 6.0);
  EXPECT_TRUE((t >= lo).all().item<bool>());
  EXPECT_TRUE((t <= hi).all().item<bool>());
  EXPECT_GT(t.std(0).min().item<double>(), 0.05);  // actually random
  // Same seed, same samples.
  at::Generator gen2 = at::detail::createCPUGenerator(7);
  EXPECT_TRUE(at::equal(t, nf::sample_stratified(r, 8, true, gen2)));
}

TEST(SamplePdf, DeterministicMatchesMipNerfDenseVersion) {
  const int64_t N = 16, n = 12;
  nf::Rays r = some_rays(N, 2.0, 6.0);
  const at::Tensor t = nf::sample_stratified(r, n, true);
  at::Tensor w = at::rand({N, n}).pow(3);
  w[0].zero_();  // an empty ray: uniform pdf after padding
  // Blur + padding exactly as mip-NeRF's resample_along_rays, then the dense-mask sampler.
  const at::Tensor wp = at::cat({w.slice(1, 0, 1), w, w.slice(1, -1)}, 1);
  const at::Tensor wm = at::maximum(wp.slice(1, 0, -1), wp.slice(1, 1));
  const at::Tensor wb = 0.5 * (wm.slice(1, 0, -1) + wm.slice(1, 1)) + 0.01;
  const at::Tensor expected = mipnerf_pdf_dense(t, wb, n + 1);
  const at::Tensor got = nf::sample_pdf(t, w, n, false);
  ASSERT_EQ(got.sizes(), (std::vector<int64_t>{N, n + 1}));
  EXPECT_TRUE(at::allclose(got, expected, 1e-5, 1e-5)) << (got - expected).abs().max();
  EXPECT_TRUE(sorted_rows(got));
}

TEST(SamplePdf, UniformWeightsReproduceEdges) {
  nf::Rays r = some_rays(4, 2.0, 6.0);
  const at::Tensor t = nf::sample_stratified(r, 8, false);
  const at::Tensor got = nf::sample_pdf(t, at::ones({4, 8}), 8, false);
  // u = linspace(0, 1 - eps, 9) hits the edges (the last one up to eps * (far - near)).
  EXPECT_TRUE(at::allclose(got, t, 0.0, 1e-5));
}

TEST(SamplePdf, ConcentratesOnHeavyIntervalAndStopsGradient) {
  const int64_t N = 64, n = 16;
  nf::Rays r = some_rays(N, 2.0, 6.0);
  const at::Tensor t = nf::sample_stratified(r, n, false);  // interval width 0.25
  at::Tensor w = at::zeros({N, n});
  w.select(1, 5).fill_(1.0);
  w.requires_grad_(true);
  at::Generator gen = at::detail::createCPUGenerator(3);
  const at::Tensor s = nf::sample_pdf(t, w, 64, true, gen);
  EXPECT_FALSE(s.requires_grad());
  ASSERT_EQ(s.sizes(), (std::vector<int64_t>{N, 65}));
  EXPECT_TRUE(sorted_rows(s));
  EXPECT_GE(s.min().item<double>(), 2.0);
  EXPECT_LE(s.max().item<double>(), 6.0);
  // Blurred weights: 0.5, 1, 0.5 on intervals 4, 5, 6 (+0.01 on all 16): mass 2.03 / 2.16.
  const double lo = t[0][4].item<double>(), hi = t[0][7].item<double>();
  const double inside = ((s >= lo) & (s <= hi)).to(at::kDouble).mean().item<double>();
  EXPECT_NEAR(inside, 2.03 / 2.16, 0.02);
}

}  // namespace
