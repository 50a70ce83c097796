// libFuzzer entry for fuzz/harness_config.h (the corpus replay test calls the same function).
#include "fuzz/harness_config.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  return nf_fuzz::fuzz_one(nf_fuzz::config, nf_fuzz::config_name, data, size);
}
