#include "tasks/preview.h"

namespace nf {

at::Tensor c2w_tensor(const PreviewCamera& camera) {
  auto t = at::empty({4, 4}, at::kDouble);
  for (int i = 0; i < 16; ++i) t.data_ptr<double>()[i] = camera.c2w[static_cast<size_t>(i)];
  return t.to(at::kFloat);
}

Camera to_camera(const PreviewCamera& p) {
  Camera c;
  c.width = p.width;
  c.height = p.height;
  c.fx = p.fx;
  c.fy = p.fy;
  c.cx = p.cx;
  c.cy = p.cy;
  // OpenGL (y up, z back) -> OpenCV (y down, z forward): flip the camera's y and z axes.
  c.c2w = (c2w_tensor(p) * at::tensor({1.0f, -1.0f, -1.0f, 1.0f})).contiguous();
  return c;
}

PreviewCamera preview_camera(const Camera& c) {
  PreviewCamera p;
  p.width = c.width;
  p.height = c.height;
  p.fx = c.fx;
  p.fy = c.fy;
  p.cx = c.cx;
  p.cy = c.cy;
  auto m = c.c2w.to(at::kCPU, at::kDouble).reshape({-1, 4}).clone();
  if (m.size(0) == 3) m = at::cat({m, at::tensor({0.0, 0.0, 0.0, 1.0}, at::kDouble).view({1, 4})});
  m = (m * at::tensor({1.0, -1.0, -1.0, 1.0}, at::kDouble)).contiguous();
  for (int i = 0; i < 16; ++i) p.c2w[static_cast<size_t>(i)] = m.data_ptr<double>()[i];
  return p;
}

}  // namespace nf
