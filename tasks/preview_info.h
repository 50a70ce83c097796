#pragma once
// The plain (torch-free) half of the viewer hook (tasks/preview.h): cameras and what a task's
// previews offer. The viewer's GL/ImGui code includes only this.
#include <array>
#include <string>
#include <vector>

namespace nf {

// A pinhole camera for previews: the plain (torch-free) twin of nf::Camera (render/camera.h), with its
// intrinsics conventions: width x height pixels, focal lengths fx, fy and principal point cx, cy in
// pixels, pixel centres at integer coordinates (a centred camera has cx = W/2 - 0.5). The pose c2w is
// row-major 4x4 camera-to-world with OpenGL axes (x right, y up, looking down -z), as the viewer's orbit
// camera and Blender's transforms_*.json make it. to_camera / preview_camera (tasks/preview.h) convert
// to and from nf::Camera (OpenCV axes); the viewer's GL code cannot hold nf::Camera (a torch tensor).
struct PreviewCamera {
  int width = 0, height = 0;
  double fx = 0, fy = 0, cx = 0, cy = 0;
  std::array<double, 16> c2w{};
  // Square pixels, principal point at the image centre (a Blender/NeRF camera).
  static PreviewCamera centred(int width, int height, double focal, const std::array<double, 16>& c2w) {
    PreviewCamera c;
    c.width = width;
    c.height = height;
    c.fx = c.fy = focal;
    c.cx = 0.5 * width - 0.5;
    c.cy = 0.5 * height - 0.5;
    c.c2w = c2w;
    return c;
  }
};

// A dataset camera (for "snap to camera" and frustums).
struct PreviewCameraInfo {
  std::string name;  // e.g. "train/r_3"
  PreviewCamera camera;
};

// What a task offers to a viewer.
struct PreviewInfo {
  bool has_camera = false;            // previews render from a free camera (nerf)
  std::vector<PreviewCameraInfo> cameras;  // dataset cameras (full resolution)
  std::array<double, 3> orbit_target{0, 0, 0};
  std::array<double, 3> up{0, 0, 1};  // world up of the orbit (Blender: +z; DTU-style scenes: the cameras')
  double orbit_radius = 4.0, orbit_elevation_deg = 30.0;  // a good starting view
  double near = 0, far = 0;          // scene depth range (depth view)
  std::string heldout;               // the held-out view heldout_psnr is measured on ("" : none)
  // Render modes (names of the preview's images) a viewer offers for the free camera; "error" needs a
  // dataset camera. Empty: rgb, depth, acc, error.
  std::vector<std::string> modes;
};

}  // namespace nf
