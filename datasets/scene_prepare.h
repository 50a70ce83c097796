#pragma once
// Turning a full-size scene into the downscaled layout the docs use (normfield prepare-scene):
// Blender scenes (transforms_*.json + RGBA PNGs) now; DTU in NeuS's layout where the npz writer
// exists (datasets/npz.h).
#include <ATen/ATen.h>

#include <filesystem>
#include <string>

namespace nf {

struct PrepareReport {
  std::string kind;      // "blender"
  int64_t images = 0;    // images written
  int64_t in_w = 0, in_h = 0, out_w = 0, out_h = 0;
};

// Blender scene in_dir -> out_dir with every image of transforms_{train,val,test}.json (those that
// exist) box-downscaled by `downscale` (8-bit PNG, channels kept), the JSON files copied unchanged
// (camera_angle_x does not depend on the resolution). Other files are not copied. Throws one line
// naming the file: no transforms file, an image whose size downscale does not divide, out_dir
// equal to in_dir.
PrepareReport prepare_blender_scene(const std::filesystem::path& in_dir, const std::filesystem::path& out_dir,
                                    int downscale);

}  // namespace nf
