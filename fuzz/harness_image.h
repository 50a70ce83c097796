#pragma once
// Fuzz harness: PNG/JPEG (8/16-bit) through nf::load_image (errors name in.png).
#include "datasets/image_io.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* image_name = "in.png";
inline void image(const uint8_t* data, size_t size) {
  auto img = nf::load_image(write_input(data, size, image_name));
  (void)img.pixels.sum().item<double>();
}
}  // namespace nf_fuzz
