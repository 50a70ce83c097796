#include "app/viewer/viewer_app.h"

#include <GLFW/glfw3.h>
#include <imgui.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace nf::viewer {
namespace {

const ImU32 kRunColors[2] = {IM_COL32(90, 170, 255, 255), IM_COL32(255, 150, 60, 255)};
const char* kRunNames[2] = {"A", "B"};
const char* kMaps[3] = {"heat", "inferno", "gray"};

ImTextureID tex_id(const Texture& t) { return reinterpret_cast<ImTextureID>(static_cast<intptr_t>(t.id())); }

std::string file_tag(std::string s) {
  for (auto& c : s)
    if (c == ' ' || c == '/' || c == '\\' || c == ':') c = '_';
  return s;
}

struct Series {
  const Snapshot* snap;
  const std::vector<float>* y;
  ImU32 color;
  std::string name;
};

// Curves of several runs on shared axes (x: training step). log_y plots log10 of the values.
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
  double xmin = DBL_MAX, xmax = 0;
  for (const auto& s : series) {
    if (s.y->empty()) continue;
    xmin = std::min(xmin, static_cast<double>(s.snap->curve_first_step));
    xmax = std::max(xmax, static_cast<double>(s.snap->step));
    for (float v : *s.y) {
      if (!std::isfinite(v)) continue;
      ymin = std::min(ymin, tr(v));
      ymax = std::max(ymax, tr(v));
    }
  }
  const float line = ImGui::GetTextLineHeight();
  const ImU32 text_col = ImGui::GetColorU32(ImGuiCol_Text), dim_col = ImGui::GetColorU32(ImGuiCol_TextDisabled);
  dl->AddText(ImVec2(p0.x + 6, p0.y + 3), text_col, title);
  if (ymin > ymax || xmax <= xmin) {
    dl->AddText(ImVec2(p0.x + 6, p0.y + 3 + line), dim_col, "no steps yet");
    ImGui::PopID();
    return;
  }
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
  // legend (top right)
  float lx = p1.x - 6;
  for (auto it = series.rbegin(); it != series.rend(); ++it) {
    lx -= ImGui::CalcTextSize(it->name.c_str()).x;
    dl->AddText(ImVec2(lx, p0.y + 3), it->color, it->name.c_str());
    lx -= 12;
  }
  dl->PushClipRect(in0, ImVec2(in1.x + 1, in1.y + 1), true);
  std::vector<ImVec2> pts;
  for (const auto& s : series) {
    pts.clear();
    const auto& y = *s.y;
    const int64_t stride = s.snap->curve_stride, first = s.snap->curve_first_step;
    for (size_t i = 0; i < y.size(); ++i) {
      const double step = std::min<double>(static_cast<double>(first + static_cast<int64_t>(i + 1) * stride),
                                           static_cast<double>(s.snap->step));
      if (std::isfinite(y[i])) pts.emplace_back(X(step), Y(tr(y[i])));
    }
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
      if (s.y->empty()) continue;
      const auto i = std::clamp<int64_t>(
          static_cast<int64_t>((step - static_cast<double>(s.snap->curve_first_step)) / s.snap->curve_stride), 0,
          static_cast<int64_t>(s.y->size()) - 1);
      ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(s.color), "%s: %.4g", s.name.c_str(),
                         static_cast<double>((*s.y)[static_cast<size_t>(i)]));
    }
    ImGui::EndTooltip();
  }
  ImGui::PopID();
}

}  // namespace

ViewerApp::ViewerApp(ViewerOptions opts, std::shared_ptr<const TargetImage> target)
    : opts_(std::move(opts)), target_(std::move(target)) {
  colormap_ = std::make_unique<ColormapPass>(opts_.shaders);
  truth_.upload(target_->rgb.data(), static_cast<int>(target_->width), static_cast<int>(target_->height), 3);
  methods_ = method_list();
  paused_ = opts_.paused;
  steps_per_frame_ = static_cast<int>(std::clamp<int64_t>(opts_.steps_per_frame, 1, 100000));
  std::string cmp = opts_.compare;
  if (cmp.empty()) {  // a sensible partner for the toggle: relu+cn <-> relu
    const auto& m = opts_.run.method;
    cmp = m.find('+') != std::string::npos ? m.substr(0, m.find('+')) : m + "+cn";
  }
  auto it = std::find(methods_.begin(), methods_.end(), cmp);
  if (it == methods_.end()) methods_.push_back(cmp);
  compare_method_ = static_cast<int>(std::find(methods_.begin(), methods_.end(), cmp) - methods_.begin());
  runs_.push_back(std::make_unique<RunView>());
  start_run(*runs_[0], opts_.run);
  if (!opts_.compare.empty()) {
    compare_ = true;
    RunSpec b = opts_.run;
    b.method = opts_.compare;
    b.field = nullptr;
    b.checkpoint.clear();
    b.lr = opts_.compare_lr;
    runs_.push_back(std::make_unique<RunView>());
    start_run(*runs_[1], b);
  }
}

ViewerApp::~ViewerApp() { runs_.clear(); }  // joins the training threads before the GL objects go

void ViewerApp::start_run(RunView& v, const RunSpec& spec) {
  v.run.reset();
  v.snap = Snapshot{};
  v.lr = 0;
  v.ui_error.clear();
  auto it = std::find(methods_.begin(), methods_.end(), spec.method);
  if (it == methods_.end()) {
    methods_.push_back(spec.method);
    it = methods_.end() - 1;
  }
  v.method_idx = static_cast<int>(it - methods_.begin());
  std::snprintf(v.arch.data(), v.arch.size(), "%s", spec.arch.c_str());
  v.run = std::make_unique<TrainingRun>(target_, spec, paused_ || opts_.lockstep, steps_per_frame_);
}

std::string ViewerApp::out_path(const std::string& name) const {
  return (std::filesystem::path(opts_.out) / name).string();
}

void ViewerApp::lockstep_advance() {
  // Each frame runs exactly steps_per_frame steps on every run (on their threads, in parallel) and
  // waits for the snapshots: the frame count then fixes the step count (tests, reproducible figures).
  std::vector<int64_t> targets;
  for (auto& v : runs_) {
    v->run->wait_for_step(0, 120.0);  // the first snapshot (field built)
    const int64_t base = v->run->published_step();
    if (!paused_) v->run->step(steps_per_frame_);
    targets.push_back(base + (paused_ ? 0 : steps_per_frame_));
  }
  for (size_t i = 0; i < runs_.size(); ++i)
    if (!runs_[i]->run->wait_for_step(targets[i], 300.0))
      std::cerr << "normfield-viewer: warning: run " << kRunNames[i] << " did not reach step " << targets[i]
                << " within 300 s\n";
}

void ViewerApp::upload_and_colormap() {
  for (auto& vp : runs_) {
    auto& v = *vp;
    if (v.run->latest(v.snap) && v.snap.height > 0 && !v.snap.recon.empty()) {
      const int w = static_cast<int>(v.snap.width), h = static_cast<int>(v.snap.height);
      v.recon.upload(v.snap.recon.data(), w, h, 3);
      v.error_in.upload(v.snap.error.data(), w, h, 1);
      v.spec_in.upload(v.snap.spectrum.data(), w, h, 1);
      if (!(v.lr > 0)) v.lr = static_cast<float>(v.snap.lr);
    }
  }
  if (auto_error_scale_) {  // one scale for all runs, so their error views compare
    double m = 0;
    for (auto& v : runs_) {
      double sum = 0;
      for (float e : v->snap.error) sum += e;
      if (!v->snap.error.empty()) m = std::max(m, sum / static_cast<double>(v->snap.error.size()));
    }
    if (m > 0) error_scale_ = static_cast<float>(std::clamp(2.0 * m, 0.005, 1.0));
  }
  for (auto& vp : runs_) {
    auto& v = *vp;
    colormap_->run(v.error_in, v.error_out, static_cast<Colormap>(error_map_), 0.0f, error_scale_);
    colormap_->run(v.spec_in, v.spec_out, static_cast<Colormap>(spec_map_), spec_lo_, spec_hi_);
  }
}

void ViewerApp::frame() {
  ++frame_;
  if (opts_.lockstep) lockstep_advance();
  upload_and_colormap();
  layout_ = nlohmann::json::object();

  ImGuiIO& io = ImGui::GetIO();
  if (!io.WantTextInput) {
    if (ImGui::IsKeyPressed(GLFW_KEY_SPACE, false)) {
      paused_ = !paused_;
      if (!opts_.lockstep)
        for (auto& v : runs_) v->run->set_paused(paused_);
    }
    if (ImGui::IsKeyPressed(GLFW_KEY_S, true) || ImGui::IsKeyPressed(GLFW_KEY_RIGHT, true))
      for (auto& v : runs_) v->run->step(steps_per_frame_);
    if (ImGui::IsKeyPressed(GLFW_KEY_F12, false)) shot_requested_ = true;
  }

  ImGui::SetNextWindowPos(ImVec2(0, 0));
  ImGui::SetNextWindowSize(io.DisplaySize);
  ImGui::Begin("normfield-viewer", nullptr,
               ImGuiWindowFlags_NoDecoration | ImGuiWindowFlags_NoMove | ImGuiWindowFlags_NoSavedSettings |
                   ImGuiWindowFlags_NoBringToFrontOnFocus);
  const float scale = ImGui::GetFontSize() / 13.0f;
  ImGui::BeginChild("controls", ImVec2(std::min(340.0f * scale, io.DisplaySize.x * 0.4f), 0), true);
  draw_controls();
  ImGui::EndChild();
  ImGui::SameLine();
  ImGui::BeginChild("views", ImVec2(0, 0), false, ImGuiWindowFlags_NoScrollbar | ImGuiWindowFlags_NoScrollWithMouse);
  draw_views();
  ImGui::EndChild();
  ImGui::End();
}

bool ViewerApp::shown_paused(const Snapshot& s) const {
  return opts_.lockstep ? paused_ : s.paused;  // lockstep runs are paused between granted steps
}

void ViewerApp::draw_controls() {
  ImGui::TextUnformatted("normfield-viewer");
  ImGui::TextDisabled("%s  %lldx%lld", target_->source.c_str(), static_cast<long long>(target_->width),
                      static_cast<long long>(target_->height));
  ImGui::TextDisabled("%.0f fps%s", static_cast<double>(ImGui::GetIO().Framerate),
                      opts_.lockstep ? "  (lockstep)" : "");
  ImGui::Separator();
  if (ImGui::Button(paused_ ? "Resume" : "Pause", ImVec2(80 * ImGui::GetFontSize() / 13.0f, 0))) {
    paused_ = !paused_;
    if (!opts_.lockstep)
      for (auto& v : runs_) v->run->set_paused(paused_);
  }
  ImGui::SameLine();
  if (ImGui::Button("Step"))
    for (auto& v : runs_) v->run->step(steps_per_frame_);
  ImGui::SameLine();
  ImGui::TextDisabled("(space, S)");
  if (ImGui::SliderInt("steps/slice", &steps_per_frame_, 1, 1000, "%d", ImGuiSliderFlags_Logarithmic))
    for (auto& v : runs_) v->run->set_steps_per_slice(steps_per_frame_);
  if (ImGui::Checkbox("compare", &compare_)) {
    if (compare_ && runs_.size() == 1) {
      RunSpec b = runs_[0]->run->spec();
      b.method = methods_[static_cast<size_t>(compare_method_)];
      b.field = nullptr;
      b.checkpoint.clear();
      b.lr = -1;
      runs_.push_back(std::make_unique<RunView>());
      start_run(*runs_[1], b);
    } else if (!compare_ && runs_.size() > 1) {
      runs_.resize(1);
    }
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("train a second field side by side (e.g. ReLU vs ReLU+CN)");
  for (size_t i = 0; i < runs_.size(); ++i) draw_run_controls(*runs_[i], kRunNames[i]);

  if (ImGui::CollapsingHeader("views", ImGuiTreeNodeFlags_DefaultOpen)) {
    if (ImGui::SliderFloat("error scale", &error_scale_, 0.005f, 1.0f, "%.3f", ImGuiSliderFlags_Logarithmic))
      auto_error_scale_ = false;
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("|error| shown at full colour");
    ImGui::Checkbox("auto error scale (2x mean)", &auto_error_scale_);
    ImGui::Combo("error map", &error_map_, kMaps, 3);
    ImGui::DragFloatRange2("spectrum dB", &spec_lo_, &spec_hi_, 0.5f, -150.0f, 50.0f, "%.0f", "%.0f");
    ImGui::Combo("spectrum map", &spec_map_, kMaps, 3);
  }
  ImGui::Separator();
  if (ImGui::Button("Screenshot (F12)")) shot_requested_ = true;
  ImGui::TextDisabled("files go to %s/", opts_.out.c_str());
  if (!message_.empty()) ImGui::TextWrapped("%s", message_.c_str());
}

void ViewerApp::draw_run_controls(RunView& v, const char* name) {
  ImGui::PushID(name);
  const auto& s = v.snap;
  const std::string header = std::string("run ") + name + ": " + (s.label.empty() ? "..." : s.label) + "###run";
  if (ImGui::CollapsingHeader(header.c_str(), ImGuiTreeNodeFlags_DefaultOpen)) {
    auto getter = [](void* data, int idx, const char** out) {
      *out = (*static_cast<std::vector<std::string>*>(data))[static_cast<size_t>(idx)].c_str();
      return true;
    };
    bool restart = ImGui::Combo("method", &v.method_idx, getter, &methods_, static_cast<int>(methods_.size()));
    restart |= ImGui::InputText("arch", v.arch.data(), v.arch.size(), ImGuiInputTextFlags_EnterReturnsTrue);
    if (ImGui::IsItemHovered()) ImGui::SetTooltip("hidden layers x width, e.g. 4x64 (Enter restarts)");
    restart |= ImGui::Button("Restart");
    if (restart) {
      RunSpec spec = v.run->spec();
      spec.method = methods_[static_cast<size_t>(v.method_idx)];
      spec.arch = v.arch.data();
      spec.field = nullptr;
      spec.checkpoint.clear();
      spec.lr = -1;  // the method's default
      v.ui_error = check_method_arch(spec.method, spec.arch);
      if (v.ui_error.empty()) {
        v.run->restart(spec);
        v.lr = 0;
      }
    }
    ImGui::SameLine();
    if (ImGui::Button("Save checkpoint"))
      v.run->save_checkpoint(out_path(file_tag(s.label) + "-step" + std::to_string(s.step) + ".pt"));
    ImGui::SameLine();
    if (ImGui::Button("Export PNG"))
      v.run->export_png(out_path(file_tag(s.label) + "-step" + std::to_string(s.step) + ".png"));
    ImGui::SliderFloat("lr", &v.lr, 1e-5f, 1e-1f, "%.2e", ImGuiSliderFlags_Logarithmic);
    if (ImGui::IsItemDeactivatedAfterEdit()) v.run->set_lr(v.lr);
    ImGui::Text("step %lld   PSNR %.2f dB", static_cast<long long>(s.step), s.psnr);
    ImGui::Text("loss %.3e   %lld params", s.loss, static_cast<long long>(s.params));
    ImGui::Text("%.0f it/s (train %.0f it/s)", s.wall_its, s.train_its);
    if (s.failed) ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(255, 110, 110, 255));
    ImGui::TextWrapped("%s%s", shown_paused(s) ? "[paused] " : "", s.status.c_str());
    if (s.failed) ImGui::PopStyleColor();
    if (!v.ui_error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", v.ui_error.c_str());
  }
  ImGui::PopID();
}

void ViewerApp::draw_views() {
  const ImGuiIO& io = ImGui::GetIO();
  const ImGuiStyle& st = ImGui::GetStyle();
  const ImVec2 avail = ImGui::GetContentRegionAvail();
  const float line = ImGui::GetTextLineHeightWithSpacing();
  const float plots_h = std::max(110.0f * ImGui::GetFontSize() / 13.0f, avail.y * 0.28f);
  const auto rows = static_cast<float>(runs_.size());
  const float box_w = (avail.x - 3 * st.ItemSpacing.x) / 4;
  const float box_h = (avail.y - plots_h - st.ItemSpacing.y - rows * (2 * line + st.ItemSpacing.y)) / rows;
  const float box = std::floor(std::max(16.0f, std::min(box_w, box_h)));
  const float aspect = static_cast<float>(target_->width) / static_cast<float>(target_->height);
  const ImVec2 size = aspect >= 1 ? ImVec2(box, std::floor(box / aspect)) : ImVec2(std::floor(box * aspect), box);
  const ImVec2 fb = io.DisplayFramebufferScale;

  auto panel = [&](const std::string& key, const char* caption, const Texture& t, bool last) {
    ImGui::BeginGroup();
    ImGui::TextUnformatted(caption);
    if (t.empty())
      ImGui::Dummy(size);
    else
      ImGui::Image(tex_id(t), size);
    const ImVec2 a = ImGui::GetItemRectMin(), b = ImGui::GetItemRectMax();
    layout_["panels"][key] = {std::lround(a.x * fb.x), std::lround(a.y * fb.y), std::lround((b.x - a.x) * fb.x),
                              std::lround((b.y - a.y) * fb.y)};
    ImGui::EndGroup();
    if (ImGui::IsItemHovered() && !t.empty()) {
      // pixel under the mouse
      const float u = (io.MousePos.x - a.x) / (b.x - a.x), w = (io.MousePos.y - a.y) / (b.y - a.y);
      ImGui::SetTooltip("%s  x %d  y %d", caption, static_cast<int>(u * static_cast<float>(target_->width)),
                        static_cast<int>(w * static_cast<float>(target_->height)));
    }
    if (!last) ImGui::SameLine();
  };

  char caption[64];
  for (size_t i = 0; i < runs_.size(); ++i) {
    auto& v = *runs_[i];
    const auto& s = v.snap;
    ImGui::TextColored(ImGui::ColorConvertU32ToFloat4(kRunColors[i]), "%s  %s", kRunNames[i], s.label.c_str());
    ImGui::SameLine();
    ImGui::Text("  step %lld   PSNR %.2f dB   %.0f it/s%s", static_cast<long long>(s.step), s.psnr, s.wall_its,
                s.failed ? "   (stopped)" : (shown_paused(s) ? "   (paused)" : ""));
    const std::string k = kRunNames[i];
    panel(k + "/truth", "ground truth", truth_, false);
    panel(k + "/reconstruction", "reconstruction", v.recon, false);
    std::snprintf(caption, sizeof caption, "|error|  0..%.3g", static_cast<double>(error_scale_));
    panel(k + "/error", caption, v.error_out, false);
    std::snprintf(caption, sizeof caption, "error spectrum  %.0f..%.0f dB", static_cast<double>(spec_lo_),
                  static_cast<double>(spec_hi_));
    panel(k + "/spectrum", caption, v.spec_out, true);
  }
  std::vector<Series> psnr, loss;
  for (size_t i = 0; i < runs_.size(); ++i) {
    const auto& s = runs_[i]->snap;
    psnr.push_back({&s, &s.psnr_curve, kRunColors[i], std::string(kRunNames[i]) + " " + s.label});
    loss.push_back({&s, &s.loss_curve, kRunColors[i], std::string(kRunNames[i]) + " " + s.label});
  }
  const float w = (ImGui::GetContentRegionAvail().x - st.ItemSpacing.x) / 2;
  const float h = std::max(60.0f, ImGui::GetContentRegionAvail().y - st.ItemSpacing.y);
  plot_curves("training PSNR (dB)", psnr, false, ImVec2(w, h));
  ImGui::SameLine();
  plot_curves("training loss (MSE, log scale)", loss, true, ImVec2(w, h));
}

void ViewerApp::take_screenshot(const std::string& path, int fb_w, int fb_h) {
  auto rgb = read_framebuffer(fb_w, fb_h);
  write_rgb8_png(path, rgb, fb_w, fb_h);
  nlohmann::json j = layout_;
  j["frame"] = frame_;
  j["framebuffer"] = {fb_w, fb_h};
  j["runs"] = nlohmann::json::array();
  for (size_t i = 0; i < runs_.size(); ++i) {
    const auto& s = runs_[i]->snap;
    j["runs"].push_back({{"name", kRunNames[i]}, {"label", s.label}, {"step", s.step}, {"psnr", s.psnr}});
  }
  std::ofstream(path + ".json") << j.dump(2) << "\n";
  std::string steps;
  for (size_t i = 0; i < runs_.size(); ++i)
    steps += std::string(i ? ", " : "") + kRunNames[i] + " step " + std::to_string(runs_[i]->snap.step);
  message_ = "wrote " + path;
  std::cout << "normfield-viewer: wrote " << path << " (frame " << frame_ << ", " << steps << ")" << std::endl;
}

void ViewerApp::after_render(int fb_w, int fb_h) {
  if (fb_w <= 0 || fb_h <= 0) return;
  if (shot_requested_) {  // from the button / F12: a failure is a message, not the end of the session
    shot_requested_ = false;
    try {
      take_screenshot(out_path("screenshot-" + std::to_string(frame_) + ".png"), fb_w, fb_h);
    } catch (const std::exception& e) {
      message_ = e.what();
    }
  }
  if (opts_.screenshot.empty()) return;
  if (!opts_.screenshot_at.empty()) {
    if (std::find(opts_.screenshot_at.begin(), opts_.screenshot_at.end(), frame_) == opts_.screenshot_at.end()) return;
    const std::filesystem::path p(opts_.screenshot);
    const auto name =
        p.stem().string() + "-" + std::to_string(frame_) + (p.has_extension() ? p.extension().string() : ".png");
    take_screenshot((p.parent_path() / name).string(), fb_w, fb_h);
  } else if (opts_.frames > 0 && frame_ == opts_.frames) {
    take_screenshot(opts_.screenshot, fb_w, fb_h);
  }
}

}  // namespace nf::viewer
