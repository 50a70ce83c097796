#pragma once
// Line/point plots through gnuplot (see report/plot.h for the conventions: .dat + .gp next to the
// PNG; without gnuplot only the .dat is written and a note printed).
#include <filesystem>
#include <string>
#include <vector>

namespace nf {

struct LineSeries {
  std::string label;
  std::vector<double> x, y;  // same length
};

struct LineOptions {
  std::string title, xlabel, ylabel;
  bool logx = false;
  bool points = true;  // draw markers as well as lines
  int width = 900, height = 600;
};

// Returns true when the PNG was written.
bool plot_lines(const std::filesystem::path& png, const std::vector<LineSeries>& series, const LineOptions& options);

}  // namespace nf
