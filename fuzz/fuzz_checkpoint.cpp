// libFuzzer entry for fuzz/harness_checkpoint.h (the corpus replay test calls the same function).
#include "fuzz/harness_checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::checkpoint, nf_fuzz::checkpoint_name, data, size);
}
