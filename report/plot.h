#pragma once
// Small plotting helper for analysis figures (NTK eigenvalue histograms, frequency x iteration
// error maps). Uses gnuplot (optional runtime tool, Debian gnuplot-nox) through std::system: each
// figure writes <name>.dat (the numbers) and <name>.gp (the script) next to <name>.png and runs
// `gnuplot <name>.gp`. Without gnuplot only the .dat is written (heat maps also get an axis-less PNG
// through nf::write_png) and a one-line note goes to stderr. Knows nothing of fields.
#include <filesystem>
#include <string>
#include <vector>

namespace nf {

// True when `gnuplot --version` runs (checked once). NORMFIELD_NO_GNUPLOT=1 forces false.
bool gnuplot_available();

struct HistogramSeries {
  std::string label;           // panel title
  std::vector<double> values;  // samples (e.g. log10 eigenvalues)
};

struct HistogramOptions {
  std::string title;                         // figure title
  std::string xlabel = "log10(eigenvalue)";
  std::string ylabel = "count";
  double lo = -8, hi = 6;                    // x range; samples outside go to the end bins
  int bins = 56;
  int columns = 0;                           // panels per row (0: up to 5)
  int panel_width = 300, panel_height = 240;  // pixels
};

// One histogram panel per series, shared x range. .dat columns: bin centre, then one count column
// per series. Returns true when the PNG was written.
bool plot_histograms(const std::filesystem::path& png, const std::vector<HistogramSeries>& series,
                     const HistogramOptions& options);

struct HeatmapPanel {
  std::string title;
  std::vector<double> x;               // [cols] column coordinates (e.g. iterations), evenly spaced
  std::vector<double> y;               // [rows] row coordinates (e.g. band centres), evenly spaced
  std::vector<std::vector<double>> z;  // [rows][cols]; NaN = no data
};

struct HeatmapOptions {
  std::string title;
  std::string xlabel = "iteration";
  std::string ylabel = "frequency (fraction of Nyquist)";
  std::string cblabel = "relative error";
  double zmin = 0, zmax = 1;  // colour range (values are clamped)
  int columns = 0;            // panels per row (0: up to 5)
  int panel_width = 300, panel_height = 260;
};

// One heat map panel per entry, x to the right, y upwards. Returns true when the PNG was written
// (by gnuplot, or axis-less by nf::write_png when gnuplot is missing).
bool plot_heatmaps(const std::filesystem::path& png, const std::vector<HeatmapPanel>& panels,
                   const HeatmapOptions& options);
inline bool plot_heatmap(const std::filesystem::path& png, const HeatmapPanel& panel, const HeatmapOptions& options) {
  return plot_heatmaps(png, {panel}, options);
}

// Writes rows of numbers as CSV with a header line (creates parent folders).
void write_csv(const std::filesystem::path& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows);

}  // namespace nf
