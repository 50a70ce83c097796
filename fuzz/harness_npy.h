#pragma once
// Fuzz harness: .npy volumes through nf::load_mri (load_npy + the conversion to [0, 1]; errors name
// in.npy).
#include "datasets/mri_data.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* npy_name = "in.npy";
inline void npy(const uint8_t* data, size_t size) {
  auto v = nf::load_mri(write_input(data, size, npy_name));
  (void)v.sum().item<double>();
}
}  // namespace nf_fuzz
