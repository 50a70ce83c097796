// libFuzzer entry for fuzz/harness_npy.h (the corpus replay test calls the same function).
#include "fuzz/harness_npy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::npy, nf_fuzz::npy_name, data, size);
}
