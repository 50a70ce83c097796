#pragma once
// Camera rays for volume rendering (NeRF / mip-NeRF conventions).
//
// The general pinhole camera (fx, fy, cx, cy, OpenCV axes) is nf::Camera in render/camera.h, with
// generate_rays(const Camera&, near, far). The overload here is the Blender/NeRF special case: OpenGL
// axes (x right, y up, camera looks down -z), one focal, the principal point at the image centre; a
// pixel (i, j) (column i, row j) is sampled at its centre (i + 0.5, j + 0.5) in edge coordinates, as
// in mip-NeRF. Directions are NOT normalised: a point at parameter t along the ray has camera depth
// t. Rays are stored row-major: ray index = j * W + i.
#include <ATen/ATen.h>

#include <cstdint>
#include <vector>

namespace nf {

struct Rays {
  at::Tensor origins;     // [N, 3]
  at::Tensor directions;  // [N, 3] not normalised (unit camera depth per unit t)
  at::Tensor viewdirs;    // [N, 3] unit directions
  at::Tensor radii;       // [N, 1] mip-NeRF base cone radius: dx * 2 / sqrt(12), dx = distance
                          //        between the directions of vertically neighbouring pixels
  at::Tensor near;        // [N, 1]
  at::Tensor far;         // [N, 1]

  int64_t size() const { return origins.defined() ? origins.size(0) : 0; }
  // Rays [begin, end) (views, no copy).
  Rays slice(int64_t begin, int64_t end) const;
  // Rays at idx: [M] int64 indices (copies).
  Rays index(const at::Tensor& idx) const;
  // All fields moved to a device (and/or dtype for the floating fields).
  Rays to(const at::TensorOptions& opt) const;
  // Concatenation of ray sets along dim 0.
  static Rays cat(const std::vector<Rays>& parts);
};

// Rays of every pixel of an H x W image.
// c2w: [3, 4] or [4, 4] camera-to-world, OpenGL axes. The result has c2w's device and floating
// dtype (float32 when c2w is not floating). focal in pixels; near/far fill Rays::near/far.
// = generate_rays(Camera::from_opengl(W, H, focal, c2w), near, far), the same rays bit for bit.
Rays generate_rays(int H, int W, double focal, const at::Tensor& c2w, double near, double far);

}  // namespace nf
