// Rays: pixel-centre directions, origins, radii, slicing; render_chunked.
#include <gtest/gtest.h>

#include <cmath>

#include "render/chunked.h"
#include "render/rays.h"

namespace {

// A rotation about the y axis by angle a, plus a translation, as a [4, 4] OpenGL camera-to-world.
at::Tensor make_c2w(double a, double tx, double ty, double tz) {
  at::Tensor m = at::eye(4, at::kDouble);
  m[0][0] = std::cos(a);
  m[0][2] = std::sin(a);
  m[2][0] = -std::sin(a);
  m[2][2] = std::cos(a);
  m[0][3] = tx;
  m[1][3] = ty;
  m[2][3] = tz;
  return m;
}

TEST(Rays, IdentityCameraPixelCentres) {
  const int H = 4, W = 6;
  const double f = 5.0;
  nf::Rays r = nf::generate_rays(H, W, f, at::eye(4).slice(0, 0, 3), 2.0, 6.0);  // [3, 4] float
  ASSERT_EQ(r.size(), H * W);
  EXPECT_EQ(r.directions.scalar_type(), at::kFloat);
  EXPECT_EQ(r.radii.sizes(), (std::vector<int64_t>{H * W, 1}));
  // Row-major, pixel (i, j) at (i + 0.5, j + 0.5): x = (i + 0.5 - W/2) / f, y = -(j + 0.5 - H/2) / f.
  for (int j = 0; j < H; ++j)
    for (int i = 0; i < W; ++i) {
      const auto d = r.directions[j * W + i];
      EXPECT_NEAR(d[0].item<double>(), (i + 0.5 - W / 2.0) / f, 1e-6);
      EXPECT_NEAR(d[1].item<double>(), -(j + 0.5 - H / 2.0) / f, 1e-6);
      EXPECT_NEAR(d[2].item<double>(), -1.0, 1e-6);
    }
  EXPECT_TRUE(at::allclose(r.origins, at::zeros({H * W, 3})));
  EXPECT_TRUE(at::allclose(r.viewdirs.norm(2, -1), at::ones({H * W})));
  EXPECT_TRUE(at::allclose(r.viewdirs, r.directions / r.directions.norm(2, -1, true)));
  // Neighbouring directions are 1/f apart: radius = 2 / (sqrt(12) f) everywhere.
  EXPECT_TRUE(at::allclose(r.radii, at::full({H * W, 1}, 2.0 / (std::sqrt(12.0) * f)), 1e-6, 1e-7));
  EXPECT_TRUE(at::allclose(r.near, at::full({H * W, 1}, 2.0)));
  EXPECT_TRUE(at::allclose(r.far, at::full({H * W, 1}, 6.0)));
}

TEST(Rays, RotatedCameraAndDtype) {
  const int H = 3, W = 5;
  const double f = 2.5;
  const at::Tensor c2w = make_c2w(0.7, 1.0, -2.0, 3.0);  // double -> double rays
  nf::Rays r = nf::generate_rays(H, W, f, c2w, 0.5, 4.0);
  EXPECT_EQ(r.directions.scalar_type(), at::kDouble);
  nf::Rays r0 = nf::generate_rays(H, W, f, at::eye(4, at::kDouble), 0.5, 4.0);
  const at::Tensor R = c2w.slice(0, 0, 3).slice(1, 0, 3);
  EXPECT_TRUE(at::allclose(r.directions, at::matmul(r0.directions, R.t())));
  EXPECT_TRUE(at::allclose(r.origins, c2w.slice(0, 0, 3).select(1, 3).expand({H * W, 3})));
  // A rotation keeps the neighbour distance: same radii as the identity camera.
  EXPECT_TRUE(at::allclose(r.radii, r0.radii));
  // The centre column of an odd-width image looks along the camera's -z axis (in world: -R[:, 2]).
  const at::Tensor centre = r.viewdirs[1 * W + 2];
  EXPECT_TRUE(at::allclose(centre, -R.select(1, 2)));
}

TEST(Rays, SliceIndexCat) {
  nf::Rays r = nf::generate_rays(4, 4, 3.0, at::eye(4), 2.0, 6.0);
  nf::Rays a = r.slice(0, 5), b = r.slice(5, 16);
  EXPECT_EQ(a.size(), 5);
  EXPECT_EQ(b.size(), 11);
  nf::Rays c = nf::Rays::cat({a, b});
  EXPECT_TRUE(at::equal(c.directions, r.directions));
  EXPECT_TRUE(at::equal(c.radii, r.radii));
  nf::Rays d = r.index(at::tensor({3, 1}, at::kLong));
  EXPECT_TRUE(at::equal(d.directions[0], r.directions[3]));
  EXPECT_TRUE(at::equal(d.far[1], r.far[1]));
}

TEST(Rays, BadArguments) {
  EXPECT_THROW(nf::generate_rays(0, 4, 3.0, at::eye(4), 2.0, 6.0), std::runtime_error);
  EXPECT_THROW(nf::generate_rays(4, 4, 3.0, at::eye(3), 2.0, 6.0), std::runtime_error);
}

TEST(RenderChunked, MatchesUnchunkedWithoutGrad) {
  nf::Rays r = nf::generate_rays(5, 7, 4.0, make_c2w(0.3, 0, 0, 4).to(at::kFloat), 2.0, 6.0);  // 35 rays
  const at::Tensor w = at::randn({3, 2}).requires_grad_(true);
  int calls = 0;
  auto fn = [&](const nf::Rays& rays) {
    ++calls;
    EXPECT_LE(rays.size(), 8);
    return at::matmul(rays.origins + rays.directions, w);  // [M, 2]
  };
  const at::Tensor out = nf::render_chunked(fn, r, 8);
  EXPECT_EQ(calls, 5);  // 8 + 8 + 8 + 8 + 3
  EXPECT_FALSE(out.requires_grad());
  EXPECT_TRUE(at::allclose(out, at::matmul(r.origins + r.directions, w).detach()));

  auto multi = [&](const nf::Rays& rays) {
    return std::vector<at::Tensor>{rays.directions.sum(1), rays.radii};
  };
  const auto outs = nf::render_chunked_multi(multi, r, 10);
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_TRUE(at::allclose(outs[0], r.directions.sum(1)));
  EXPECT_TRUE(at::equal(outs[1], r.radii));
}

}  // namespace
