// Cameras with full intrinsics: Blender rays unchanged, projection round trip, pixel subsets,
// resolution scaling, JSON and its errors.
#include <gtest/gtest.h>

#include <cmath>

#include "render/camera.h"

namespace {

// A rotation about the y axis then the x axis, plus a translation: [4, 4] camera-to-world.
at::Tensor make_c2w(double a, double b, double tx, double ty, double tz, at::ScalarType dt = at::kDouble) {
  at::Tensor ry = at::eye(4, at::kDouble), rx = at::eye(4, at::kDouble);
  ry[0][0] = std::cos(a), ry[0][2] = std::sin(a), ry[2][0] = -std::sin(a), ry[2][2] = std::cos(a);
  rx[1][1] = std::cos(b), rx[1][2] = -std::sin(b), rx[2][1] = std::sin(b), rx[2][2] = std::cos(b);
  at::Tensor m = at::matmul(ry, rx);
  m[0][3] = tx, m[1][3] = ty, m[2][3] = tz;
  return m.to(dt);
}

// The NeRF ray generator as it was before nf::Camera (OpenGL axes, pixel centres at i + 0.5),
// written out independently as the oracle.
nf::Rays legacy_rays(int H, int W, double focal, const at::Tensor& c2w_in, double near, double far) {
  auto opt = at::TensorOptions().dtype(at::kDouble);
  const at::Tensor c2w = c2w_in.to(opt).slice(0, 0, 3);
  const at::Tensor R = c2w.slice(1, 0, 3), o = c2w.select(1, 3);
  const at::Tensor xs = (at::arange(W, opt) + 0.5 - 0.5 * W) / focal;
  const at::Tensor ys = (at::arange(H, opt) + 0.5 - 0.5 * H) / -focal;
  const at::Tensor cam = at::stack({xs.unsqueeze(0).expand({H, W}), ys.unsqueeze(1).expand({H, W}),
                                    at::full({H, W}, -1.0, opt)}, -1);
  const at::Tensor dirs = at::matmul(cam, R.t());
  at::Tensor dx = (dirs.slice(0, 0, H - 1) - dirs.slice(0, 1, H)).pow(2).sum(-1).sqrt();
  dx = at::cat({dx, dx.slice(0, H - 2, H - 1)}, 0);
  const int64_t N = int64_t(H) * W;
  // One ray a pixel from the camera centre; mip-NeRF's cone radius: the pixel's width / sqrt(3).
  nf::Rays r;
  r.directions = dirs.reshape({N, 3});
  r.viewdirs = (dirs / dirs.norm(2, -1, true)).reshape({N, 3});
  r.origins = o.repeat({N, 1});
  r.radii = dx.reshape({N, 1}) / std::sqrt(3.0);
  r.near = at::full_like(r.radii, near);
  r.far = at::full_like(r.radii, far);
  return r.to(at::TensorOptions().dtype(c2w_in.scalar_type()));
}

void expect_rays_near(const nf::Rays& a, const nf::Rays& b, double tol) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_TRUE(at::allclose(a.origins, b.origins, 0, tol));
  EXPECT_TRUE(at::allclose(a.directions, b.directions, 0, tol));
  EXPECT_TRUE(at::allclose(a.viewdirs, b.viewdirs, 0, tol));
  EXPECT_TRUE(at::allclose(a.radii, b.radii, 0, tol));
  EXPECT_TRUE(at::allclose(a.near, b.near, 0, tol));
  EXPECT_TRUE(at::allclose(a.far, b.far, 0, tol));
}

TEST(Camera, BlenderCameraGivesTheLegacyRays) {
  // lego-like: 40x40, camera_angle_x 0.6911112, a pose on the upper hemisphere.
  const int H = 40, W = 40;
  const double focal = 0.5 * W / std::tan(0.5 * 0.6911112);
  const at::Tensor c2w = make_c2w(0.8, -0.5, 2.0, -3.0, 2.5, at::kFloat);
  const nf::Rays want = legacy_rays(H, W, focal, c2w, 2.0, 6.0);
  const nf::Rays got = nf::generate_rays(nf::Camera::from_opengl(W, H, focal, c2w), 2.0, 6.0);
  EXPECT_EQ(got.directions.scalar_type(), at::kFloat);
  expect_rays_near(got, want, 1e-6);
  // The old entry point is the same path.
  expect_rays_near(nf::generate_rays(H, W, focal, c2w, 2.0, 6.0), want, 1e-6);
  // Non-square, double.
  const at::Tensor c2wd = make_c2w(-0.3, 0.9, 0.5, 1.0, -4.0);
  expect_rays_near(nf::generate_rays(nf::Camera::from_opengl(7, 5, 6.5, c2wd), 0.5, 3.0),
                   legacy_rays(5, 7, 6.5, c2wd, 0.5, 3.0), 1e-12);
}

TEST(Camera, FromOpenglFlipsYZAndCentresThePrincipalPoint) {
  const at::Tensor gl = make_c2w(0.4, 0.2, 1, 2, 3, at::kFloat);
  const nf::Camera c = nf::Camera::from_opengl(8, 6, 5.0, gl.slice(0, 0, 3));
  EXPECT_DOUBLE_EQ(c.cx, 3.5);
  EXPECT_DOUBLE_EQ(c.cy, 2.5);
  EXPECT_TRUE(at::equal(c.c2w.select(1, 0), gl.select(1, 0)));
  EXPECT_TRUE(at::equal(c.c2w.select(1, 1).slice(0, 0, 3), -gl.select(1, 1).slice(0, 0, 3)));
  EXPECT_TRUE(at::equal(c.c2w.select(1, 2).slice(0, 0, 3), -gl.select(1, 2).slice(0, 0, 3)));
  EXPECT_TRUE(at::equal(c.c2w.select(1, 3), gl.select(1, 3)));
  EXPECT_TRUE(at::equal(c.c2w_opengl(), gl));
  const at::Tensor K = c.K();
  EXPECT_DOUBLE_EQ(K[0][0].item<double>(), 5.0);
  EXPECT_DOUBLE_EQ(K[1][1].item<double>(), 5.0);
  EXPECT_DOUBLE_EQ(K[0][2].item<double>(), 3.5);
  EXPECT_DOUBLE_EQ(K[2][2].item<double>(), 1.0);
}

// A general camera (fx != fy, off-centre principal point): o + t d projects to pixel (i, j) at
// camera depth t, for every pixel.
TEST(Camera, RaysProjectBackToTheirPixels) {
  nf::Camera c;
  c.width = 9, c.height = 7, c.fx = 11.0, c.fy = 8.5, c.cx = 3.2, c.cy = 4.1;
  c.c2w = make_c2w(0.6, -0.7, 0.3, -1.0, 2.0);
  const nf::Rays r = nf::generate_rays(c, 0.1, 5.0);
  ASSERT_EQ(r.size(), 63);
  EXPECT_EQ(r.directions.scalar_type(), at::kDouble);
  const at::Tensor R = c.c2w.slice(0, 0, 3).slice(1, 0, 3), o = c.c2w.slice(0, 0, 3).select(1, 3);
  const double t = 2.7;
  const at::Tensor pts = r.origins + t * r.directions;              // [N, 3] world
  const at::Tensor cam = at::matmul(pts - o, R);                    // [N, 3] = R^T (x - o)
  const at::Tensor proj = at::matmul(cam, c.K().t());               // [N, 3]
  const at::Tensor uv = proj.slice(1, 0, 2) / proj.slice(1, 2, 3);  // [N, 2]
  const at::Tensor i = at::arange(9, at::kDouble).repeat({7}), j = at::arange(7, at::kDouble).repeat_interleave(9);
  EXPECT_TRUE(at::allclose(uv.select(1, 0), i, 0, 1e-9));
  EXPECT_TRUE(at::allclose(uv.select(1, 1), j, 0, 1e-9));
  EXPECT_TRUE(at::allclose(cam.select(1, 2), at::full({63}, t, at::kDouble), 0, 1e-9));
  // Radii from vertically neighbouring directions: 1 / fy.
  EXPECT_TRUE(at::allclose(r.radii, at::full({63, 1}, 2.0 / (std::sqrt(12.0) * 8.5), at::kDouble), 0, 1e-12));
  EXPECT_TRUE(at::allclose(r.viewdirs.norm(2, -1), at::ones({63}, at::kDouble)));
}

TEST(Camera, RaysAtPixelsMatchTheFullGrid) {
  nf::Camera c;
  c.width = 6, c.height = 5, c.fx = 7.0, c.fy = 9.0, c.cx = 2.0, c.cy = 3.3;
  c.c2w = make_c2w(-0.2, 0.5, 1, 1, 1, at::kFloat);
  const nf::Rays all = nf::generate_rays(c, 1.0, 4.0);
  const at::Tensor pix = at::tensor({0, 0, 5, 4, 3, 2, 1, 4}, at::kLong).reshape({4, 2});  // (col, row)
  const at::Tensor idx = pix.select(1, 1) * 6 + pix.select(1, 0);
  expect_rays_near(nf::generate_rays_at(c, pix, 1.0, 4.0), all.index(idx), 1e-6);
  EXPECT_THROW(nf::generate_rays_at(c, at::zeros({4, 3}), 1.0, 4.0), std::runtime_error);
}

TEST(Camera, ScaledKeepsTheImageFootprint) {
  nf::Camera c;
  c.width = 8, c.height = 6, c.fx = 10.0, c.fy = 12.0, c.cx = 3.0, c.cy = 2.0;
  c.c2w = make_c2w(0.3, 0.1, 0, 0, 0);
  const nf::Camera h = c.scaled(0.5);
  EXPECT_EQ(h.width, 4);
  EXPECT_EQ(h.height, 3);
  EXPECT_DOUBLE_EQ(h.fx, 5.0);
  EXPECT_DOUBLE_EQ(h.fy, 6.0);
  // Half-resolution pixel (i, j) covers full-resolution pixels 2i, 2i + 1: its centre is at 2i + 0.5.
  const nf::Rays small = nf::generate_rays(h, 1.0, 2.0);
  const at::Tensor pix = at::stack({at::arange(4, at::kDouble).repeat({3}) * 2 + 0.5,
                                    at::arange(3, at::kDouble).repeat_interleave(4) * 2 + 0.5}, 1);
  const nf::Rays full = nf::generate_rays_at(c, pix, 1.0, 2.0);
  EXPECT_TRUE(at::allclose(small.directions, full.directions, 0, 1e-12));
  EXPECT_TRUE(at::allclose(small.radii, 2.0 * full.radii, 0, 1e-12));  // pixels twice as large
  EXPECT_THROW(c.scaled(0.0), std::runtime_error);
}

TEST(Camera, JsonRoundTripAndErrors) {
  nf::Camera c;
  c.width = 400, c.height = 300, c.fx = 290.5, c.fy = 291.25, c.cx = 199.0, c.cy = 151.5;
  c.c2w = make_c2w(0.1, 0.2, 0.3, 0.4, 0.5, at::kFloat);
  const nf::Camera d = nf::Camera::from_json(c.to_json(), "cam.json");
  EXPECT_EQ(d.width, 400);
  EXPECT_EQ(d.height, 300);
  EXPECT_DOUBLE_EQ(d.fy, 291.25);
  EXPECT_DOUBLE_EQ(d.cy, 151.5);
  EXPECT_TRUE(at::allclose(d.c2w, c.c2w));
  auto message = [](const nlohmann::json& j) {
    try {
      nf::Camera::from_json(j, "cam.json");
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  nlohmann::json j = c.to_json();
  j.erase("fx");
  EXPECT_EQ(message(j), "cam.json: missing key 'fx'");
  j = c.to_json();
  j["fy"] = -3.0;
  EXPECT_NE(message(j).find("cam.json: camera fx, fy must be positive"), std::string::npos) << message(j);
  j = c.to_json();
  j["c2w"] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  EXPECT_EQ(message(j), "cam.json: key 'c2w' must be a 4x4 (or 3x4) matrix of numbers");
  j = c.to_json();
  j["width"] = "wide";
  EXPECT_NE(message(j).find("cam.json: key 'width' has the wrong type"), std::string::npos) << message(j);
  EXPECT_EQ(message(nlohmann::json::array()), "cam.json: camera must be a JSON object");
  for (const std::string& m : {message(j)}) EXPECT_EQ(m.find('\n'), std::string::npos);
}

}  // namespace
