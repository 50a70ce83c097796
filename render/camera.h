#pragma once
// Pinhole cameras with full intrinsics, and the rays through their pixels.
//
// Conventions (one camera type for NeRF, NeuS and the viewer):
//  - Camera axes are OpenCV's: x right, y down, z forward (the camera looks down +z).
//  - Pixel (i, j) = (column, row) has its CENTRE at the integer image coordinate (i, j), so the
//    image spans [-0.5, W - 0.5] x [-0.5, H - 0.5]. A Blender/NeRF camera of focal f therefore has
//    cx = W / 2 - 0.5, cy = H / 2 - 0.5 (Camera::from_opengl sets this).
//  - K = [[fx, 0, cx], [0, fy, cy], [0, 0, 1]]; a camera-space point p projects to K p / p_z.
//  - c2w maps camera coordinates to world coordinates: x_world = R x_cam + o, c2w = [R o; 0 1].
//  - A ray through pixel (i, j) has direction d = R K^-1 [i, j, 1]^T, NOT normalised: its camera-z
//    component is 1, so the ray parameter t of a point o + t d is its camera depth (the NeRF
//    convention of render/rays.h).
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <string>

#include "render/rays.h"

namespace nf {

struct Camera {
  int width = 0, height = 0;       // pixels
  double fx = 0, fy = 0;           // focal lengths, pixels
  double cx = 0, cy = 0;           // principal point, pixels (pixel centres at integers)
  at::Tensor c2w;                  // [4, 4] camera-to-world, OpenCV axes; float32 unless built from
                                   //        a double pose (the rays take its dtype and device)

  at::Tensor K() const;            // [3, 3] float64 intrinsic matrix
  at::Tensor c2w_opengl() const;   // [4, 4] the same pose with OpenGL axes (y up, looking down -z)

  // A Blender/NeRF camera: focal f in pixels, c2w_opengl [3, 4] or [4, 4] with OpenGL axes
  // (y up, z backward): y and z axes are flipped, cx = W/2 - 0.5, cy = H/2 - 0.5.
  static Camera from_opengl(int width, int height, double focal, const at::Tensor& c2w_opengl);

  // The same camera at a resolution scaled by s (previews): width' = max(1, round(s W)) (likewise
  // height), focal lengths scaled by width'/W and height'/H, the principal point mapped so that the
  // image's edges stay where they are: cx' = (cx + 0.5) width'/W - 0.5.
  Camera scaled(double s) const;

  // Throws std::runtime_error "<where>: ..." (one line) unless width, height >= 1, fx, fy > 0 and
  // finite, cx, cy finite, c2w [4, 4] (or [3, 4]) finite.
  void validate(const std::string& where) const;

  // {"width", "height", "fx", "fy", "cx", "cy", "c2w": [[4 numbers] x 4]}.
  nlohmann::json to_json() const;
  // Inverse of to_json; errors name `where` and the key ("cam.json: missing key 'fx'").
  static Camera from_json(const nlohmann::json& j, const std::string& where);
};

// Rays of every pixel of the camera, row-major (ray index = j * width + i): origins = the camera
// centre, directions d = R K^-1 [i, j, 1]^T (camera depth t), unit viewdirs, mip-NeRF radii
// (dx * 2 / sqrt(12), dx = distance between the directions of vertically neighbouring pixels,
// = |R[:, 1]| / fy), near/far. dtype/device: those of cam.c2w (float32 for a non-floating c2w).
Rays generate_rays(const Camera& cam, double near, double far);

// Rays through given pixels (training batches): pix [M, 2] (column, row), integer or floating
// (sub-pixel positions allowed); otherwise as generate_rays(cam, ...). Radii use the analytic dx.
Rays generate_rays_at(const Camera& cam, const at::Tensor& pix, double near, double far);

}  // namespace nf
