#include "report/plot_lines.h"

#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>


namespace nf {
namespace {
bool have_gnuplot() {
  static const bool ok = !std::getenv("NORMFIELD_NO_GNUPLOT") && std::system("gnuplot --version > /dev/null 2>&1") == 0;
  return ok;
}
}  // namespace

bool plot_lines(const std::filesystem::path& png, const std::vector<LineSeries>& series, const LineOptions& o) {
  namespace fs = std::filesystem;
  if (png.has_parent_path()) fs::create_directories(png.parent_path());
  const fs::path dat = fs::path(png).replace_extension(".dat");
  const fs::path gp = fs::path(png).replace_extension(".gp");
  {
    std::ofstream d(dat);
    d << std::setprecision(9);
    for (const auto& s : series) {  // one gnuplot data block per series
      d << "# " << s.label << "\n";
      for (size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) d << s.x[i] << " " << s.y[i] << "\n";
      d << "\n\n";
    }
  }
  if (!have_gnuplot()) {
    std::cerr << "note: gnuplot not found; wrote " << dat.string() << " only\n";
    return false;
  }
  {
    std::ofstream g(gp);
    g << "set terminal pngcairo size " << o.width << "," << o.height << " font 'sans,10' noenhanced\n";
    g << "set output '" << png.string() << "'\n";
    g << "set title \"" << o.title << "\"\nset xlabel \"" << o.xlabel << "\"\nset ylabel \"" << o.ylabel << "\"\n";
    g << "set grid\nset key outside right\n";
    if (o.logx) g << "set logscale x\n";
    g << "plot ";
    for (size_t i = 0; i < series.size(); ++i) {
      g << (i ? ", " : "") << "'" << dat.string() << "' index " << i << " with " << (o.points ? "linespoints" : "lines")
        << " lw 2 title \"" << series[i].label << "\"";
    }
    g << "\n";
  }
  const std::string cmd = "gnuplot '" + gp.string() + "' > /dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0 || !fs::exists(png)) {
    std::cerr << "note: gnuplot failed on " << gp.string() << "\n";
    return false;
  }
  return true;
}

}  // namespace nf
