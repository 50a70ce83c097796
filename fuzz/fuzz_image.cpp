// libFuzzer harness: PNG/JPEG (8/16-bit) through nf::load_image.
#include <stdexcept>

#include "datasets/image_io.h"
#include "fuzz/fuzz_util.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const auto path = nf_fuzz::write_input(data, size, "in.png");
  try {
    auto img = nf::load_image(path);
    (void)img.pixels.sum().item<double>();
  } catch (const std::exception&) {
  }
  return 0;
}
