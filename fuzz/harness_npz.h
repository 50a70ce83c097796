#pragma once
// Fuzz harness: DTU cameras (cameras_sphere.npz: a zip of .npy members) through both .npz readers
// and nf::load_dtu. The input is written as dtu/cameras_sphere.npz next to two fixed, valid 4x4
// images (dtu/image/, dtu/mask/), so every refusal comes from the npz or its matrices and must name
// cameras_sphere.npz. The built-in zip reader (used where libzip is missing) runs first; a good
// refusal there is fine and the libzip path (load_dtu) runs next. A scene that loads must have
// finite intrinsics and poses (a bad matrix must not become a plausible camera).
#include <ATen/ATen.h>

#include "datasets/dtu.h"
#include "datasets/image_io.h"
#include "datasets/npz.h"
#include "fuzz/fuzz_util.h"

namespace nf_fuzz {
inline constexpr const char* npz_name = "cameras_sphere.npz";
inline void npz(const uint8_t* data, size_t size) {
  static const std::filesystem::path dir = [] {
    const auto d = scratch() / "dtu";
    for (int i = 0; i < 2; ++i) {
      const std::string file = "00000" + std::to_string(i) + ".png";
      nf::write_png(d / "image" / file, at::full({4, 4, 3}, 0.25 * (i + 1), at::kFloat));
      nf::write_png(d / "mask" / file, at::ones({4, 4, 1}, at::kFloat));
    }
    return d;
  }();
  const auto path = write_input(data, size, std::string("dtu/") + npz_name);
  try {
    (void)nf::load_npz_builtin(path);
  } catch (const std::exception& e) {
    if (!bad_error(e, npz_name).empty()) throw;
  }
  const nf::DtuScene s = nf::load_dtu(dir);
  if (!at::isfinite(s.intrinsics).all().item<bool>() || !at::isfinite(s.c2w).all().item<bool>())
    throw std::logic_error("load_dtu accepted cameras with non-finite intrinsics or poses");
}
}  // namespace nf_fuzz
