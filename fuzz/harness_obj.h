#pragma once
// Fuzz harness: OBJ meshes through nf::load_mesh (tinyobjloader + the finite-vertex scan) and
// nf::normalize_to_cube (errors name in.obj).
#include "datasets/mesh_io.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* obj_name = "in.obj";
inline void obj(const uint8_t* data, size_t size) {
  auto m = nf::load_mesh(write_input(data, size, obj_name));
  (void)nf::normalize_to_cube(m, 0.1);
}
}  // namespace nf_fuzz
