#pragma once
// Fuzz harnesses: mesh files through nf::load_mesh and nf::normalize_to_cube. The input's name picks
// the reader: in.obj (tinyobjloader + the finite-vertex scan), in.ply (ascii, binary little/big
// endian); errors name that file.
#include "datasets/mesh_io.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* obj_name = "in.obj";
inline constexpr const char* ply_name = "in.ply";
inline void mesh(const uint8_t* data, size_t size, const char* name) {
  auto m = nf::load_mesh(write_input(data, size, name));
  (void)nf::normalize_to_cube(m, 0.1);
}
inline void obj(const uint8_t* data, size_t size) { mesh(data, size, obj_name); }
inline void ply(const uint8_t* data, size_t size) { mesh(data, size, ply_name); }
}  // namespace nf_fuzz
