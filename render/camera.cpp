// Pinhole cameras and their rays (see camera.h).
#include "render/camera.h"

#include <cmath>
#include <stdexcept>
#include <string>

#include "fields/config.h"

namespace nf {

namespace {

// A pose tensor as [4, 4] (a [3, 4] gets the row 0 0 0 1), floating (float32 unless already floating).
at::Tensor as_pose44(const at::Tensor& m, const std::string& where) {
  if (!m.defined() || m.dim() != 2 || (m.size(0) != 3 && m.size(0) != 4) || m.size(1) != 4)
    throw std::runtime_error(where + ": c2w must be [4, 4] or [3, 4], got " +
                             (m.defined() ? c10::str(m.sizes()) : std::string("an undefined tensor")));
  const auto dt = at::isFloatingType(m.scalar_type()) ? m.scalar_type() : at::kFloat;
  at::Tensor p = at::eye(4, m.options().dtype(dt));
  p.slice(0, 0, m.size(0)).copy_(m);
  return p;
}

bool finite(double v) { return std::isfinite(v); }

// Directions R K^-1 [u, v, 1] for camera-space pixel coordinates (double): u, v same shape [...].
at::Tensor pixel_dirs(const Camera& cam, const at::Tensor& R, const at::Tensor& u, const at::Tensor& v) {
  const at::Tensor x = (u - cam.cx) / cam.fx, y = (v - cam.cy) / cam.fy;
  return at::matmul(at::stack({x, y, at::ones_like(x)}, -1), R.t());  // [..., 3]
}

Rays finish_rays(at::Tensor dirs, const at::Tensor& o, at::Tensor dx, double near, double far,
                 at::ScalarType dtype) {
  const int64_t N = dirs.numel() / 3;
  const auto opt = dirs.options();
  Rays r;
  r.directions = dirs.reshape({N, 3});
  r.origins = o.unsqueeze(0).expand({N, 3}).contiguous();
  r.viewdirs = r.directions / r.directions.norm(2, -1, true);
  r.radii = dx.reshape({N, 1}) * (2.0 / std::sqrt(12.0));
  r.near = at::full({N, 1}, near, opt);
  r.far = at::full({N, 1}, far, opt);
  return r.to(at::TensorOptions().dtype(dtype));
}

}  // namespace

at::Tensor Camera::K() const {
  return at::tensor({fx, 0.0, cx, 0.0, fy, cy, 0.0, 0.0, 1.0}, at::kDouble).reshape({3, 3});
}

at::Tensor Camera::c2w_opengl() const {
  at::Tensor p = as_pose44(c2w, "Camera::c2w_opengl").clone();
  p.slice(1, 1, 3).slice(0, 0, 3).neg_();
  return p;
}

Camera Camera::from_opengl(int width, int height, double focal, const at::Tensor& c2w_gl) {
  Camera c;
  c.width = width;
  c.height = height;
  c.fx = c.fy = focal;
  c.cx = 0.5 * width - 0.5;
  c.cy = 0.5 * height - 0.5;
  c.c2w = as_pose44(c2w_gl, "Camera::from_opengl").clone();
  c.c2w.slice(1, 1, 3).slice(0, 0, 3).neg_();  // flip the camera's y and z axes (exact)
  return c;
}

Camera Camera::scaled(double s) const {
  if (!(s > 0) || !std::isfinite(s))
    throw std::runtime_error("Camera::scaled: scale must be a positive number, got " + std::to_string(s));
  Camera c = *this;
  c.width = std::max(1, static_cast<int>(std::lround(s * width)));
  c.height = std::max(1, static_cast<int>(std::lround(s * height)));
  const double sx = double(c.width) / width, sy = double(c.height) / height;
  c.fx = fx * sx;
  c.fy = fy * sy;
  c.cx = (cx + 0.5) * sx - 0.5;
  c.cy = (cy + 0.5) * sy - 0.5;
  return c;
}

void Camera::validate(const std::string& where) const {
  if (width < 1 || height < 1)
    throw std::runtime_error(where + ": camera width and height must be >= 1 (got " + std::to_string(width) + "x" +
                             std::to_string(height) + ")");
  if (!(fx > 0) || !(fy > 0) || !finite(fx) || !finite(fy))
    throw std::runtime_error(where + ": camera fx, fy must be positive and finite (got fx=" + std::to_string(fx) +
                             ", fy=" + std::to_string(fy) + ")");
  if (!finite(cx) || !finite(cy)) throw std::runtime_error(where + ": camera cx, cy must be finite");
  const at::Tensor p = as_pose44(c2w, where);
  if (!at::isfinite(p).all().item<bool>()) throw std::runtime_error(where + ": camera c2w has non-finite entries");
}

nlohmann::json Camera::to_json() const {
  const at::Tensor p = as_pose44(c2w, "Camera::to_json").to(at::kCPU, at::kDouble).contiguous();
  auto a = p.accessor<double, 2>();
  nlohmann::json m = nlohmann::json::array();
  for (int r = 0; r < 4; ++r) m.push_back({a[r][0], a[r][1], a[r][2], a[r][3]});
  return {{"width", width}, {"height", height}, {"fx", fx}, {"fy", fy}, {"cx", cx}, {"cy", cy}, {"c2w", m}};
}

Camera Camera::from_json(const nlohmann::json& j, const std::string& where) {
  if (!j.is_object()) throw std::runtime_error(where + ": camera must be a JSON object");
  Camera c;
  c.width = cfg_require<int>(j, "width", where);
  c.height = cfg_require<int>(j, "height", where);
  c.fx = cfg_require<double>(j, "fx", where);
  c.fy = cfg_require<double>(j, "fy", where);
  c.cx = cfg_require<double>(j, "cx", where);
  c.cy = cfg_require<double>(j, "cy", where);
  if (!j.contains("c2w")) throw std::runtime_error(where + ": missing key 'c2w'");
  const auto& m = j["c2w"];
  bool ok = m.is_array() && (m.size() == 3 || m.size() == 4);
  at::Tensor p = at::eye(4, at::kFloat);
  for (size_t r = 0; ok && r < m.size(); ++r) {
    ok = m[r].is_array() && m[r].size() == 4;
    for (size_t k = 0; ok && k < 4; ++k) {
      ok = m[r][k].is_number();
      if (ok) p[r][k] = m[r][k].get<double>();
    }
  }
  if (!ok) throw std::runtime_error(where + ": key 'c2w' must be a 4x4 (or 3x4) matrix of numbers");
  c.c2w = p;
  c.validate(where);
  return c;
}

Rays generate_rays(const Camera& cam, double near, double far) {
  cam.validate("generate_rays");
  const at::Tensor pose = as_pose44(cam.c2w, "generate_rays");
  const auto dtype = pose.scalar_type();
  // Compute in double, return in the pose's dtype.
  const auto opt = at::TensorOptions().dtype(at::kDouble).device(pose.device());
  const at::Tensor c2w = pose.to(opt);
  const at::Tensor R = c2w.slice(0, 0, 3).slice(1, 0, 3), o = c2w.slice(0, 0, 3).select(1, 3);
  const int H = cam.height, W = cam.width;
  const at::Tensor u = at::arange(W, opt).unsqueeze(0).expand({H, W});  // [H, W] column i
  const at::Tensor v = at::arange(H, opt).unsqueeze(1).expand({H, W});  // [H, W] row j
  const at::Tensor dirs = pixel_dirs(cam, R, u, v);                       // [H, W, 3]
  // mip-NeRF: dx between vertically neighbouring directions; the last row repeats the one above.
  at::Tensor dx;  // [H, W]
  if (H > 1) {
    dx = (dirs.slice(0, 0, H - 1) - dirs.slice(0, 1, H)).pow(2).sum(-1).sqrt();
    dx = at::cat({dx, dx.slice(0, H - 2, H - 1)}, 0);
  } else {
    dx = at::full({H, W}, 1.0 / cam.fy, opt) * R.select(1, 1).norm();  // no neighbour: analytic
  }
  return finish_rays(dirs, o, dx, near, far, dtype);
}

Rays generate_rays_at(const Camera& cam, const at::Tensor& pix, double near, double far) {
  cam.validate("generate_rays_at");
  if (!pix.defined() || pix.dim() != 2 || pix.size(1) != 2)
    throw std::runtime_error("generate_rays_at: pix must be [M, 2] (column, row), got " +
                             (pix.defined() ? c10::str(pix.sizes()) : std::string("an undefined tensor")));
  const at::Tensor pose = as_pose44(cam.c2w, "generate_rays_at");
  const auto opt = at::TensorOptions().dtype(at::kDouble).device(pose.device());
  const at::Tensor c2w = pose.to(opt);
  const at::Tensor R = c2w.slice(0, 0, 3).slice(1, 0, 3), o = c2w.slice(0, 0, 3).select(1, 3);
  const at::Tensor p = pix.to(opt);
  const at::Tensor dirs = pixel_dirs(cam, R, p.select(1, 0), p.select(1, 1));  // [M, 3]
  const at::Tensor dx = at::full({p.size(0)}, 1.0 / cam.fy, opt) * R.select(1, 1).norm();
  return finish_rays(dirs, o, dx, near, far, pose.scalar_type());
}

}  // namespace nf
