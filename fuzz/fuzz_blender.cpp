// libFuzzer entry for fuzz/harness_blender.h (the corpus replay test calls the same function).
#include "fuzz/harness_blender.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::blender, nf_fuzz::blender_name, data, size);
}
