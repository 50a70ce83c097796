#pragma once
// Turning a full-size scene into the downscaled layout the docs use (normfield prepare-scene):
// Blender scenes (transforms_*.json + RGBA PNGs) and DTU scenes in NeuS's layout (image/, mask/,
// cameras_sphere.npz).
#include <ATen/ATen.h>

#include <filesystem>
#include <string>

namespace nf {

struct PrepareReport {
  std::string kind;      // "blender" or "dtu"
  int64_t images = 0;    // images written
  int64_t masks = 0;     // masks written (DTU)
  int64_t in_w = 0, in_h = 0, out_w = 0, out_h = 0;
};

// Blender scene in_dir -> out_dir with every image of transforms_{train,val,test}.json (those that
// exist) box-downscaled by `downscale` (8-bit PNG, channels kept), the JSON files copied unchanged
// (camera_angle_x does not depend on the resolution). Other files are not copied. Throws one line
// naming the file: no transforms file, an image whose size downscale does not divide, out_dir
// equal to in_dir.
PrepareReport prepare_blender_scene(const std::filesystem::path& in_dir, const std::filesystem::path& out_dir,
                                    int downscale);

// DTU scene (NeuS layout) in_dir -> out_dir such that load_dtu(out_dir) equals
// load_dtu(in_dir, {downscale}) up to 8-bit rounding: image/* and mask/* (sorted, .png/.jpg) are
// box-averaged (alpha, which load_dtu ignores, is dropped) and written as 8-bit PNGs with the same
// stem and a .png extension; in cameras_sphere.npz every world_mat_i becomes S @ world_mat_i with
// S = [[1/d, 0, -(d-1)/(2d)], [0, 1/d, -(d-1)/(2d)], [0, 0, 1]] (load_dtu's pixel-centre mapping;
// c2w unchanged) and world_mat_inv_i its inverse; camera_mat_i (IDR's pixel -> [-1, 1] map,
// diag(2/W, 2/H) with -1 offsets) is rewritten for the new size, camera_mat @ diag(d, d, 1, 1), and
// camera_mat_inv_i = diag(1/d, 1/d, 1, 1) @ camera_mat_inv_i; all other members are copied
// unchanged, dtypes kept. Other files are not copied. Throws one line naming the file (and key):
// missing npz / image folder, missing world_mat_i, image / camera / mask count mismatch, a matrix
// that is not 3x4 or 4x4 floats, an image whose size downscale does not divide, out_dir == in_dir.
PrepareReport prepare_dtu_scene(const std::filesystem::path& in_dir, const std::filesystem::path& out_dir,
                                int downscale);

}  // namespace nf
