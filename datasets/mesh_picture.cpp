// Grey head-lit pictures of meshes (see mesh_picture.h).
#include "datasets/mesh_picture.h"

#include <cmath>
#include <stdexcept>

namespace nf {

namespace {

constexpr double kPi = 3.14159265358979323846;

at::Tensor normalize_rows(const at::Tensor& x) { return x / x.norm(2, -1, true).clamp_min(1e-12); }

at::Tensor up_vector(const std::string& up) {
  const bool neg = !up.empty() && up[0] == '-';
  const std::string axis = neg ? up.substr(1) : up;
  at::Tensor u = at::zeros({3}, at::kDouble);
  if (axis == "x") u[0] = 1;
  else if (axis == "y") u[1] = 1;
  else if (axis == "z") u[2] = 1;
  else throw std::runtime_error("mesh picture: up must be x, y, z, -x, -y or -z, got '" + up + "'");
  return neg ? -u : u;
}

}  // namespace

FramingSphere framing_sphere(const at::Tensor& vertices) {
  if (!vertices.defined() || vertices.dim() != 2 || vertices.size(0) == 0 || vertices.size(1) != 3)
    throw std::runtime_error("mesh picture: the mesh has no vertices");
  const at::Tensor v = vertices.to(at::kCPU, at::kDouble);
  FramingSphere s;
  s.centre = (std::get<0>(v.min(0)) + std::get<0>(v.max(0))) * 0.5;
  s.radius = (v - s.centre).norm(2, 1).max().item<double>();
  if (!(s.radius > 0) || !std::isfinite(s.radius)) throw std::runtime_error("mesh picture: the mesh has zero extent");
  return s;
}

std::pair<at::Tensor, at::Tensor> mesh_picture_cameras(const FramingSphere& sphere, const MeshPictureOptions& o) {
  if (o.views < 1 || o.views > 64) throw std::runtime_error("mesh picture: views must be in [1, 64]");
  if (o.width < 8 || o.height < 8 || o.width > 4096 || o.height > 4096)
    throw std::runtime_error("mesh picture: width and height must be in [8, 4096]");
  if (!(o.fov_y_deg > 1 && o.fov_y_deg < 170)) throw std::runtime_error("mesh picture: fov must be in (1, 170) degrees");
  if (!(std::abs(o.elevation_deg) < 89)) throw std::runtime_error("mesh picture: elevation must be in (-89, 89) degrees");
  const at::Tensor up = up_vector(o.up);
  // Two axes spanning the plane orthogonal to up.
  const at::Tensor a = normalize_rows(at::cross(up, std::abs(up[0].item<double>()) > 0.5 ? at::tensor({0.0, 0.0, 1.0}, at::kDouble)
                                                                                          : at::tensor({1.0, 0.0, 0.0}, at::kDouble), 0));
  const at::Tensor b = at::cross(up, a, 0);
  const double W = o.width, H = o.height;
  const double fy = 0.5 * H / std::tan(0.5 * o.fov_y_deg * kPi / 180), fx = fy;
  const double half = std::min(std::atan(0.5 * (W - 1) / fx), std::atan(0.5 * (H - 1) / fy));
  const double dist = sphere.radius / std::sin(0.95 * half);
  at::Tensor K = at::eye(3, at::kDouble);
  K[0][0] = fx;
  K[1][1] = fy;
  K[0][2] = 0.5 * (W - 1);
  K[1][2] = 0.5 * (H - 1);
  std::vector<at::Tensor> w2c;
  const double el = o.elevation_deg * kPi / 180;
  for (int i = 0; i < o.views; ++i) {
    const double az = (o.azimuth0_deg + 360.0 * i / o.views) * kPi / 180;
    const at::Tensor dir = std::cos(el) * (std::cos(az) * a + std::sin(az) * b) + std::sin(el) * up;  // centre -> camera
    const at::Tensor cam = sphere.centre + dist * dir;
    const at::Tensor fwd = -dir;
    const at::Tensor right = normalize_rows(at::cross(fwd, up, 0));
    const at::Tensor down = at::cross(fwd, right, 0);
    const at::Tensor R = at::stack({right, down, fwd}, 0);
    w2c.push_back(at::cat({R, (-at::matmul(R, cam)).view({3, 1})}, 1));
  }
  return {K, at::stack(w2c, 0)};
}

at::Tensor render_mesh_view(const RayCaster& caster, const Mesh& mesh, const at::Tensor& K, const at::Tensor& w2c,
                            int width, int height) {
  const at::Tensor P = w2c.to(at::kDouble);
  const at::Tensor R = P.slice(1, 0, 3), t = P.select(1, 3);
  const at::Tensor cam = -at::matmul(R.t(), t);
  const at::Tensor us = at::arange(width, at::kDouble), vs = at::arange(height, at::kDouble);
  const auto g = at::meshgrid({vs, us}, "ij");
  const at::Tensor pix = at::stack({g[1].reshape(-1), g[0].reshape(-1), at::ones({int64_t(width) * height}, at::kDouble)}, 1);
  const at::Tensor dirs = normalize_rows(at::matmul(at::matmul(pix, at::inverse(K.to(at::kDouble)).t()), R));
  const at::Tensor origins = cam.view({1, 3}).expand_as(dirs).contiguous();
  const RayHits hits = caster.intersect(origins.to(at::kFloat), dirs.to(at::kFloat));
  const at::Tensor hit = hits.face >= 0;
  const at::Tensor f = mesh.faces.to(at::kCPU, at::kLong).index_select(0, hits.face.clamp_min(0));
  const at::Tensor v = mesh.vertices.to(at::kCPU, at::kDouble);
  const at::Tensor p0 = v.index_select(0, f.select(1, 0)), p1 = v.index_select(0, f.select(1, 1)),
                   p2 = v.index_select(0, f.select(1, 2));
  const at::Tensor n = normalize_rows(at::cross(p1 - p0, p2 - p0, 1));
  const at::Tensor shade = 0.15 + 0.85 * (n * dirs).sum(1).abs();                      // [N]
  const at::Tensor grey = at::stack({0.80 * shade, 0.80 * shade, 0.78 * shade}, 1);   // [N, 3]
  const at::Tensor rgb = at::where(hit.unsqueeze(1), grey, at::ones_like(grey));
  return rgb.to(at::kFloat).view({height, width, 3}).contiguous();
}

at::Tensor mesh_picture(const std::vector<Mesh>& meshes, const FramingSphere& sphere, const MeshPictureOptions& o) {
  if (meshes.empty()) throw std::runtime_error("mesh picture: no meshes");
  if (o.gap < 0 || o.gap > 64) throw std::runtime_error("mesh picture: gap must be in [0, 64]");
  const auto cams = mesh_picture_cameras(sphere, o);
  const int64_t rows = int64_t(meshes.size());
  const int64_t H = rows * o.height + (rows - 1) * o.gap, W = int64_t(o.views) * o.width + (o.views - 1) * o.gap;
  at::Tensor out = at::ones({H, W, 3}, at::kFloat);
  for (int64_t r = 0; r < rows; ++r) {
    const RayCaster caster(meshes[r]);
    for (int i = 0; i < o.views; ++i) {
      const at::Tensor img = render_mesh_view(caster, meshes[r], cams.first, cams.second[i], o.width, o.height);
      out.slice(0, r * (o.height + o.gap), r * (o.height + o.gap) + o.height)
          .slice(1, int64_t(i) * (o.width + o.gap), int64_t(i) * (o.width + o.gap) + o.width)
          .copy_(img);
    }
  }
  return out;
}

}  // namespace nf
