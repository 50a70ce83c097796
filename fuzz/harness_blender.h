#pragma once
// Fuzz harness: Blender transforms_train.json (cameras, frames, poses) through nf::load_blender.
// The frames' images do not exist: the JSON is parsed and checked before any image is read, so
// every error names transforms_train.json.
#include "datasets/blender.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* blender_name = "transforms_train.json";
inline void blender(const uint8_t* data, size_t size) {
  write_input(data, size, std::string("scene/") + blender_name);
  (void)nf::load_blender(scratch() / "scene", "train");
}
}  // namespace nf_fuzz
