// libFuzzer harness: PLY meshes (ascii, binary little/big endian) through nf::load_mesh.
#include <stdexcept>

#include "datasets/mesh_io.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = nf_fuzz::write_input(data, size, "in.ply");
  try {
    auto m = nf::load_mesh(path);
    (void)nf::normalize_to_cube(m, 0.1);
  } catch (const std::exception&) {
  }
  return 0;
}
