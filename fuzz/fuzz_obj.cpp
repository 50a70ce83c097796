// libFuzzer harness: OBJ meshes through nf::load_mesh (tinyobjloader + the finite-vertex scan).
#include <stdexcept>

#include "datasets/mesh_io.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = nf_fuzz::write_input(data, size, "in.obj");
  try {
    auto m = nf::load_mesh(path);
    (void)nf::normalize_to_cube(m, 0.1);
  } catch (const std::exception&) {
  }
  return 0;
}
