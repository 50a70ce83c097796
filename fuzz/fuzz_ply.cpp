// libFuzzer entry for nf_fuzz::ply (fuzz/harness_mesh.h) (the corpus replay test calls the same function).
#include "fuzz/harness_mesh.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::ply, nf_fuzz::ply_name, data, size);
}
