#include "report/plot.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "datasets/image_io.h"

namespace nf {
namespace fs = std::filesystem;
namespace {

std::string quote_sh(const std::string& s) {  // single-quoted for /bin/sh
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string quote_gp(const std::string& s) {  // double-quoted gnuplot string
  std::string q = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') q += '\\';
    q += c;
  }
  return q + "\"";
}

std::ofstream open_out(const fs::path& p) {
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream f(p);
  if (!f) throw std::runtime_error(p.string() + ": cannot open for writing");
  f << std::setprecision(9);
  return f;
}

void layout(size_t n, int columns, int& rows, int& cols) {
  cols = columns > 0 ? columns : static_cast<int>(std::min<size_t>(n, 5));
  cols = std::max(cols, 1);
  rows = static_cast<int>((n + cols - 1) / cols);
}

bool run_gnuplot(const fs::path& gp, const fs::path& png) {
  const fs::path log = fs::path(gp).replace_extension(".log");
  const std::string cmd = "gnuplot " + quote_sh(gp.string()) + " > " + quote_sh(log.string()) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  if (rc != 0 || !fs::exists(png)) {
    std::cerr << "note: gnuplot failed on " << gp.string() << " (see " << log.string() << ")\n";
    return false;
  }
  fs::remove(log);
  return true;
}

// viridis-like ramp, t in [0, 1]
void ramp(double t, float rgb[3]) {
  static const double stops[5][3] = {{0.267, 0.005, 0.329}, {0.229, 0.322, 0.546}, {0.128, 0.567, 0.551},
                                     {0.369, 0.789, 0.383}, {0.993, 0.906, 0.144}};
  t = std::clamp(t, 0.0, 1.0) * 4;
  const int i = std::min(static_cast<int>(t), 3);
  const double f = t - i;
  for (int c = 0; c < 3; ++c) rgb[c] = static_cast<float>(stops[i][c] * (1 - f) + stops[i + 1][c] * f);
}

// A round tick step (1, 2 or 5 x 10^k) giving about `ticks` ticks over `range`.
double nice_step(double range, int ticks) {
  if (!(range > 0)) return 1;
  const double raw = range / ticks, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * p >= raw) return m * p;
  return 10 * p;
}

const char* kPalette =
    "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21918c', 3 '#5ec962', 4 '#fde725')\n";

}  // namespace

bool gnuplot_available() {
  static const bool ok = [] {
    const char* off = std::getenv("NORMFIELD_NO_GNUPLOT");
    if (off && std::string(off) == "1") return false;
    return std::system("gnuplot --version > /dev/null 2>&1") == 0;
  }();
  return ok;
}

void write_csv(const fs::path& path, const std::vector<std::string>& header,
               const std::vector<std::vector<double>>& rows) {
  auto f = open_out(path);
  for (size_t i = 0; i < header.size(); ++i) f << (i ? "," : "") << header[i];
  f << "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) f << (i ? "," : "") << r[i];
    f << "\n";
  }
  if (!f) throw std::runtime_error(path.string() + ": write failed");
}

bool plot_histograms(const fs::path& png, const std::vector<HistogramSeries>& series, const HistogramOptions& o) {
  if (series.empty() || o.bins < 1 || !(o.hi > o.lo))
    throw std::runtime_error("report/plot.cpp: plot_histograms needs series, bins >= 1 and hi > lo");
  const fs::path dat = fs::path(png).replace_extension(".dat"), gp = fs::path(png).replace_extension(".gp");
  const double w = (o.hi - o.lo) / o.bins;
  std::vector<std::vector<int64_t>> counts(series.size(), std::vector<int64_t>(o.bins, 0));
  for (size_t s = 0; s < series.size(); ++s)
    for (double v : series[s].values) {
      if (!std::isfinite(v)) v = o.lo;
      counts[s][std::clamp<int64_t>(static_cast<int64_t>(std::floor((v - o.lo) / w)), 0, o.bins - 1)]++;
    }
  {
    auto f = open_out(dat);
    f << "# bin_centre";
    for (const auto& s : series) f << " " << quote_gp(s.label);
    f << "\n";
    for (int b = 0; b < o.bins; ++b) {
      f << o.lo + (b + 0.5) * w;
      for (const auto& c : counts) f << " " << c[b];
      f << "\n";
    }
  }
  if (!gnuplot_available()) {
    std::cerr << "note: gnuplot not found, wrote " << dat.string() << " only (no " << png.filename().string()
              << ")\n";
    return false;
  }
  int rows, cols;
  layout(series.size(), o.columns, rows, cols);
  int64_t ymax = 1;
  for (const auto& c : counts) ymax = std::max(ymax, *std::max_element(c.begin(), c.end()));
  {
    auto f = open_out(gp);
    f << "set terminal pngcairo size " << cols * o.panel_width << "," << rows * o.panel_height + 30
      << " font 'sans,9' noenhanced\n";
    f << "set output " << quote_gp(png.string()) << "\n";
    f << "set style fill solid 0.7 noborder\nset boxwidth " << w * 0.9 << "\n";
    f << "set xrange [" << o.lo << ":" << o.hi << "]\nset yrange [0:" << ymax * 1.1 << "]\n";
    f << "set xlabel " << quote_gp(o.xlabel) << "\nset ylabel " << quote_gp(o.ylabel) << "\n";
    f << "set grid xtics\nunset key\n";
    f << "set multiplot layout " << rows << "," << cols << " title " << quote_gp(o.title) << "\n";
    for (size_t s = 0; s < series.size(); ++s) {
      f << "set title " << quote_gp(series[s].label) << "\n";
      f << "plot " << quote_gp(dat.string()) << " using 1:" << s + 2 << " with boxes lc rgb '#3b528b'\n";
    }
    f << "unset multiplot\n";
  }
  return run_gnuplot(gp, png);
}

bool plot_heatmaps(const fs::path& png, const std::vector<HeatmapPanel>& panels, const HeatmapOptions& o) {
  if (panels.empty()) throw std::runtime_error("report/plot.cpp: plot_heatmaps needs at least one panel");
  for (const auto& p : panels) {
    if (p.z.size() != p.y.size() || p.y.empty() || p.x.empty())
      throw std::runtime_error("report/plot.cpp: heat map '" + p.title + "': z must be [y.size()][x.size()]");
    for (const auto& r : p.z)
      if (r.size() != p.x.size())
        throw std::runtime_error("report/plot.cpp: heat map '" + p.title + "': z must be [y.size()][x.size()]");
  }
  const fs::path dat = fs::path(png).replace_extension(".dat"), gp = fs::path(png).replace_extension(".gp");
  {
    auto f = open_out(dat);
    for (size_t k = 0; k < panels.size(); ++k) {
      const auto& p = panels[k];
      f << "# panel " << k << ": " << p.title << " (x y z)\n";
      for (size_t c = 0; c < p.x.size(); ++c) {
        for (size_t r = 0; r < p.y.size(); ++r) {
          const double z = p.z[r][c];
          f << p.x[c] << " " << p.y[r] << " ";
          if (std::isfinite(z)) f << z; else f << "NaN";
          f << "\n";
        }
        f << "\n";
      }
      f << "\n";  // two blank lines: next gnuplot index
    }
  }
  int rows, cols;
  layout(panels.size(), o.columns, rows, cols);
  if (!gnuplot_available()) {
    // Axis-less fallback: each panel scaled to the panel size (nearest), side by side in a grid.
    const int pw = o.panel_width, ph = o.panel_height, gap = 4;
    auto img = at::ones({rows * (ph + gap), cols * (pw + gap), 3}, at::kFloat);
    auto acc = img.accessor<float, 3>();
    for (size_t k = 0; k < panels.size(); ++k) {
      const auto& p = panels[k];
      const int oy = static_cast<int>(k / cols) * (ph + gap), ox = static_cast<int>(k % cols) * (pw + gap);
      for (int y = 0; y < ph; ++y)
        for (int x = 0; x < pw; ++x) {
          const size_t r = p.y.size() - 1 - std::min<size_t>(p.y.size() - 1, static_cast<size_t>(y) * p.y.size() / ph);
          const size_t c = std::min<size_t>(p.x.size() - 1, static_cast<size_t>(x) * p.x.size() / pw);
          const double z = p.z[r][c];
          float rgb[3] = {1, 1, 1};
          if (std::isfinite(z)) ramp((z - o.zmin) / (o.zmax - o.zmin), rgb);
          for (int ch = 0; ch < 3; ++ch) acc[oy + y][ox + x][ch] = rgb[ch];
        }
    }
    write_png(png, img);
    std::cerr << "note: gnuplot not found, " << png.filename().string() << " written without axes (numbers in "
              << dat.filename().string() << ")\n";
    return true;
  }
  {
    auto f = open_out(gp);
    f << "set terminal pngcairo size " << cols * o.panel_width << "," << rows * o.panel_height + 30
      << " font 'sans,9' noenhanced\n";
    f << "set output " << quote_gp(png.string()) << "\n" << kPalette;
    f << "set cbrange [" << o.zmin << ":" << o.zmax << "]\nset rmargin 9\n";
    f << "set xlabel " << quote_gp(o.xlabel) << "\nset ylabel " << quote_gp(o.ylabel) << "\n";
    f << "unset key\nset tics out\n";
    f << "set multiplot layout " << rows << "," << cols << " title " << quote_gp(o.title) << "\n";
    for (size_t k = 0; k < panels.size(); ++k) {
      const auto& p = panels[k];
      const double dx = p.x.size() > 1 ? (p.x.back() - p.x.front()) / (p.x.size() - 1) : 1;
      const double dy = p.y.size() > 1 ? (p.y.back() - p.y.front()) / (p.y.size() - 1) : 1;
      f << "set title " << quote_gp(p.title) << "\n";
      // one colour bar label per row (at its last panel), so labels do not run into the next panel
      const bool row_end = static_cast<int>(k % cols) == cols - 1 || k + 1 == panels.size();
      f << "set cblabel " << (row_end ? quote_gp(o.cblabel) : std::string("\"\"")) << "\n";
      f << "set xtics " << nice_step(p.x.back() - p.x.front(), 3) << "\n";
      f << "set xrange [" << p.x.front() - dx / 2 << ":" << p.x.back() + dx / 2 << "]\n";
      f << "set yrange [" << p.y.front() - dy / 2 << ":" << p.y.back() + dy / 2 << "]\n";
      f << "plot " << quote_gp(dat.string()) << " index " << k << " using 1:2:(($3 < " << o.zmin << ") ? "
        << o.zmin << " : ($3 > " << o.zmax << ") ? " << o.zmax << " : $3) with image\n";
    }
    f << "unset multiplot\n";
  }
  return run_gnuplot(gp, png);
}

}  // namespace nf
