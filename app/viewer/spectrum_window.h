#pragma once
// The taper the viewer applies before its error spectrum (declared for the tests; defined in
// training_run.cpp). Torch-side only: the GL/ImGui code does not include it.
#include <ATen/ATen.h>

namespace nf::viewer {

// Tukey window of n points, the outer alpha/2 of each side a raised-cosine taper. -> [n] float64
at::Tensor tukey_window(int64_t n, double alpha = 0.25);

}  // namespace nf::viewer
