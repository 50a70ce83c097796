#pragma once
// Fuzz harness: PLY meshes (ascii, binary little/big endian) through nf::load_mesh and
// nf::normalize_to_cube (errors name in.ply).
#include "datasets/mesh_io.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* ply_name = "in.ply";
inline void ply(const uint8_t* data, size_t size) {
  auto m = nf::load_mesh(write_input(data, size, ply_name));
  (void)nf::normalize_to_cube(m, 0.1);
}
}  // namespace nf_fuzz
