#pragma once
// Line plots of training curves for normfield-viewer (ImGui draw lists): several runs on shared axes,
// x the training step, a hover tooltip with each run's value at the step under the mouse.
#include <imgui.h>

#include <string>
#include <utility>
#include <vector>

#include "app/viewer/training_run.h"

namespace nf::viewer {

struct Series {
  std::vector<std::pair<double, float>> xy;  // (step, value), steps increasing
  ImU32 color;
  std::string name;
};

// A snapshot's strided curve (loss_curve, psnr_curve) as (step, value) points.
std::vector<std::pair<double, float>> curve_points(const Snapshot& s, const std::vector<float>& y);

// log_y plots log10 of the values.
void plot_curves(const char* title, const std::vector<Series>& series, bool log_y, ImVec2 size);

}  // namespace nf::viewer
