#include "app/viewer/plot_curves.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>

namespace nf::viewer {

std::vector<std::pair<double, float>> curve_points(const Snapshot& s, const std::vector<float>& y) {
  std::vector<std::pair<double, float>> xy;
  for (size_t i = 0; i < y.size(); ++i) {
    const double step = std::min<double>(
        static_cast<double>(s.curve_first_step + static_cast<int64_t>(i + 1) * s.curve_stride),
        static_cast<double>(s.step));
    xy.emplace_back(step, y[i]);
  }
  return xy;
}

void plot_curves(const char* title, const std::vector<Series>& series, bool log_y, ImVec2 size) {
  ImGui::PushID(title);
  const ImVec2 p0 = ImGui::GetCursorScreenPos();
  ImGui::InvisibleButton("plot", ImVec2(std::max(size.x, 32.0f), std::max(size.y, 32.0f)));
  const bool hovered = ImGui::IsItemHovered();
  const ImVec2 p1(p0.x + size.x, p0.y + size.y);
  ImDrawList* dl = ImGui::GetWindowDrawList();
  dl->AddRectFilled(p0, p1, ImGui::GetColorU32(ImGuiCol_FrameBg), 3.0f);
  auto tr = [&](float v) { return log_y ? std::log10(std::max(v, 1e-12f)) : v; };
  float ymin = FLT_MAX, ymax = -FLT_MAX;
  double xmin = DBL_MAX, xmax = -DBL_MAX;
  for (const auto& s : series) {
    for (const auto& [x, v] : s.xy) {
      if (!std::isfinite(v)) continue;
      xmin = std::min(xmin, x);
      xmax = std::max(xmax, x);
      ymin = std::min(ymin, tr(v));
      ymax = std::max(ymax, tr(v));
    }
  }
  const float line = ImGui::GetTextLineHeight();
  const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text), dim_col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
  dl->AddText(ImVec2(p0.x + 6, p0.y + 3), text_col, title);
  if (ymin > ymax) {
    dl->AddText(ImVec2(p0.x + 6, p0.y + 3 + line), dim_col, "no steps yet");
    ImGui::PopID();
    return;
  }
  if (xmax <= xmin) xmax = xmin + 1;
  if (ymax - ymin < 1e-6f) {
    ymax += 0.5f;
    ymin -= 0.5f;
  }
  const float pad = (ymax - ymin) * 0.06f;
  ymin -= pad;
  ymax += pad;
  const ImVec2 in0(p0.x + 8, p0.y + line + 6), in1(p1.x - 8, p1.y - line - 4);
  auto X = [&](double step) { return in0.x + static_cast<float>((step - xmin) / (xmax - xmin)) * (in1.x - in0.x); };
  auto Y = [&](float v) { return in1.y - (v - ymin) / (ymax - ymin) * (in1.y - in0.y); };
  dl->AddLine(ImVec2(in0.x, in1.y), ImVec2(in1.x, in1.y), dim_col);
  char buf[64];
  auto fmt_y = [&](float v) {
    if (log_y)
      std::snprintf(buf, sizeof buf, "%.2g", std::pow(10.0, static_cast<double>(v)));
    else
      std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(v));
    return buf;
  };
  dl->AddText(ImVec2(in0.x, in0.y), dim_col, fmt_y(ymax - pad));
  dl->AddText(ImVec2(in0.x, in1.y - line), dim_col, fmt_y(ymin + pad));
  std::snprintf(buf, sizeof buf, "step %.0f", xmax);
  dl->AddText(ImVec2(in1.x - ImGui::CalcTextSize(buf).x, in1.y + 2), dim_col, buf);
  std::snprintf(buf, sizeof buf, "%.0f", xmin);
  dl->AddText(ImVec2(in0.x, in1.y + 2), dim_col, buf);
  float lx = p1.x - 6;  // legend (top right, right of the title or on the line below it)
  float legend_w = 0;
  for (const auto& s : series) legend_w += ImGui::CalcTextSize(s.name.c_str()).x + 12;
  const float ly = p0.x + 12 + ImGui::CalcTextSize(title).x + legend_w < p1.x ? p0.y + 3 : p0.y + 3 + line;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    lx -= ImGui::CalcTextSize(it->name.c_str()).x;
    dl->AddText(ImVec2(lx, ly), it->color, it->name.c_str());
    lx -= 12;
  }
  dl->PushClipRect(in0, ImVec2(in1.x + 1, in1.y + 1), true);
  std::vector<ImVec2> pts;
  for (const auto& s : series) {
    pts.clear();
    for (const auto& [x, v] : s.xy)
      if (std::isfinite(v)) pts.emplace_back(X(x), Y(tr(v)));
    if (pts.size() == 1) pts.push_back(ImVec2(pts[0].x + 1, pts[0].y));
    if (!pts.empty()) dl->AddPolyline(pts.data(), static_cast<int>(pts.size()), s.color, ImDrawFlags_None, 1.5f);
  }
  dl->PopClipRect();
  if (hovered) {
    const float mx = ImGui::GetIO().MousePos.x;
    const double step = xmin + (xmax - xmin) * std::clamp((mx - in0.x) / (in1.x - in0.x), 0.0f, 1.0f);
    dl->AddLine(ImVec2(mx, in0.y), ImVec2(mx, in1.y), dim_col);
    ImGui::BeginTooltip();
    ImGui::Text("step %.0f", step);
    for (const auto& s : series) {
      if (s.xy.empty()) continue;
      auto it = std::lower_bound(s.xy.begin(), s.xy.end(), step,
                                 [](const std::pair<double, float>& p, double x) { return p.first < x; });
      if (it == s.xy.end()) --it;
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.color), "%s: %.4g", s.name.c_str(),
                         static_cast<double>(it->second));
    }
    ImGui::EndTooltip();
  }
  ImGui::PopID();
}

}  // namespace nf::viewer
