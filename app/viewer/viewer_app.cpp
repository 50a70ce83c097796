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

#include "app/viewer/viewer_common.h"

namespace nf::viewer {

ViewerApp::ViewerApp(ViewerOptions opts) : opts_(std::move(opts)) {
  colormap_ = std::make_unique<ColormapPass>(opts_.shaders);
  mesh_ = std::make_unique<MeshPanel>(opts_.shaders, opts_.mesh, opts_.out);
  methods_ = method_list();
  paused_ = opts_.paused;
  view_ = opts_.view;
  frame_ms_ = static_cast<float>(opts_.budget.frame_s * 1000);
  train_share_ = static_cast<float>(opts_.budget.train_share);
  max_scale_ = static_cast<float>(opts_.budget.max_scale);
  steps_per_frame_ = static_cast<int>(std::clamp<int64_t>(opts_.steps_per_frame, 1, 100000));
  std::string cmp = opts_.compare_method;
  if (cmp.empty()) {  // a sensible partner for the toggle: relu+cn <-> relu
    const auto& m = opts_.run.method;
    cmp = m.find('+') != std::string::npos ? m.substr(0, m.find('+')) : m + "+cn";
  }
  if (std::find(methods_.begin(), methods_.end(), cmp) == methods_.end()) methods_.push_back(cmp);
  compare_method_ = static_cast<int>(std::find(methods_.begin(), methods_.end(), cmp) - methods_.begin());
  runs_.push_back(std::make_unique<RunView>());
  start_run(*runs_[0], opts_.run);
  if (opts_.compare) {
    compare_ = true;
    runs_.push_back(std::make_unique<RunView>());
    start_run(*runs_[1], opts_.compare_run);
  }
}

ViewerApp::~ViewerApp() {  // the mesh jobs, then the training threads, before the GL objects go
  mesh_.reset();
  runs_.clear();
}

std::vector<TrainingRun*> ViewerApp::run_ptrs() const {
  std::vector<TrainingRun*> r;
  for (const auto& v : runs_) r.push_back(v->run.get());
  return r;
}

void ViewerApp::start_run(RunView& v, const RunSpec& spec) {
  v.run.reset();
  v.snap = Snapshot{};
  v.tex.clear();
  v.its.clear();
  v.lr = 0;
  v.ui_error.clear();
  auto it = std::find(methods_.begin(), methods_.end(), spec.method);
  if (it == methods_.end()) {
    methods_.push_back(spec.method);
    it = methods_.end() - 1;
  }
  v.method_idx = static_cast<int>(it - methods_.begin());
  std::snprintf(v.arch.data(), v.arch.size(), "%s", spec.arch.c_str());
  RenderBudget b = opts_.budget;
  b.frame_s = frame_ms_ / 1000.0;
  b.train_share = train_share_;
  b.max_scale = max_scale_;
  v.run = std::make_unique<TrainingRun>(spec, paused_ || opts_.lockstep, steps_per_frame_, b);
  if (info_ready_) send_view(false);
}

RunSpec ViewerApp::partner_spec() const {
  if (opts_.compare_run.task.is_object() || !opts_.compare_run.field.is_null()) return opts_.compare_run;
  RunSpec b = runs_[0]->run->spec();
  b.checkpoint.clear();
  if (!b.field.is_null() && has_camera()) {  // NeRF, NeuS (a whole field config): toggle the norm
    const std::string norm = b.field.value("norm", std::string("none"));
    b.field["norm"] = norm == "none" ? "cn" : "none";
    b.name += norm == "none" ? " +cn" : " -" + norm;
    return b;
  }
  b.method = methods_[static_cast<size_t>(compare_method_)];
  b.field = nullptr;
  b.name.clear();
  b.lr = -1;
  return b;
}

std::string ViewerApp::out_path(const std::string& name) const {
  return (std::filesystem::path(opts_.out) / name).string();
}

void ViewerApp::lockstep_advance() {
  // Each frame runs exactly steps_per_frame steps on every run (on their threads, in parallel) and
  // waits for the snapshots (and the preview of the current camera): the frame count then fixes the
  // step count and the picture (tests, reproducible figures).
  std::vector<int64_t> targets;
  for (auto& v : runs_) {
    v->run->wait_for_step(0, 300.0);  // the first snapshot (task and field built)
    const int64_t base = v->run->published_step();
    if (!paused_) v->run->step(steps_per_frame_);
    targets.push_back(base + (paused_ ? 0 : steps_per_frame_));
  }
  for (size_t i = 0; i < runs_.size(); ++i) {
    if (!runs_[i]->run->wait_for_step(targets[i], 300.0))
      std::cerr << "normfield-viewer: warning: run " << kRunNames[i] << " did not reach step " << targets[i]
                << " within 300 s\n";
    if (has_camera() && !runs_[i]->run->wait_for_view(view_id_, targets[i], 300.0))
      std::cerr << "normfield-viewer: warning: run " << kRunNames[i] << " did not render view " << view_id_ << "\n";
  }
}

void ViewerApp::upload_and_colormap() {
  for (auto& vp : runs_) {
    auto& v = *vp;
    const int64_t old_step = v.snap.step;
    if (!v.run->latest(v.snap)) continue;
    if (v.snap.step != old_step && v.snap.wall_its > 0) v.its.emplace_back(static_cast<double>(v.snap.step), v.snap.wall_its);
    for (const auto& im : v.snap.images) {
      auto& t = v.tex[im.name];
      if (!t) t = std::make_unique<Tex>();
      t->raw.upload(im.data.data(), static_cast<int>(im.width), static_cast<int>(im.height),
                    static_cast<int>(im.channels));
    }
    if (!v.lr_editing && (!v.lr_override || !(v.lr > 0))) v.lr = static_cast<float>(v.snap.lr);  // the schedule's
  }
  if (auto_error_scale_) {  // one scale for all runs, so their error views compare
    double m = 0;
    for (auto& v : runs_)
      for (const auto& im : v->snap.images) {
        if (im.kind != "error" || im.data.empty()) continue;
        double sum = 0;
        for (float e : im.data) sum += e;
        m = std::max(m, sum / static_cast<double>(im.data.size()));
      }
    if (m > 0) error_scale_ = static_cast<float>(std::clamp(2.0 * m, 0.005, 1.0));
  }
  for (auto& vp : runs_) {
    for (const auto& im : vp->snap.images) {
      auto& t = *vp->tex[im.name];
      if (im.kind == "error")
        colormap_->run(t.raw, t.mapped, static_cast<Colormap>(error_map_), 0.0f, error_scale_);
      else if (im.kind == "db")
        colormap_->run(t.raw, t.mapped, static_cast<Colormap>(spec_map_), spec_lo_, spec_hi_);
      else if (im.kind == "unit")
        colormap_->run(t.raw, t.mapped, Colormap::Gray, 0.0f, 1.0f);
    }
  }
}

const Texture* ViewerApp::shown(RunView& v, const std::string& name) {
  const auto* im = v.snap.image(name);
  auto it = v.tex.find(name);
  if (!im || it == v.tex.end()) return nullptr;
  return im->kind == "rgb" ? &it->second->raw : &it->second->mapped;
}

void ViewerApp::init_info() {
  // Once run A's task is built: what its previews offer, and the starting camera.
  Snapshot peek;
  if (info_ready_ || !runs_[0]->run->latest(peek) || !peek.ready) return;
  info_ = runs_[0]->run->info();
  info_ready_ = true;
  if (!info_.has_camera) return;
  const auto& c0 = info_.cameras.empty() ? PreviewCamera{} : info_.cameras[0].camera;
  camera_.set_image(c0);
  camera_.set_up(info_.up);
  camera_.set_orbit(info_.orbit_target, std::isnan(opts_.radius) ? info_.orbit_radius : opts_.radius,
                    std::isnan(opts_.yaw) ? 30.0 : opts_.yaw,
                    std::isnan(opts_.pitch) ? info_.orbit_elevation_deg : opts_.pitch);
  if (opts_.snap >= 0 && opts_.snap < static_cast<int>(info_.cameras.size())) {
    camera_.snap(info_.cameras[static_cast<size_t>(opts_.snap)].camera);
    dataset_view_ = opts_.snap;
  }
  if (!std::isnan(opts_.fov)) camera_.set_fov_x_deg(opts_.fov);
  send_view(false);
}

void ViewerApp::send_view(bool moving) {
  ViewRequest r;
  r.id = ++view_id_;
  r.use_camera = true;
  r.camera = camera_.camera();
  r.dataset_view = camera_.exact() ? dataset_view_ : -1;
  r.moving = moving;
  for (auto& v : runs_) v->run->set_view(r);
}

void ViewerApp::frame() {
  ++frame_;
  if (!info_ready_) {
    if (opts_.lockstep) runs_[0]->run->wait_for_step(0, 300.0);
    init_info();
  }
  if (has_camera() && opts_.spin != 0) {
    camera_.orbit(opts_.spin, 0);
    send_view(false);
  }
  if (opts_.lockstep) lockstep_advance();
  upload_and_colormap();
  {
    std::vector<std::string> labels;
    for (const auto& v : runs_) labels.push_back(v->snap.label);
    mesh_->update(run_ptrs(), labels, frame_, opts_.lockstep);
  }
  layout_ = nlohmann::json::object();

  ImGuiIO& io = ImGui::GetIO();
  if (!io.WantTextInput) {
    if (ImGui::IsKeyPressed(GLFW_KEY_SPACE, false)) {
      paused_ = !paused_;
      if (!opts_.lockstep)
        for (auto& v : runs_) v->run->set_paused(paused_);
    }
    if (ImGui::IsKeyPressed(GLFW_KEY_S, true) || (!has_camera() && ImGui::IsKeyPressed(GLFW_KEY_RIGHT, true)))
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
  const auto& s0 = runs_[0]->snap;
  ImGui::TextDisabled("task %s", s0.task.empty() ? "..." : s0.task.c_str());
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
      RunSpec b = partner_spec();
      runs_.push_back(std::make_unique<RunView>());
      start_run(*runs_[1], b);
    } else if (!compare_ && runs_.size() > 1) {
      runs_.resize(1);
    }
  }
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("train a second field side by side (e.g. ReLU vs ReLU+CN)");
  for (size_t i = 0; i < runs_.size(); ++i) draw_run_controls(*runs_[i], kRunNames[i]);
  if (has_camera()) draw_camera_controls();
  mesh_->draw_controls(run_ptrs(), has_camera());
  if (ImGui::CollapsingHeader("colours", has_camera() ? 0 : ImGuiTreeNodeFlags_DefaultOpen)) {
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
    const bool coordinate = !has_camera();  // coordinate networks: method and arch (NeRF/NeuS: the config's)
    bool restart = false;
    if (coordinate) {
      auto getter = [](void* data, int idx, const char** out) {
        *out = (*static_cast<std::vector<std::string>*>(data))[static_cast<size_t>(idx)].c_str();
        return true;
      };
      restart |= ImGui::Combo("method", &v.method_idx, getter, &methods_, static_cast<int>(methods_.size()));
      restart |= ImGui::InputText("arch", v.arch.data(), v.arch.size(), ImGuiInputTextFlags_EnterReturnsTrue);
      if (ImGui::IsItemHovered()) ImGui::SetTooltip("hidden layers x width, e.g. 4x64 (Enter restarts)");
    }
    restart |= ImGui::Button("Restart");
    if (restart) {
      RunSpec spec = v.run->spec();
      spec.checkpoint.clear();
      if (coordinate) {
        spec.method = methods_[static_cast<size_t>(v.method_idx)];
        spec.arch = v.arch.data();
        spec.field = nullptr;
        spec.name.clear();
        spec.lr = -1;  // the method's default
        v.ui_error = check_method_arch(spec.method, spec.arch);
      }
      if (v.run->spec().checkpoint.empty() && v.ui_error.empty()) {
        v.run->restart(spec);
        v.lr = 0;
        v.lr_override = false;
        v.its.clear();
      } else if (!v.run->spec().checkpoint.empty()) {
        v.ui_error = "a checkpoint run continues; start without --checkpoint for fresh weights";
      }
    }
    ImGui::SameLine();
    if (ImGui::Button("Save checkpoint"))
      v.run->save_checkpoint(out_path(file_tag(s.label) + "-step" + std::to_string(s.step) + ".pt"));
    ImGui::SameLine();
    if (ImGui::Button("Export PNG"))
      v.run->export_png(out_path(file_tag(s.label) + "-step" + std::to_string(s.step) + ".png"));
    ImGui::SliderFloat(v.lr_override ? "lr (set)###lr" : "lr (schedule)###lr", &v.lr, 1e-5f, 1e-1f, "%.2e",
                       ImGuiSliderFlags_Logarithmic);
    v.lr_editing = ImGui::IsItemActive();
    if (ImGui::IsItemHovered())
      ImGui::SetTooltip("the run follows its config's schedule (as the CLI); a value set here is used from the "
                        "next step on, constant");
    if (ImGui::IsItemDeactivatedAfterEdit()) {
      v.run->set_lr(v.lr);
      v.lr_override = true;
    }
    ImGui::Text("step %lld   PSNR %.2f dB", static_cast<long long>(s.step), s.psnr);
    if (!s.heldout.empty())
      ImGui::Text("held-out PSNR %.2f dB (step %lld)", static_cast<double>(s.heldout.back().second),
                  static_cast<long long>(s.heldout.back().first));
    ImGui::Text("loss %.3e   %lld params", s.loss, static_cast<long long>(s.params));
    ImGui::Text("%.1f it/s (train %.1f it/s, %.0f%% of the time)", s.wall_its, s.train_its, 100 * s.train_share);
    if (s.failed) ImGui::PushStyleColor(ImGuiCol_Text, IM_COL32(255, 110, 110, 255));
    ImGui::TextWrapped("%s%s", shown_paused(s) ? "[paused] " : "", s.status.c_str());
    if (s.failed) ImGui::PopStyleColor();
    if (!v.ui_error.empty()) ImGui::TextColored(ImVec4(1, 0.4f, 0.4f, 1), "%s", v.ui_error.c_str());
  }
  ImGui::PopID();
}

void ViewerApp::take_screenshot(const std::string& path, int fb_w, int fb_h) {
  auto rgb = read_framebuffer(fb_w, fb_h);
  write_rgb8_png(path, rgb, fb_w, fb_h);
  nlohmann::json j = layout_;
  j["frame"] = frame_;
  j["framebuffer"] = {fb_w, fb_h};
  j["fps"] = ImGui::GetIO().Framerate;  // UI frames per second (ImGui's running mean)
  j["runs"] = nlohmann::json::array();
  for (size_t i = 0; i < runs_.size(); ++i) {
    const auto& s = runs_[i]->snap;
    nlohmann::json r = {{"name", kRunNames[i]}, {"label", s.label},        {"step", s.step},
                        {"psnr", s.psnr},       {"view_scale", s.view_scale}, {"view_ms", s.view_ms},
                        {"view_id", s.view_id}, {"wall_its", s.wall_its},   {"failed", s.failed},
                        {"view_coverage", s.view_coverage}, {"lr", s.lr},
                        {"train_its", s.train_its}, {"loss", s.loss}, {"train_share", s.train_share}};
    r["heldout"] = nlohmann::json::array();
    for (const auto& [k, p] : s.heldout) r["heldout"].push_back({k, p});
    if (!s.images.empty()) r["image_size"] = {s.images[0].width, s.images[0].height};
    int64_t mv = -1, mf = -1, mb = -1;
    mesh_->describe(i, mv, mf, mb);
    if (mv >= 0) r["mesh"] = {{"vertices", mv}, {"faces", mf}, {"boundary_edges", mb}};
    j["runs"].push_back(r);
  }
  if (has_camera())
    j["camera"] = {{"yaw", camera_.yaw_deg()},       {"pitch", camera_.pitch_deg()},
                   {"radius", camera_.radius()},     {"fov", camera_.fov_x_deg()},
                   {"dataset_view", dataset_view_}, {"mode", view_}};
  j["mesh_show"] = mesh_->any_mesh() ? mesh_->show() : "field";
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
