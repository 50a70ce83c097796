// NeuS ray rendering (render/neus_render.h) with a batch-dependent norm: with uniform_stats every
// pass of a batch-mode render evaluates the field of the uniform samples' statistics, so it equals a
// frozen-mode render calibrated on those samples; the weights get gradients through the statistics.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <gtest/gtest.h>

#include "fields/neus.h"
#include "fields/registry.h"
#include "render/neus_render.h"

namespace {

std::shared_ptr<nf::NeuSImpl> tiny_cn() {
  at::manual_seed(3);
  auto m = std::dynamic_pointer_cast<nf::NeuSImpl>(
      nf::make_field({{"type", "neus"}, {"sdf_depth", 3}, {"sdf_width", 24}, {"skip", 2}, {"multires", 2},
                      {"feature_dim", 4}, {"color_depth", 1}, {"color_width", 8}, {"norm", "cn"},
                      {"norm_init", "identity"}, {"init_variance", 0.5}}));
  m->to(at::kDouble);
  return m;
}

struct Rays {
  at::Tensor o, d;  // [N, 3]
};

// Rays from a sphere of radius 1.5 towards random points near the origin.
Rays rays(int64_t n) {
  at::manual_seed(7);
  auto o = at::randn({n, 3}, at::kDouble);
  o = o / o.norm(2, {1}, true) * 1.5;
  auto t = (at::rand({n, 3}, at::kDouble) * 2 - 1) * 0.6;
  auto d = t - o;
  return {o, d / d.norm(2, {1}, true)};
}

nf::NeusRenderOptions opts(bool uniform_stats) {
  nf::NeusRenderOptions o;
  o.n_samples = 16;
  o.n_importance = 16;
  o.up_sample_steps = 2;
  o.perturb = false;
  o.uniform_stats = uniform_stats;
  return o;
}

}  // namespace

TEST(NeusRender, UniformStatsRenderTheFieldTheUpSamplingSaw) {
  auto m = tiny_cn();
  auto r = rays(40);
  c10::NoGradGuard ng;
  m->set_norm_mode(nf::NormMode::Batch);
  auto batch = nf::neus_render_rays(*m, r.o, r.d, opts(true), false);
  auto batch_final = nf::neus_render_rays(*m, r.o, r.d, opts(false), false);
  at::Tensor upts;
  nf::neus_sample_rays(*m, r.o, r.d, opts(true), {}, &upts);
  ASSERT_EQ(upts.size(0), 40 * 16);
  m->calibrate(upts);  // frozen statistics of the uniform samples, T = 40 * 16
  auto frozen = nf::neus_render_rays(*m, r.o, r.d, opts(true), false);
  ASSERT_GT(frozen.acc.max().item<double>(), 0.5);  // the identity init's sphere: rays hit a surface
  EXPECT_TRUE(at::allclose(batch.acc, frozen.acc, 1e-7, 1e-9));
  EXPECT_TRUE(at::allclose(batch.rgb, frozen.rgb, 1e-7, 1e-9));
  EXPECT_TRUE(at::allclose(batch.normal, frozen.normal, 1e-7, 1e-9));
  EXPECT_NEAR(batch.eikonal.item<double>(), frozen.eikonal.item<double>(), 1e-9);
  // The final pass's own statistics define another field (same up-sampled z, other values).
  EXPECT_GT((batch_final.acc - frozen.acc).abs().max().item<double>(), 1e-4);
}

TEST(NeusRender, UniformStatsTrainingPassBackpropagatesAndReleasesTheStatistics) {
  auto m = tiny_cn();
  auto r = rays(24);
  m->set_norm_mode(nf::NormMode::Batch);
  auto out = nf::neus_render_rays(*m, r.o, r.d, opts(true), /*create_graph=*/true);
  // The statistics were released after the pass (no graph kept alive by the norms).
  for (auto& n : m->sdf_norms) EXPECT_FALSE(n->kept_mean.defined());
  (out.rgb.sum() + out.acc.sum() + out.eikonal).backward();
  for (auto* t : {&m->sdf_layers[0]->v, &m->sdf_norms[0]->weight, &m->sdf_norms[2]->bias}) {
    ASSERT_TRUE(t->grad().defined());
    EXPECT_TRUE(at::isfinite(t->grad()).all().item<bool>());
    EXPECT_GT(t->grad().abs().max().item<double>(), 0);
  }
}
