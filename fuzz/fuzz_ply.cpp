// libFuzzer entry for fuzz/harness_ply.h (the corpus replay test calls the same function).
#include "fuzz/harness_ply.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::ply, nf_fuzz::ply_name, data, size);
}
