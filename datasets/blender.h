#pragma once
// Blender synthetic NeRF scenes (nerf_synthetic): transforms_{train,val,test}.json + RGBA PNGs.
//
// transforms_<split>.json: {"camera_angle_x": fov_x, "frames": [{"file_path": "./train/r_0",
// "transform_matrix": [[4 x 4]]}, ...]}. file_path is relative to the scene folder, usually without
// extension (".png" is appended unless present). transform_matrix is camera-to-world, OpenGL axes
// (as generate_rays expects). focal = 0.5 W / tan(0.5 camera_angle_x).
#include <ATen/ATen.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nf {

struct BlenderOptions {
  bool white_bkgd = true;  // composite RGBA over white (else black)
  int downscale = 1;       // integer factor, area average of d x d blocks (must divide H and W)
  int max_frames = -1;     // keep only the first max_frames frames (after skip); -1 = all
  int skip = 1;            // keep every skip-th frame (NeRF's testskip)
};

struct BlenderSplit {
  at::Tensor images;  // [F, H, W, 3] float32 in [0, 1], composited over the background
  at::Tensor poses;   // [F, 4, 4] float32 camera-to-world (OpenGL axes)
  double focal = 0;   // pixels, for the (downscaled) H x W
  int H = 0, W = 0;
  double near = 2.0, far = 6.0;
  std::vector<std::string> files;  // [F] image paths, as loaded
};

// Loads one split ("train", "val" or "test") of a scene folder. Throws std::runtime_error with one
// line naming the file (and frame): missing transforms file, malformed JSON, missing or ill-typed
// keys ("<dir>/transforms_train.json: frame 3: missing key 'transform_matrix'"), missing image
// ("<dir>/train/r_3.png: no such file (frame 3)"), undecodable image, images of different sizes,
// a downscale that does not divide the image size.
// Throws "<where>: ..." unless the camera-to-world matrix m (row-major, 12 or 16 floats) is finite
// and its rotation part orthonormal within 1e-2 (an all-zero or scaled matrix renders nothing
// and training "diverges" with a NaN loss instead).
void check_pose(const float* m, size_t n, const std::string& where);

BlenderSplit load_blender(const std::filesystem::path& scene_dir, const std::string& split,
                          const BlenderOptions& opt = {});

}  // namespace nf
