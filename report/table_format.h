#pragma once
// Small helpers shared by the result tables (report/nerf_table.cpp, report/scene_table.cpp, report/sweep_table.cpp).
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace nf::table {

// Mean of the finite entries (NaN marks "not run"); NaN when there are none.
inline double mean_finite(const std::vector<double>& v) {
  double s = 0;
  int n = 0;
  for (double x : v)
    if (std::isfinite(x)) s += x, ++n;
  return n ? s / n : std::nan("");
}

// "%.<prec>f" (with a sign when asked), or "–" for NaN.
inline std::string fmt(double v, int prec, bool sign = false) {
  if (std::isnan(v)) return "–";
  char b[32];
  std::snprintf(b, sizeof b, sign ? "%+.*f" : "%.*f", prec, v);
  return b;
}

}  // namespace nf::table
