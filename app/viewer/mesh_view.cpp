// The viewer's "Extract mesh" panel and GLSL mesh preview (see mesh_view.h).
// clang-format off
#include "app/viewer/mesh_view.h"  // GLEW before GLFW
// clang-format on

#include <imgui.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include "app/viewer/viewer_common.h"

namespace nf::viewer {

// ------------------------------------------------------------------ MeshRenderer
MeshRenderer::MeshRenderer(const std::string& shader_dir) : GlProgram(shader_dir, "mesh.vert", "mesh.frag") {
  glGenBuffers(2, vbo_);
  glGenBuffers(1, &ebo_);
  GLint vao = 0;
  glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &vao);
  glBindVertexArray(vao_);
  const GLint loc[2] = {glGetAttribLocation(program_, "a_pos"), glGetAttribLocation(program_, "a_normal")};
  for (int i = 0; i < 2; ++i) {
    glBindBuffer(GL_ARRAY_BUFFER, vbo_[i]);
    if (loc[i] < 0) continue;
    glEnableVertexAttribArray(static_cast<GLuint>(loc[i]));
    glVertexAttribPointer(static_cast<GLuint>(loc[i]), 3, GL_FLOAT, GL_FALSE, 0, nullptr);
  }
  glBindBuffer(GL_ELEMENT_ARRAY_BUFFER, ebo_);
  glBindVertexArray(static_cast<GLuint>(vao));
  glBindBuffer(GL_ARRAY_BUFFER, 0);
}

MeshRenderer::~MeshRenderer() {
  if (depth_) glDeleteRenderbuffers(1, &depth_);
  if (fbo_) glDeleteFramebuffers(1, &fbo_);
  if (tex_) glDeleteTextures(1, &tex_);
  glDeleteBuffers(1, &ebo_);
  glDeleteBuffers(2, vbo_);
}

void MeshRenderer::upload(const MeshBuf& m) {
  GLint vao = 0;
  glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &vao);
  glBindVertexArray(vao_);
  glBindBuffer(GL_ARRAY_BUFFER, vbo_[0]);
  glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(m.positions.size() * sizeof(float)), m.positions.data(),
               GL_STATIC_DRAW);
  glBindBuffer(GL_ARRAY_BUFFER, vbo_[1]);
  glBufferData(GL_ARRAY_BUFFER, static_cast<GLsizeiptr>(m.normals.size() * sizeof(float)), m.normals.data(),
               GL_STATIC_DRAW);
  glBufferData(GL_ELEMENT_ARRAY_BUFFER, static_cast<GLsizeiptr>(m.indices.size() * sizeof(uint32_t)),
               m.indices.data(), GL_STATIC_DRAW);
  glBindVertexArray(static_cast<GLuint>(vao));
  glBindBuffer(GL_ARRAY_BUFFER, 0);
  count_ = static_cast<GLsizei>(m.indices.size());
}

void MeshRenderer::render(const PreviewCamera& cam, int w, int h, const std::array<float, 4>& bg, float alpha,
                          float normal_mix) {
  w = std::max(w, 1);
  h = std::max(h, 1);
  if (!fbo_ || w != w_ || h != h_) {  // (re)allocate the target: RGBA8 colour + 24-bit depth
    if (!fbo_) {
      glGenFramebuffers(1, &fbo_);
      glGenTextures(1, &tex_);
      glGenRenderbuffers(1, &depth_);
    }
    GLint tex = 0;
    glGetIntegerv(GL_TEXTURE_BINDING_2D, &tex);
    glBindTexture(GL_TEXTURE_2D, tex_);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGBA8, w, h, 0, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
    glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(tex));
    GLint rb = 0;
    glGetIntegerv(GL_RENDERBUFFER_BINDING, &rb);
    glBindRenderbuffer(GL_RENDERBUFFER, depth_);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_DEPTH_COMPONENT24, w, h);
    glBindRenderbuffer(GL_RENDERBUFFER, static_cast<GLuint>(rb));
    w_ = w;
    h_ = h;
  }
  // World -> camera: the inverse of the rigid camera-to-world c2w (row-major, OpenGL axes).
  const auto& m = cam.c2w;
  float view[16] = {0};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) view[r * 4 + c] = static_cast<float>(m[static_cast<size_t>(c * 4 + r)]);
    double t = 0;
    for (int c = 0; c < 3; ++c) t -= m[static_cast<size_t>(c * 4 + r)] * m[static_cast<size_t>(c * 4 + 3)];
    view[r * 4 + 3] = static_cast<float>(t);
  }
  view[15] = 1;
  // Pinhole projection of the camera's full-resolution image with its intrinsics (fx, fy and the
  // principal point cx, cy; pixel centres at integers, so a centred camera has cx = W/2 - 0.5 and no shift).
  const double n = 0.01, f = 200.0;
  const double W = std::max(1, cam.width), H = std::max(1, cam.height);
  float proj[16] = {0};
  proj[0] = static_cast<float>(2.0 * cam.fx / W);
  proj[2] = static_cast<float>(1.0 - (2.0 * cam.cx + 1.0) / W);
  proj[5] = static_cast<float>(2.0 * cam.fy / H);
  proj[6] = static_cast<float>((2.0 * cam.cy + 1.0) / H - 1.0);
  proj[10] = static_cast<float>(-(f + n) / (f - n));
  proj[11] = static_cast<float>(-2.0 * f * n / (f - n));
  proj[14] = -1;

  GLint fbo = 0, program = 0, vao = 0, viewport[4];
  glGetIntegerv(GL_FRAMEBUFFER_BINDING, &fbo);
  glGetIntegerv(GL_CURRENT_PROGRAM, &program);
  glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &vao);
  glGetIntegerv(GL_VIEWPORT, viewport);
  const GLboolean depth = glIsEnabled(GL_DEPTH_TEST), blend = glIsEnabled(GL_BLEND), cull = glIsEnabled(GL_CULL_FACE),
                  scissor = glIsEnabled(GL_SCISSOR_TEST);
  glBindFramebuffer(GL_FRAMEBUFFER, fbo_);
  glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, tex_, 0);
  glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_DEPTH_ATTACHMENT, GL_RENDERBUFFER, depth_);
  glViewport(0, 0, w, h);
  glDisable(GL_SCISSOR_TEST);
  glDisable(GL_BLEND);
  glDisable(GL_CULL_FACE);
  glEnable(GL_DEPTH_TEST);
  glDepthFunc(GL_LESS);
  glClearColor(bg[0], bg[1], bg[2], bg[3]);
  glClearDepth(1.0);
  glClear(GL_COLOR_BUFFER_BIT | GL_DEPTH_BUFFER_BIT);
  if (count_ > 0) {
    glUseProgram(program_);
    glUniformMatrix4fv(u_view_, 1, GL_TRUE, view);
    glUniformMatrix4fv(u_proj_, 1, GL_TRUE, proj);
    glUniform3f(u_base_, 0.80f, 0.78f, 0.72f);
    glUniform1f(u_mix_, normal_mix);
    glUniform1f(u_ambient_, 0.22f);
    glUniform1f(u_alpha_, alpha);
    glBindVertexArray(vao_);
    glDrawElements(GL_TRIANGLES, count_, GL_UNSIGNED_INT, nullptr);
  }
  glBindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(fbo));
  glViewport(viewport[0], viewport[1], viewport[2], viewport[3]);
  glUseProgram(static_cast<GLuint>(program));
  glBindVertexArray(static_cast<GLuint>(vao));
  if (!depth) glDisable(GL_DEPTH_TEST);
  if (blend) glEnable(GL_BLEND);
  if (cull) glEnable(GL_CULL_FACE);
  if (scissor) glEnable(GL_SCISSOR_TEST);
}

// ------------------------------------------------------------------ MeshPanel
struct MeshPanel::Entry {
  TrainingRun* run = nullptr;
  std::string label;
  std::unique_ptr<MeshJob> job;
  std::unique_ptr<MeshRenderer> gl;
  MeshBuf mesh;  // the latest (plain copy)
  MeshJobStatus status;
};

MeshPanel::MeshPanel(std::string shader_dir, MeshOptions options, std::string out_dir)
    : shader_dir_(std::move(shader_dir)), out_dir_(std::move(out_dir)), opts_(std::move(options)) {
  // Fail early on missing shaders (as the colormap pass does).
  read_shader_file(shader_dir_, "mesh.vert");
  read_shader_file(shader_dir_, "mesh.frag");
  resolution_ = static_cast<int>(std::clamp<int64_t>(opts_.resolution, 2, 1024));
  if (opts_.show == "field") show_ = 0, user_show_ = true;
  if (opts_.show == "mesh") show_ = 1, user_show_ = true;
  if (opts_.show == "both") show_ = 2, user_show_ = true;
  const std::string p = opts_.save.empty() ? (std::filesystem::path(out_dir_) / "mesh.ply").string() : opts_.save;
  std::snprintf(path_.data(), path_.size(), "%s", p.c_str());
}

MeshPanel::~MeshPanel() = default;

void MeshPanel::sync(const std::vector<TrainingRun*>& runs) {
  entries_.resize(std::min(entries_.size(), runs.size()));
  for (size_t k = 0; k < runs.size(); ++k) {
    if (k < entries_.size() && entries_[k]->run == runs[k]) continue;
    auto e = std::make_unique<Entry>();
    e->run = runs[k];
    e->job = std::make_unique<MeshJob>(*runs[k]);
    if (k < entries_.size()) {
      entries_[k] = std::move(e);
    } else {
      entries_.push_back(std::move(e));
    }
  }
}

void MeshPanel::update(const std::vector<TrainingRun*>& runs, const std::vector<std::string>& labels, int64_t frame,
                       bool lockstep) {
  sync(runs);
  for (size_t k = 0; k < entries_.size(); ++k) {
    auto& e = *entries_[k];
    if (k < labels.size()) e.label = labels[k];
    if (!info_ready_ && k == 0 && e.job->info(info_)) {
      info_ready_ = true;
      threshold_ = static_cast<float>(std::isnan(opts_.threshold) ? info_.threshold : opts_.threshold);
    }
  }
  if (opts_.extract_at > 0 && frame == opts_.extract_at) {
    if (lockstep && !info_ready_) {  // the frame waits for the task's answer
      for (int i = 0; i < 30000 && !entries_[0]->job->info(info_); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      info_ready_ = entries_[0]->job->info(info_);
      if (info_ready_) threshold_ = static_cast<float>(std::isnan(opts_.threshold) ? info_.threshold : opts_.threshold);
    }
    extract_all();
    if (lockstep)
      for (auto& e : entries_)
        if (!e->job->wait_idle(600.0)) std::cerr << "normfield-viewer: warning: mesh extraction still running\n";
  }
  for (size_t k = 0; k < entries_.size(); ++k) {
    auto& e = *entries_[k];
    e.status = e.job->status();
    if (e.job->latest(e.mesh)) {
      if (!e.gl) e.gl = std::make_unique<MeshRenderer>(shader_dir_);
      e.gl->upload(e.mesh);
      if (!user_show_) show_ = 1;
      if (k == 0) own_camera_set_ = false;  // frame the new mesh
      std::cout << "normfield-viewer: run " << kRunNames[std::min<size_t>(k, 1)] << ": " << e.status.message
                << std::endl;
    }
  }
  if (!opts_.save.empty() && !saved_ && !entries_.empty() && entries_[0]->mesh.version > 0) {
    saved_ = true;
    save_all(opts_.save);
    if (lockstep)
      for (auto& e : entries_) e->job->wait_idle(600.0);
  }
}

void MeshPanel::extract_all() {
  MeshRequest r;
  r.resolution = resolution_;
  r.threshold = info_ready_ ? static_cast<double>(threshold_) : opts_.threshold;
  r.block = opts_.block;
  for (auto& e : entries_) e->job->start(r);
}

void MeshPanel::save_all(const std::string& path) {
  for (size_t k = 0; k < entries_.size(); ++k) {
    std::filesystem::path p(path);
    if (k > 0) p = p.parent_path() / (p.stem().string() + "-" + kRunNames[std::min<size_t>(k, 1)] + ".ply");
    entries_[k]->job->save_ply(p.string());
  }
}

std::string MeshPanel::show() const { return show_ == 0 ? "field" : (show_ == 1 ? "mesh" : "both"); }

bool MeshPanel::any_mesh() const {
  for (const auto& e : entries_)
    if (e->mesh.version > 0) return true;
  return false;
}

void MeshPanel::describe(size_t k, int64_t& vertices, int64_t& faces, int64_t& boundary_edges) const {
  vertices = faces = boundary_edges = -1;
  if (k >= entries_.size() || entries_[k]->mesh.version == 0) return;
  vertices = entries_[k]->mesh.vertices;
  faces = entries_[k]->mesh.faces;
  boundary_edges = entries_[k]->mesh.boundary_edges;
}

void MeshPanel::draw_controls(const std::vector<TrainingRun*>& runs, bool has_camera) {
  sync(runs);
  if (!ImGui::CollapsingHeader("Extract mesh", opts_.extract_at > 0 ? ImGuiTreeNodeFlags_DefaultOpen : 0)) return;
  ImGui::PushID("mesh");
  if (!info_ready_) {
    ImGui::TextDisabled("...");
    ImGui::PopID();
    return;
  }
  if (!info_.available) {
    ImGui::TextDisabled("this task has no mesh");
    ImGui::PopID();
    return;
  }
  bool busy = false;
  for (auto& e : entries_) busy = busy || e->status.busy;
  ImGui::SliderInt("resolution", &resolution_, 64, 512);
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("grid nodes per axis (memory stays bounded: slabs of %lld layers)",
                                                static_cast<long long>(opts_.block));
  const std::string label = "threshold (" + info_.quantity + ")";
  ImGui::SliderFloat(label.c_str(), &threshold_, static_cast<float>(info_.threshold_min),
                     static_cast<float>(info_.threshold_max), "%.3g",
                     info_.log_scale ? ImGuiSliderFlags_Logarithmic : ImGuiSliderFlags_None);
  if (busy) {
    for (size_t k = 0; k < entries_.size(); ++k) {
      const auto& s = entries_[k]->status;
      char txt[48];
      std::snprintf(txt, sizeof txt, "%s %.0f%%", kRunNames[std::min<size_t>(k, 1)], 100.0 * s.progress);
      ImGui::ProgressBar(static_cast<float>(s.progress), ImVec2(-1, 0), txt);
    }
    if (ImGui::Button("Cancel"))
      for (auto& e : entries_) e->job->cancel();
    ImGui::SameLine();
    ImGui::TextDisabled("training waits meanwhile");
  } else if (ImGui::Button("Extract mesh")) {
    extract_all();
  }
  if (has_camera) {
    ImGui::TextUnformatted("show");
    ImGui::SameLine();
    bool changed = ImGui::RadioButton("field", &show_, 0);
    ImGui::SameLine();
    changed |= ImGui::RadioButton("mesh", &show_, 1);
    ImGui::SameLine();
    changed |= ImGui::RadioButton("both", &show_, 2);
    user_show_ = user_show_ || changed;
  }
  ImGui::SliderFloat("normal colours", &normal_mix_, 0.0f, 1.0f, "%.2f");
  ImGui::InputText("path", path_.data(), path_.size());
  if (ImGui::Button("Save PLY")) save_all(path_.data());
  if (ImGui::IsItemHovered()) ImGui::SetTooltip("binary PLY, written atomically (run B: <stem>-B.ply)");
  for (size_t k = 0; k < entries_.size(); ++k) {
    const auto& s = entries_[k]->status;
    if (!s.message.empty()) ImGui::TextWrapped("%s: %s", kRunNames[std::min<size_t>(k, 1)], s.message.c_str());
  }
  // Tasks without a 3-D view: the preview of run A's mesh here, with an orbit camera of its own.
  if (!has_camera && !entries_.empty() && entries_[0]->gl && !entries_[0]->gl->empty()) {
    const auto& m = entries_[0]->mesh;
    const float side = std::floor(ImGui::GetContentRegionAvail().x);
    if (!own_camera_set_) {
      std::array<double, 3> c{};
      double r = 0;
      for (int a = 0; a < 3; ++a) {
        c[static_cast<size_t>(a)] = 0.5 * (m.lo[static_cast<size_t>(a)] + m.hi[static_cast<size_t>(a)]);
        r = std::max(r, 0.5 * static_cast<double>(m.hi[static_cast<size_t>(a)] - m.lo[static_cast<size_t>(a)]));
      }
      own_camera_.set_image(PreviewCamera::centred(400, 400, 400 / (2 * std::tan(0.5 * 40 * 3.14159265358979 / 180)), {}));
      own_camera_.set_orbit(c, std::max(r, 1e-3) * 5.0, 30.0, 25.0);  // the bounding sphere fits the 40 deg view
      own_camera_set_ = true;
    }
    const ImVec2 p0 = ImGui::GetCursorScreenPos();
    ImGui::InvisibleButton("mesh_preview", ImVec2(side, side));
    if (ImGui::IsItemActive() && ImGui::IsMouseDragging(ImGuiMouseButton_Left)) {
      const ImGuiIO& io = ImGui::GetIO();
      own_camera_.orbit(-io.MouseDelta.x * 0.4, io.MouseDelta.y * 0.4);
    }
    draw_mesh(0, p0.x, p0.y, side, side, own_camera_.camera(), 1);
  }
  ImGui::PopID();
}

void MeshPanel::draw_over_view(size_t k, float x0, float y0, float w, float h, const PreviewCamera& cam) {
  draw_mesh(k, x0, y0, w, h, cam, show_);
}

void MeshPanel::draw_mesh(size_t k, float x0, float y0, float w, float h, const PreviewCamera& cam, int mode) {
  if (mode == 0 || k >= entries_.size() || !entries_[k]->gl || entries_[k]->gl->empty()) return;
  const ImVec2 fb = ImGui::GetIO().DisplayFramebufferScale;
  const int pw = static_cast<int>(std::lround(w * fb.x)), ph = static_cast<int>(std::lround(h * fb.y));
  const bool overlay = mode == 2;
  const std::array<float, 4> bg = overlay ? std::array<float, 4>{0, 0, 0, 0} : std::array<float, 4>{0.16f, 0.17f, 0.19f, 1};
  entries_[k]->gl->render(cam, pw, ph, bg, overlay ? 0.65f : 1.0f, normal_mix_);
  ImGui::GetWindowDrawList()->AddImage(reinterpret_cast<ImTextureID>(static_cast<intptr_t>(entries_[k]->gl->texture())),
                                       ImVec2(x0, y0), ImVec2(x0 + w, y0 + h), ImVec2(0, 1), ImVec2(1, 0));
}

}  // namespace nf::viewer
