#include "tasks/preview.h"

#include <algorithm>
#include <stdexcept>

namespace nf {

at::Tensor c2w_tensor(const PreviewCamera& camera) {
  auto t = at::empty({4, 4}, at::kDouble);
  for (int i = 0; i < 16; ++i) t.data_ptr<double>()[i] = camera.c2w[static_cast<size_t>(i)];
  return t.to(at::kFloat);
}

Camera to_camera(const PreviewCamera& p) {
  Camera c{p.width, p.height, p.fx, p.fy, p.cx, p.cy, {}};  // the same intrinsics
  // OpenGL (y up, z back) -> OpenCV (y down, z forward): flip the camera's y and z axes.
  c.c2w = (c2w_tensor(p) * at::tensor({1.0f, -1.0f, -1.0f, 1.0f})).contiguous();
  return c;
}

PreviewCamera preview_camera(const Camera& c) {
  auto m = c.c2w.to(at::kCPU, at::kDouble).reshape({-1, 4}).clone();
  if (m.size(0) == 3) m = at::cat({m, at::tensor({0.0, 0.0, 0.0, 1.0}, at::kDouble).view({1, 4})});
  m = (m * at::tensor({1.0, -1.0, -1.0, 1.0}, at::kDouble)).contiguous();
  PreviewCamera p{c.width, c.height, c.fx, c.fy, c.cx, c.cy, {}};  // the same intrinsics
  for (int i = 0; i < 16; ++i) p.c2w[static_cast<size_t>(i)] = m.data_ptr<double>()[i];
  return p;
}

Camera pixel_subset(const Camera& cam, int stride, int x0, int y0) {
  if (stride == 1 && x0 == 0 && y0 == 0) return cam;
  Camera c = cam;
  c.width = std::max(1, (cam.width - x0 + stride - 1) / stride);
  c.height = std::max(1, (cam.height - y0 + stride - 1) / stride);
  c.fx = cam.fx / stride;
  c.fy = cam.fy / stride;
  c.cx = (cam.cx - x0) / stride;
  c.cy = (cam.cy - y0) / stride;
  return c;
}

at::Tensor pixel_subset(const at::Tensor& image, int stride, int x0, int y0) {
  if (stride == 1 && x0 == 0 && y0 == 0) return image;
  return image.slice(0, y0, image.size(0), stride).slice(1, x0, image.size(1), stride).contiguous();
}

void check_pixel_subset(const PreviewRequest& r, const std::string& where) {
  if (r.stride < 1 || r.x0 < 0 || r.y0 < 0 || r.x0 >= r.stride || r.y0 >= r.stride)
    throw std::runtime_error(where + ": preview pixel subset needs stride >= 1 and 0 <= x0, y0 < stride (got stride " +
                             std::to_string(r.stride) + ", x0 " + std::to_string(r.x0) + ", y0 " + std::to_string(r.y0) + ")");
}

}  // namespace nf
