// libFuzzer harness: .npy volumes through nf::load_mri (load_npy + the conversion to [0, 1]).
#include <stdexcept>

#include "datasets/mri_data.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = nf_fuzz::write_input(data, size, "in.npy");
  try {
    auto v = nf::load_mri(path);
    (void)v.sum().item<double>();
  } catch (const std::exception&) {
  }
  return 0;
}
