// The NeRF ray pipeline in render/: whole views from a pinhole nf::Camera agree with render_rays on
// the camera's rays, do not depend on the chunk size (per-sample field), and honour the intrinsics.
#include <gtest/gtest.h>
#include <c10/core/GradMode.h>

#include "fields/registry.h"
#include "render/nerf_render.h"

namespace {

struct Scene {
  nf::Field field;
  nf::MipNeRFImpl* m = nullptr;
  nf::Camera cam;
  nf::NerfRenderOptions o;
  Scene() {
    torch::manual_seed(0);
    field = nf::make_field({{"type", "mipnerf"}, {"preset", "small"}, {"width", 32}});
    field->eval();
    m = &nf::as_mipnerf(*field);
    cam = nf::Camera::from_opengl(12, 10, 14.0, nf::orbit_poses(3, 4.0, 30.0)[1]);
    o.n_coarse = 16;
    o.n_fine = 16;
  }
};

TEST(NerfRender, ViewEqualsRenderRaysAndIgnoresTheChunkSize) {
  Scene s;
  s.o.chunk = 7;
  const nf::NerfView v = nf::render_view(*s.m, s.cam, 2.0, 6.0, s.o, c10::kCPU);
  ASSERT_EQ(v.rgb.sizes(), (std::vector<int64_t>{10, 12, 3}));
  c10::NoGradGuard ng;
  const nf::NerfRays r = nf::render_rays(*s.m, nf::generate_rays(s.cam, 2.0, 6.0), s.o, /*randomized=*/false);
  EXPECT_TRUE(at::allclose(v.rgb.reshape({-1, 3}), r.fine.rgb, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(v.acc.reshape({-1}), r.fine.acc, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(v.depth.reshape({-1}), nf::normalized_depth(r.fine, r.t_fine), 1e-5, 1e-5));
  s.o.chunk = 1000;
  EXPECT_TRUE(at::allclose(nf::render_view(*s.m, s.cam, 2.0, 6.0, s.o, c10::kCPU).rgb, v.rgb, 1e-5, 1e-6));
  // The image is not trivial (the check above would pass for a constant field).
  EXPECT_GT((v.rgb - v.rgb.mean()).abs().max().item<double>(), 1e-3);
}

// Moving the principal point by 3 pixels moves the image by 3 columns.
TEST(NerfRender, PrincipalPointShiftsTheImage) {
  Scene s;
  nf::Camera shifted = s.cam;
  shifted.cx += 3.0;
  const at::Tensor a = nf::render_view(*s.m, s.cam, 2.0, 6.0, s.o, c10::kCPU).rgb;
  const at::Tensor b = nf::render_view(*s.m, shifted, 2.0, 6.0, s.o, c10::kCPU).rgb;
  EXPECT_TRUE(at::allclose(b.slice(1, 3), a.slice(1, 0, 9), 1e-5, 1e-6));
  EXPECT_FALSE(at::allclose(b, a, 1e-3, 1e-4));
}

TEST(NerfRender, DepthImageAndFieldChecks) {
  const at::Tensor d = at::tensor({2.0, 4.0, 6.0, 5.0}), acc = at::tensor({1.0, 1.0, 1.0, 0.0});
  EXPECT_TRUE(at::allclose(nf::depth_to_image(d, acc, 2.0, 6.0), at::tensor({1.0, 0.5, 0.0, 0.0})));
  auto plain = nf::make_field({{"type", "mlp"}, {"in_dim", 2}, {"out_dim", 3}, {"width", 8}, {"hidden_layers", 1}});
  EXPECT_THROW(nf::as_mipnerf(*plain), std::runtime_error);
  EXPECT_THROW(nf::orbit_poses(0, 4.0, 30.0), std::runtime_error);
}

}  // namespace
