#pragma once
// The viewer's free camera for 3-D tasks: orbit around a target point (world up +z, as Blender
// scenes), pan the target, zoom the distance, field of view; snapping to a dataset camera keeps its
// exact pose until the camera is moved. Produces nf::PreviewCamera (OpenGL axes, as the scenes'
// transforms_*.json). Plain math, no GL.
#include <array>
#include <cmath>

#include "tasks/preview_info.h"

namespace nf::viewer {

class OrbitCamera {
 public:
  // width x height pixels at full resolution, focal in pixels.
  void set_image(int width, int height, double focal) {
    width_ = width;
    height_ = height;
    focal_ = focal;
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
    yaw_ = std::atan2(back[1], back[0]);
    pitch_ = std::asin(std::clamp(back[2], -1.0, 1.0));
    exact_ = true;
    exact_c2w_ = m;
    width_ = cam.width;
    height_ = cam.height;
    focal_ = cam.focal;
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
  double fov_x_deg() const { return 2 * std::atan(0.5 * width_ / focal_) / kDeg; }
  void set_fov_x_deg(double deg) {
    focal_ = 0.5 * width_ / std::tan(0.5 * std::clamp(deg, 5.0, 150.0) * kDeg);
  }
  // Camera-to-world, row-major, OpenGL axes: x right, y up, z back (away from the target).
  std::array<double, 16> pose() const {
    if (exact_) return exact_c2w_;
    const double z[3] = {std::cos(pitch_) * std::cos(yaw_), std::cos(pitch_) * std::sin(yaw_), std::sin(pitch_)};
    double x[3] = {-z[1], z[0], 0.0};  // up (0, 0, 1) x z
    const double n = std::sqrt(x[0] * x[0] + x[1] * x[1]);
    for (double& c : x) c /= n > 1e-12 ? n : 1;
    const double y[3] = {z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]};
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
  PreviewCamera camera() const {
    PreviewCamera c;
    c.width = width_;
    c.height = height_;
    c.focal = focal_;
    c.c2w = pose();
    return c;
  }
  // Projects world point p to full-resolution pixel coordinates (x right, y down); false behind.
  bool project(const double p[3], double& u, double& v) const {
    const auto m = pose();
    double d[3] = {p[0] - m[3], p[1] - m[7], p[2] - m[11]}, c[3];
    for (int k = 0; k < 3; ++k) c[k] = m[0 + k] * d[0] + m[4 + k] * d[1] + m[8 + k] * d[2];  // R^T d
    if (c[2] > -1e-3) return false;  // the camera looks down -z
    u = 0.5 * width_ + focal_ * c[0] / -c[2];
    v = 0.5 * height_ - focal_ * c[1] / -c[2];
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
  double focal_ = 100;
  std::array<double, 3> target_{0, 0, 0};
  double radius_ = 4, yaw_ = 0, pitch_ = 0.5;
  bool exact_ = false;
  std::array<double, 16> exact_c2w_{};
};

}  // namespace nf::viewer
