#pragma once
// The plain (torch-free) half of the viewer hook (tasks/preview.h): cameras and what a task's
// previews offer. The viewer's GL/ImGui code includes only this.
#include <array>
#include <string>
#include <vector>

namespace nf {

// A pinhole camera for previews: width x height pixels, focal length in pixels (square pixels,
// principal point at the centre), camera-to-world c2w row-major 4x4 with OpenGL axes (x right,
// y up, looking down -z), as Blender's transforms_*.json store them.
struct PreviewCamera {
  int width = 0, height = 0;
  double focal = 0;
  std::array<double, 16> c2w{};
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
  double orbit_radius = 4.0, orbit_elevation_deg = 30.0;  // a good starting view
  double near = 0, far = 0;          // scene depth range (depth view)
  std::string heldout;               // the held-out view heldout_psnr is measured on ("" : none)
};

}  // namespace nf
