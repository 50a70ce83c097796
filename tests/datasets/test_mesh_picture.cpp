// Mesh pictures (datasets/mesh_picture.h): silhouettes of a known sphere, shading, shared framing.
#include <gtest/gtest.h>

#include <cmath>

#include "datasets/mesh_picture.h"

namespace {

constexpr double kPi = 3.14159265358979323846;

// UV sphere of radius r about c: [V, 3] float, [F, 3] int64 (outward winding).
nf::Mesh uv_sphere(double r, double cx, double cy, double cz, int nu = 96, int nv = 48) {
  std::vector<float> v;
  std::vector<int64_t> f;
  v.insert(v.end(), {float(cx), float(cy + r), float(cz)});
  for (int j = 1; j < nv; ++j) {
    const double th = kPi * j / nv;
    for (int i = 0; i < nu; ++i) {
      const double ph = 2 * kPi * i / nu;
      v.insert(v.end(), {float(cx + r * std::sin(th) * std::cos(ph)), float(cy + r * std::cos(th)),
                         float(cz + r * std::sin(th) * std::sin(ph))});
    }
  }
  v.insert(v.end(), {float(cx), float(cy - r), float(cz)});
  const int64_t bottom = 1 + int64_t(nv - 1) * nu;
  auto ring = [&](int j, int i) { return 1 + int64_t(j - 1) * nu + (i % nu); };
  for (int i = 0; i < nu; ++i) f.insert(f.end(), {0, ring(1, i + 1), ring(1, i)});
  for (int j = 1; j < nv - 1; ++j)
    for (int i = 0; i < nu; ++i) {
      f.insert(f.end(), {ring(j, i), ring(j, i + 1), ring(j + 1, i)});
      f.insert(f.end(), {ring(j, i + 1), ring(j + 1, i + 1), ring(j + 1, i)});
    }
  for (int i = 0; i < nu; ++i) f.insert(f.end(), {bottom, ring(nv - 1, i), ring(nv - 1, i + 1)});
  nf::Mesh m;
  m.vertices = at::tensor(v).view({-1, 3});
  m.faces = at::tensor(f).view({-1, 3});
  return m;
}

int64_t covered(const at::Tensor& img) { return (img.select(2, 0) < 0.999).sum().item<int64_t>(); }

TEST(MeshPicture, SphereSilhouetteHasTheFramedRadius) {
  if (!nf::RayCaster::available()) GTEST_SKIP() << "built without Embree";
  const auto s = uv_sphere(0.7, 0.3, -0.2, 0.1);
  const nf::FramingSphere sphere = nf::framing_sphere(s.vertices);
  EXPECT_NEAR(sphere.radius, 0.7, 1e-4);
  nf::MeshPictureOptions o;
  o.views = 3;
  o.width = o.height = 96;
  const auto cams = nf::mesh_picture_cameras(sphere, o);
  ASSERT_EQ(cams.second.size(0), 3);
  const nf::RayCaster caster(s);
  // Framing: the sphere's angular radius is 0.95 of the half field of view, so its silhouette is a
  // disc of radius f tan(0.95 half) pixels about the image centre, in every view.
  const double f = cams.first[0][0].item<double>();
  const double half = std::atan(0.5 * (o.width - 1) / f);
  const double rpix = f * std::tan(0.95 * half);
  for (int i = 0; i < 3; ++i) {
    const at::Tensor img = nf::render_mesh_view(caster, s, cams.first, cams.second[i], o.width, o.height);
    ASSERT_EQ(img.sizes(), (at::IntArrayRef{96, 96, 3}));
    EXPECT_NEAR(double(covered(img)), kPi * rpix * rpix, 0.03 * kPi * rpix * rpix) << "view " << i;
    // Head-lit: the centre faces the camera (brightest grey), the corner is background (white).
    EXPECT_NEAR(img[48][48][0].item<double>(), 0.8, 0.02);
    EXPECT_FLOAT_EQ(img[0][0][0].item<float>(), 1.0f);
    // Rim pixels are darker than the centre (grazing normals).
    const int rim = int(48 + 0.93 * rpix);
    EXPECT_LT(img[48][rim][0].item<double>(), img[48][48][0].item<double>() - 0.2);
  }
}

TEST(MeshPicture, RowsShareOneFraming) {
  if (!nf::RayCaster::available()) GTEST_SKIP() << "built without Embree";
  const auto big = uv_sphere(1.0, 0, 0, 0), small = uv_sphere(0.5, 0, 0, 0);
  nf::MeshPictureOptions o;
  o.views = 2;
  o.width = o.height = 64;
  o.gap = 4;
  const at::Tensor pic = nf::mesh_picture({big, small}, nf::framing_sphere(big.vertices), o);
  ASSERT_EQ(pic.sizes(), (at::IntArrayRef{2 * 64 + 4, 2 * 64 + 4, 3}));
  const at::Tensor top = pic.slice(0, 0, 64).slice(1, 0, 64), bottom = pic.slice(0, 68, 132).slice(1, 0, 64);
  // Same cameras: half the radius -> about a quarter of the pixels.
  const double ratio = double(covered(bottom)) / double(covered(top));
  EXPECT_GT(ratio, 0.2);
  EXPECT_LT(ratio, 0.3);
  // The gaps are white.
  EXPECT_TRUE(pic.slice(0, 64, 68).eq(1.0f).all().item<bool>());
}

TEST(MeshPicture, BadOptionsAreOneLineErrors) {
  const auto s = uv_sphere(1.0, 0, 0, 0, 8, 4);
  const nf::FramingSphere sphere = nf::framing_sphere(s.vertices);
  nf::MeshPictureOptions o;
  o.up = "w";
  EXPECT_THROW(nf::mesh_picture_cameras(sphere, o), std::runtime_error);
  o = {};
  o.views = 0;
  EXPECT_THROW(nf::mesh_picture_cameras(sphere, o), std::runtime_error);
  o = {};
  o.elevation_deg = 90;
  EXPECT_THROW(nf::mesh_picture_cameras(sphere, o), std::runtime_error);
  EXPECT_THROW(nf::framing_sphere(at::zeros({0, 3})), std::runtime_error);
  for (const char* up : {"x", "-y", "z"}) {
    o = {};
    o.up = up;
    EXPECT_NO_THROW(nf::mesh_picture_cameras(sphere, o)) << up;
  }
}

}  // namespace
