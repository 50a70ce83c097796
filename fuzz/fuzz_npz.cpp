// libFuzzer entry for fuzz/harness_npz.h (the corpus replay test calls the same function).
#include "fuzz/harness_npz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::npz, nf_fuzz::npz_name, data, size);
}
