// libFuzzer entry for fuzz/harness_image.h (the corpus replay test calls the same function).
#include "fuzz/harness_image.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::image, nf_fuzz::image_name, data, size);
}
