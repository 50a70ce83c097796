#pragma once
// The viewer's free camera for 3-D tasks: orbit around a target point (world up: +z as Blender scenes
// by default, set_up for others, e.g. DTU-style scenes), pan the target, zoom the distance, field of
// view; snapping to a dataset camera keeps its exact pose until the camera is moved. Intrinsics (fx,
// fy, cx, cy) come from the dataset camera it starts from or snaps to. Produces nf::PreviewCamera
// (OpenGL axes, as the scenes' transforms_*.json). Plain math, no GL.
#include <array>
#include <cmath>

#include "tasks/preview_info.h"

namespace nf::viewer {

class OrbitCamera {
 public:
  // Full-resolution image size and intrinsics (the pose of `cam` is not used).
  void set_image(const PreviewCamera& cam) {
    width_ = cam.width;
    height_ = cam.height;
    fx_ = cam.fx;
    fy_ = cam.fy;
    cx_ = cam.cx;
    cy_ = cam.cy;
  }
  // World up of the orbit (yaw turns about it, pitch is the elevation above its plane); any length.
  void set_up(const std::array<double, 3>& up) {
    double n = std::sqrt(up[0] * up[0] + up[1] * up[1] + up[2] * up[2]);
    if (!(n > 1e-12)) return;
    const double u[3] = {up[0] / n, up[1] / n, up[2] / n};
    // e1: the world axis least aligned with up, made perpendicular (for up = +z: e1 = +x, e2 = +y).
    int a = 0;
    for (int k = 1; k < 3; ++k)
      if (std::abs(u[k]) < std::abs(u[a])) a = k;
    double e1[3] = {0, 0, 0};
    e1[a] = 1;
    const double d = e1[0] * u[0] + e1[1] * u[1] + e1[2] * u[2];
    for (int k = 0; k < 3; ++k) e1[k] -= d * u[k];
    n = std::sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
    for (double& c : e1) c /= n;
    const double e2[3] = {u[1] * e1[2] - u[2] * e1[1], u[2] * e1[0] - u[0] * e1[2], u[0] * e1[1] - u[1] * e1[0]};
    for (int k = 0; k < 3; ++k) {
      const auto i = static_cast<size_t>(k);
      basis_[i * 3 + 0] = e1[k];
      basis_[i * 3 + 1] = e2[k];
      basis_[i * 3 + 2] = u[k];
    }
  }
  void set_orbit(const std::array<double, 3>& target, double radius, double yaw_deg, double pitch_deg) {
    target_ = target;
    radius_ = radius;
    yaw_ = yaw_deg * kDeg;
    pitch_ = pitch_deg * kDeg;
    exact_ = false;
  }
  // Takes the pose of a dataset camera exactly; orbits then continue around the point on its view
  // axis closest to the origin.
  void snap(const PreviewCamera& cam) {
    const auto& m = cam.c2w;
    const double p[3] = {m[3], m[7], m[11]}, back[3] = {m[2], m[6], m[10]};
    const double along = std::max(0.1, p[0] * back[0] + p[1] * back[1] + p[2] * back[2]);  // dot(-p, forward)
    for (int i = 0; i < 3; ++i) target_[static_cast<size_t>(i)] = p[i] - back[i] * along;
    radius_ = along;
    double b[3];  // back in the orbit's frame (up = third axis)
    for (int k = 0; k < 3; ++k) b[k] = basis_[0 + k] * back[0] + basis_[3 + k] * back[1] + basis_[6 + k] * back[2];
    yaw_ = std::atan2(b[1], b[0]);
    pitch_ = std::asin(std::clamp(b[2], -1.0, 1.0));
    exact_ = true;
    exact_c2w_ = m;
    set_image(cam);
  }
  void orbit(double dyaw_deg, double dpitch_deg) {
    yaw_ += dyaw_deg * kDeg;
    pitch_ = std::clamp(pitch_ + dpitch_deg * kDeg, -89.0 * kDeg, 89.0 * kDeg);
    exact_ = false;
  }
  // Moves the target by (dx, dy) in units of the distance, along the camera's right and up axes.
  void pan(double dx, double dy) {
    const auto m = pose();
    for (int i = 0; i < 3; ++i) target_[static_cast<size_t>(i)] += (m[i * 4 + 0] * dx + m[i * 4 + 1] * dy) * radius_;
    exact_ = false;
  }
  void zoom(double factor) {
    radius_ = std::clamp(radius_ * factor, 0.05, 100.0);
    exact_ = false;
  }
  double fov_x_deg() const { return 2 * std::atan(0.5 * width_ / fx_) / kDeg; }
  // Scales fx and fy together (the aspect of the pixels and the principal point stay).
  void set_fov_x_deg(double deg) {
    const double fx = 0.5 * width_ / std::tan(0.5 * std::clamp(deg, 5.0, 150.0) * kDeg);
    fy_ *= fx / fx_;
    fx_ = fx;
  }
  // Camera-to-world, row-major, OpenGL axes: x right, y up, z back (away from the target).
  std::array<double, 16> pose() const {
    if (exact_) return exact_c2w_;
    // In the orbit's frame (up = third axis), then mapped to the world by basis_.
    const double zl[3] = {std::cos(pitch_) * std::cos(yaw_), std::cos(pitch_) * std::sin(yaw_), std::sin(pitch_)};
    double xl[3] = {-zl[1], zl[0], 0.0};  // up (0, 0, 1) x z
    const double n = std::sqrt(xl[0] * xl[0] + xl[1] * xl[1]);
    for (double& c : xl) c /= n > 1e-12 ? n : 1;
    const double yl[3] = {zl[1] * xl[2] - zl[2] * xl[1], zl[2] * xl[0] - zl[0] * xl[2], zl[0] * xl[1] - zl[1] * xl[0]};
    double x[3], y[3], z[3];
    for (int r = 0; r < 3; ++r) {
      const auto i = static_cast<size_t>(r) * 3;
      x[r] = basis_[i] * xl[0] + basis_[i + 1] * xl[1] + basis_[i + 2] * xl[2];
      y[r] = basis_[i] * yl[0] + basis_[i + 1] * yl[1] + basis_[i + 2] * yl[2];
      z[r] = basis_[i] * zl[0] + basis_[i + 1] * zl[1] + basis_[i + 2] * zl[2];
    }
    std::array<double, 16> m{};
    for (int r = 0; r < 3; ++r) {
      const auto i = static_cast<size_t>(r);
      m[i * 4 + 0] = x[r];
      m[i * 4 + 1] = y[r];
      m[i * 4 + 2] = z[r];
      m[i * 4 + 3] = target_[i] + radius_ * z[r];
    }
    m[15] = 1;
    return m;
  }
  PreviewCamera camera() const { return PreviewCamera{width_, height_, fx_, fy_, cx_, cy_, pose()}; }
  // Projects world point p to full-resolution image coordinates (x right, y down, the image spanning
  // [0, width] x [0, height]: pixel centres at half-integers); false behind.
  bool project(const double p[3], double& u, double& v) const {
    const auto m = pose();
    double d[3] = {p[0] - m[3], p[1] - m[7], p[2] - m[11]}, c[3];
    for (int k = 0; k < 3; ++k) c[k] = m[0 + k] * d[0] + m[4 + k] * d[1] + m[8 + k] * d[2];  // R^T d
    if (c[2] > -1e-3) return false;  // the camera looks down -z
    u = cx_ + 0.5 + fx_ * c[0] / -c[2];
    v = cy_ + 0.5 - fy_ * c[1] / -c[2];
    return true;
  }
  bool exact() const { return exact_; }
  int width() const { return width_; }
  int height() const { return height_; }
  double yaw_deg() const { return yaw_ / kDeg; }
  double pitch_deg() const { return pitch_ / kDeg; }
  double radius() const { return radius_; }

 private:
  static constexpr double kDeg = 3.14159265358979323846 / 180.0;
  int width_ = 100, height_ = 100;
  double fx_ = 100, fy_ = 100, cx_ = 49.5, cy_ = 49.5;
  std::array<double, 9> basis_{1, 0, 0, 0, 1, 0, 0, 0, 1};  // columns: the orbit frame's axes (third: up)
  std::array<double, 3> target_{0, 0, 0};
  double radius_ = 4, yaw_ = 0, pitch_ = 0.5;
  bool exact_ = false;
  std::array<double, 16> exact_c2w_{};
};

}  // namespace nf::viewer
