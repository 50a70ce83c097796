// The viewer's image area: the grid of preview images (tasks without a camera), the 3-D view with
// the free camera and training-camera frustums (tasks with one), the curves, the camera controls.
// clang-format off
#include "app/viewer/viewer_app.h"  // GLEW before GLFW
// clang-format on

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "app/viewer/plot_curves.h"
#include "app/viewer/viewer_common.h"

namespace nf::viewer {
namespace {

const char* caption_of(const ImageBuf& im) {
  if (im.name == "truth") return "ground truth";
  if (im.name == "spectrum") return "error spectrum";
  return im.name.c_str();
}

// Records an item's rectangle in framebuffer pixels under layout["panels"][key].
void record(nlohmann::json& layout, const std::string& key) {
  const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax(), fb = ImGui::GetIO().DisplayFramebufferScale;
  layout["panels"][key] = {std::lround(a.x * fb.x), std::lround(a.y * fb.y), std::lround((b.x - a.x) * fb.x),
                           std::lround((b.y - a.y) * fb.y)};
}

}  // namespace

void ViewerApp::draw_views() {
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float plots_h = std::max(110.0f * ImGui::GetFontSize() / 13.0f, avail.y * 0.28f);
  const float views_h = avail.y - plots_h - ImGui::GetStyle().ItemSpacing.y;
  if (has_camera()) {
    camera_input();
    draw_3d_views(views_h);
  } else {
    draw_grid_views(views_h);
  }
  draw_plots(std::max(60.0f, ImGui::GetContentRegionAvail().y));
}

void ViewerApp::draw_grid_views(float height) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const ImGuiIO& io = ImGui::GetIO();
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float avail_x = ImGui::GetContentRegionAvail().x;
  const auto rows = static_cast<float>(runs_.size());
  size_t cols = 1;
  float aspect = 1;
  for (auto& v : runs_) {
    cols = std::max(cols, v->snap.images.size());
    if (!v->snap.images.empty())
      aspect = static_cast<float>(v->snap.images[0].width) / static_cast<float>(std::max<int64_t>(1, v->snap.images[0].height));
  }
  const float fc = static_cast<float>(cols);
  const float box_w = (avail_x - (fc - 1) * st.ItemSpacing.x) / fc;
  const float box_h = (height - rows * (2 * line + st.ItemSpacing.y)) / rows;
  const float box = std::floor(std::max(16.0f, std::min(box_w, box_h)));
  const ImVec2 size = aspect >= 1 ? ImVec2(box, std::floor(box / aspect)) : ImVec2(std::floor(box * aspect), box);
  char caption[96];
  for (size_t i = 0; i < runs_.size(); ++i) {
    auto& v = *runs_[i];
    const auto& s = v.snap;
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kRunColors[i]), "%s  %s", kRunNames[i], s.label.c_str());
    ImGui::SameLine();
    ImGui::Text("  step %lld   PSNR %.2f dB   %.0f it/s%s", static_cast<long long>(s.step), s.psnr, s.wall_its,
                s.failed ? "   (stopped)" : (shown_paused(s) ? "   (paused)" : ""));
    for (size_t k = 0; k < s.images.size(); ++k) {
      const auto& im = s.images[k];
      if (im.kind == "error")
        std::snprintf(caption, sizeof caption, "|%s|  0..%.3g", im.name.c_str(), static_cast<double>(error_scale_));
      else if (im.kind == "db")
        std::snprintf(caption, sizeof caption, "%s  %.0f..%.0f dB", caption_of(im), static_cast<double>(spec_lo_),
                      static_cast<double>(spec_hi_));
      else
        std::snprintf(caption, sizeof caption, "%s", caption_of(im));
      ImGui::BeginGroup();
      ImGui::TextUnformatted(caption);
      const Texture* t = shown(v, im.name);
      const float a = static_cast<float>(im.width) / static_cast<float>(std::max<int64_t>(1, im.height));
      const ImVec2 sz = a >= 1 ? ImVec2(size.x, std::floor(size.x / a)) : ImVec2(std::floor(size.y * a), size.y);
      if (t && !t->empty())
        ImGui::Image(tex_id(*t), sz);
      else
        ImGui::Dummy(sz);
      record(layout_, std::string(kRunNames[i]) + "/" + im.name);
      const ImVec2 p0 = ImGui::GetItemRectMin(), p1 = ImGui::GetItemRectMax();
      ImGui::EndGroup();
      if (ImGui::IsItemHovered() && t) {
        const float u = (io.MousePos.x - p0.x) / (p1.x - p0.x), w = (io.MousePos.y - p0.y) / (p1.y - p0.y);
        ImGui::SetTooltip("%s  x %d  y %d", caption, static_cast<int>(u * static_cast<float>(im.width)),
                          static_cast<int>(w * static_cast<float>(im.height)));
      }
      if (k + 1 < s.images.size()) ImGui::SameLine();
    }
    if (s.images.empty()) ImGui::Dummy(size);
  }
}

void ViewerApp::draw_3d_views(float height) {
  const ImGuiStyle& st = ImGui::GetStyle();
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float n = static_cast<float>(runs_.size());
  const float w = (ImGui::GetContentRegionAvail().x - (n - 1) * st.ItemSpacing.x) / n;
  const float h = height - line - st.ItemSpacing.y;
  const float aspect = static_cast<float>(camera_.width()) / static_cast<float>(std::max(1, camera_.height()));
  const ImVec2 size = w / aspect <= h ? ImVec2(std::floor(w), std::floor(w / aspect))
                                      : ImVec2(std::floor(h * aspect), std::floor(h));
  for (size_t i = 0; i < runs_.size(); ++i) {
    auto& v = *runs_[i];
    const auto& s = v.snap;
    ImGui::BeginGroup();
    const auto* im = s.image(view_);
    {  // header: drawn clipped to the view's width, so the layout does not depend on the text
      char info[160], cover[32] = "";
      if (s.view_coverage < 1) std::snprintf(cover, sizeof cover, " (%.0f%%)", 100 * s.view_coverage);
      std::snprintf(info, sizeof info, "  step %lld  %s %lldx%lld%s  %.0f ms%s", static_cast<long long>(s.step),
                    view_.c_str(), static_cast<long long>(im ? im->width : 0),
                    static_cast<long long>(im ? im->height : 0), cover, s.view_ms,
                    s.failed ? "  (stopped)" : (shown_paused(s) ? "  (paused)" : ""));
      const std::string name = std::string(kRunNames[i]) + "  " + s.label;
      const ImVec2 h0 = ImGui::GetCursorScreenPos();
      ImGui::Dummy(ImVec2(size.x, ImGui::GetTextLineHeight()));
      ImDrawList* dl = ImGui::GetWindowDrawList();
      dl->PushClipRect(h0, ImVec2(h0.x + size.x, h0.y + line), true);
      dl->AddText(h0, kRunColors[i], name.c_str());
      dl->AddText(ImVec2(h0.x + ImGui::CalcTextSize(name.c_str()).x, h0.y), ImGui::GetColorU32(ImGuiCol_TextDisabled),
                  info);
      dl->PopClipRect();
    }
    const Texture* t = shown(v, view_);
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    if (t && !t->empty()) {
      ImGui::Image(tex_id(*t), size);
    } else {
      ImGui::Dummy(size);
      const char* why = view_ == "error" && dataset_view_ < 0 ? "error: snap to a dataset camera" : "rendering ...";
      ImGui::GetWindowDrawList()->AddText(ImVec2(p0.x + 8, p0.y + 8), ImGui::GetColorU32(ImGuiCol_TextDisabled), why);
    }
    record(layout_, std::string(kRunNames[i]) + "/view");
    if (ImGui::IsItemHovered()) view_hovered_ = true;
    mesh_->draw_over_view(i, p0.x, p0.y, size.x, size.y, camera_.camera());
    if (frustums_) {  // training cameras as frustums, projected with the current camera
      ImDrawList* dl = ImGui::GetWindowDrawList();
      dl->PushClipRect(p0, ImVec2(p0.x + size.x, p0.y + size.y), true);
      const float sx = size.x / static_cast<float>(camera_.width()), sy = size.y / static_cast<float>(camera_.height());
      for (size_t k = 0; k < info_.cameras.size(); ++k) {
        const auto& c = info_.cameras[k].camera;
        const auto& m = c.c2w;
        const double d = 0.25;  // frustum depth (scene units)
        double pts[5][3];
        // The image's edges at depth d (camera x right, y up): pixel centres at integers, so the image
        // spans [-0.5, W - 0.5] x [-0.5, H - 0.5] around the principal point.
        const double x0 = (-0.5 - c.cx) / c.fx * d, x1 = (c.width - 0.5 - c.cx) / c.fx * d;
        const double y0 = (c.cy + 0.5) / c.fy * d, y1 = -(c.height - 0.5 - c.cy) / c.fy * d;
        const double corners[4][2] = {{x0, y1}, {x1, y1}, {x1, y0}, {x0, y0}};
        for (int r = 0; r < 3; ++r) pts[0][r] = m[static_cast<size_t>(r * 4 + 3)];
        for (int q = 0; q < 4; ++q)
          for (int r = 0; r < 3; ++r)
            pts[q + 1][r] = pts[0][r] + m[static_cast<size_t>(r * 4)] * corners[q][0] +
                            m[static_cast<size_t>(r * 4 + 1)] * corners[q][1] - m[static_cast<size_t>(r * 4 + 2)] * d;
        ImVec2 px[5];
        bool ok = true;
        for (int q = 0; q < 5 && ok; ++q) {
          double u = 0, vv = 0;
          ok = camera_.project(pts[q], u, vv);
          px[q] = ImVec2(p0.x + static_cast<float>(u) * sx, p0.y + static_cast<float>(vv) * sy);
        }
        if (!ok) continue;
        const ImU32 col = static_cast<int>(k) == dataset_view_ ? IM_COL32(255, 220, 80, 220) : IM_COL32(120, 200, 120, 110);
        for (int q = 1; q <= 4; ++q) {
          dl->AddLine(px[0], px[q], col);
          dl->AddLine(px[q], px[q % 4 + 1], col);
        }
      }
      dl->PopClipRect();
    }
    ImGui::EndGroup();
    if (i + 1 < runs_.size()) ImGui::SameLine();
  }
}

void ViewerApp::camera_input() {
  // Mouse over the view: left drag orbits, right/middle drag pans, the wheel zooms. Keys: arrows
  // orbit, PageUp/PageDown (or +/-) zoom, Home returns to the starting orbit.
  ImGuiIO& io = ImGui::GetIO();
  bool moved = false;
  if (view_hovered_ && (ImGui::IsMouseClicked(ImGuiMouseButton_Left) || ImGui::IsMouseClicked(ImGuiMouseButton_Right) ||
                        ImGui::IsMouseClicked(ImGuiMouseButton_Middle)))
    drag_active_ = true;
  if (!ImGui::IsAnyMouseDown()) drag_active_ = false;
  const bool over = view_hovered_ || drag_active_;
  view_hovered_ = false;  // set again by draw_3d_views
  if (over && !io.WantTextInput) {
    if (ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
      camera_.orbit(-io.MouseDelta.x * 0.4, io.MouseDelta.y * 0.4);
      moved = true;
    }
    if (ImGui::IsMouseDragging(ImGuiMouseButton_Right) || ImGui::IsMouseDragging(ImGuiMouseButton_Middle)) {
      camera_.pan(-io.MouseDelta.x * 0.003, io.MouseDelta.y * 0.003);
      moved = true;
    }
    if (io.MouseWheel != 0) {
      camera_.zoom(std::exp(-0.1 * io.MouseWheel));
      moved = true;
    }
  }
  if (!io.WantTextInput) {
    const double step = 3.0;
    if (ImGui::IsKeyDown(GLFW_KEY_LEFT)) camera_.orbit(-step, 0), moved = true;
    if (ImGui::IsKeyDown(GLFW_KEY_RIGHT)) camera_.orbit(step, 0), moved = true;
    if (ImGui::IsKeyDown(GLFW_KEY_UP)) camera_.orbit(0, step), moved = true;
    if (ImGui::IsKeyDown(GLFW_KEY_DOWN)) camera_.orbit(0, -step), moved = true;
    if (ImGui::IsKeyDown(GLFW_KEY_PAGE_UP) || ImGui::IsKeyDown(GLFW_KEY_EQUAL)) camera_.zoom(0.97), moved = true;
    if (ImGui::IsKeyDown(GLFW_KEY_PAGE_DOWN) || ImGui::IsKeyDown(GLFW_KEY_MINUS)) camera_.zoom(1.03), moved = true;
    if (ImGui::IsKeyPressed(GLFW_KEY_HOME, false)) {
      camera_.set_orbit(info_.orbit_target, info_.orbit_radius, 30.0, info_.orbit_elevation_deg);
      moved = true;
    }
  }
  if (moved) {
    dataset_view_ = camera_.exact() ? dataset_view_ : -1;
    dragging_ = true;
    send_view(true);
  } else if (dragging_) {  // the camera came to rest: previews refine from here
    dragging_ = false;
    send_view(false);
  }
}

void ViewerApp::draw_camera_controls() {
  if (!ImGui::CollapsingHeader("camera and rendering", ImGuiTreeNodeFlags_DefaultOpen)) return;
  // The render modes the task offers (PreviewInfo::modes, e.g. normals for NeuS).
  std::vector<std::string> modes = info_.modes;
  if (modes.empty()) modes = {"rgb", "depth", "acc", "error"};
  std::vector<const char*> names;
  for (const auto& m : modes) names.push_back(m.c_str());
  int mode = static_cast<int>(std::find(modes.begin(), modes.end(), view_) - modes.begin());
  if (mode >= static_cast<int>(modes.size())) mode = 0;
  if (ImGui::Combo("mode", &mode, names.data(), static_cast<int>(names.size()))) {
    view_ = modes[static_cast<size_t>(mode)];
    if (view_ == "error" && dataset_view_ < 0) message_ = "error view: snap to a dataset camera first";
  }
  std::string current = dataset_view_ >= 0 && dataset_view_ < static_cast<int>(info_.cameras.size())
                            ? info_.cameras[static_cast<size_t>(dataset_view_)].name
                            : "free camera";
  if (ImGui::BeginCombo("snap to", current.c_str())) {
    for (size_t k = 0; k < info_.cameras.size(); ++k)
      if (ImGui::Selectable(info_.cameras[k].name.c_str(), static_cast<int>(k) == dataset_view_)) {
        camera_.snap(info_.cameras[k].camera);
        dataset_view_ = static_cast<int>(k);
        send_view(false);
      }
    ImGui::EndCombo();
  }
  float fov = static_cast<float>(camera_.fov_x_deg());
  if (ImGui::SliderFloat("field of view", &fov, 10.0f, 120.0f, "%.1f deg")) {
    camera_.set_fov_x_deg(fov);
    send_view(true);
    dragging_ = true;
  }
  if (ImGui::Button("Reset view (Home)")) {
    camera_.set_orbit(info_.orbit_target, info_.orbit_radius, 30.0, info_.orbit_elevation_deg);
    dataset_view_ = -1;
    send_view(false);
  }
  ImGui::SameLine();
  ImGui::Checkbox("frustums", &frustums_);
  ImGui::TextDisabled("drag: orbit, right-drag: pan, wheel: zoom; arrows, PgUp/PgDn");
  bool budget = false;
  budget |= ImGui::SliderFloat("preview ms", &frame_ms_, 10.0f, 1000.0f, "%.0f", ImGuiSliderFlags_Logarithmic);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("target render time of a preview while the camera moves");
  budget |= ImGui::SliderFloat("training share", &train_share_, 0.05f, 0.95f, "%.2f");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("share of a run's time spent training while it trains; the rest renders");
  budget |= ImGui::SliderFloat("max quality", &max_scale_, 0.125f, 1.0f, "%.3f");
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("resolution factor progressive refinement stops at");
  if (budget) {
    RenderBudget b = opts_.budget;
    b.frame_s = frame_ms_ / 1000.0;
    b.train_share = train_share_;
    b.max_scale = max_scale_;
    for (auto& v : runs_) v->run->set_budget(b);
  }
  const auto& s = runs_[0]->snap;
  if (s.view_coverage < 1)
    ImGui::TextDisabled("preview scale %.3f, %.0f%% rendered, %.0f ms", s.view_scale, 100 * s.view_coverage, s.view_ms);
  else
    ImGui::TextDisabled("preview scale %.3f, %.0f ms", s.view_scale, s.view_ms);
  if (!info_.heldout.empty()) ImGui::TextDisabled("held-out view: %s", info_.heldout.c_str());
}

void ViewerApp::draw_plots(float height) {
  const ImGuiStyle& st = ImGui::GetStyle();
  std::vector<Series> psnr, loss, its;
  for (size_t i = 0; i < runs_.size(); ++i) {
    const auto& s = runs_[i]->snap;
    const std::string name = std::string(kRunNames[i]) + " " + s.label;
    if (has_camera()) {
      Series h{{}, kRunColors[i], name};
      for (const auto& [k, p] : s.heldout) h.xy.emplace_back(static_cast<double>(k), p);
      psnr.push_back(std::move(h));
    } else {
      psnr.push_back({curve_points(s, s.psnr_curve), kRunColors[i], name});
    }
    loss.push_back({curve_points(s, s.loss_curve), kRunColors[i], name});
    its.push_back({runs_[i]->its, kRunColors[i], name});
  }
  const float w = (ImGui::GetContentRegionAvail().x - 2 * st.ItemSpacing.x) / 3;
  const float h = std::max(60.0f, height - st.ItemSpacing.y);
  plot_curves(has_camera() ? "held-out PSNR (dB)" : "training PSNR (dB)", psnr, false, ImVec2(w, h));
  ImGui::SameLine();
  plot_curves("training loss (log scale)", loss, true, ImVec2(w, h));
  ImGui::SameLine();
  plot_curves("steps/s (wall clock)", its, false, ImVec2(w, h));
}

}  // namespace nf::viewer
