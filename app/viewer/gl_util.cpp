#include "app/viewer/gl_util.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace nf::viewer {

std::string read_shader_file(const std::string& dir, const std::string& name) {
  const auto path = (std::filesystem::path(dir) / name).string();
  std::ifstream in(path);
  if (!in)
    throw std::runtime_error(path +
                             ": shader file not found (the viewer loads its GLSL from the source tree's "
                             "shaders/ folder; pass --shaders DIR)");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {

// The info log of a shader (glGetShaderiv, glGetShaderInfoLog) or program (glGetProgram...) on one line.
template <class GetIv, class GetLog>
std::string info_log(GLuint id, GetIv get_iv, GetLog get_log) {
  GLint len = 0;
  get_iv(id, GL_INFO_LOG_LENGTH, &len);
  std::string log(static_cast<size_t>(std::max(len, 1)), '\0');
  get_log(id, len, nullptr, log.data());
  while (!log.empty() && (log.back() == '\n' || log.back() == '\0')) log.pop_back();
  for (auto& c : log)
    if (c == '\n') c = ' ';
  return log;
}

// Throws `what` + the info log (and deletes id) unless status (GL_COMPILE_STATUS, GL_LINK_STATUS) is set.
template <class GetIv, class GetLog, class Delete>
void require_ok(GLuint id, GLenum status, GetIv get_iv, GetLog get_log, Delete del, const std::string& what) {
  GLint ok = 0;
  get_iv(id, status, &ok);
  if (ok) return;
  const std::string log = info_log(id, get_iv, get_log);
  del(id);
  throw std::runtime_error(what + log);
}

GLuint compile(GLenum kind, const std::string& source, const std::string& path) {
  GLuint s = glCreateShader(kind);
  const char* src = source.c_str();
  glShaderSource(s, 1, &src, nullptr);
  glCompileShader(s);
  require_ok(s, GL_COMPILE_STATUS, glGetShaderiv, glGetShaderInfoLog, glDeleteShader, path + ": GLSL compile error: ");
  return s;
}

}  // namespace

GLuint load_program(const std::string& dir, const std::string& vert, const std::string& frag) {
  const auto vpath = (std::filesystem::path(dir) / vert).string();
  const auto fpath = (std::filesystem::path(dir) / frag).string();
  GLuint vs = compile(GL_VERTEX_SHADER, read_shader_file(dir, vert), vpath);
  GLuint fs = 0;
  try {
    fs = compile(GL_FRAGMENT_SHADER, read_shader_file(dir, frag), fpath);
  } catch (...) {
    glDeleteShader(vs);
    throw;
  }
  GLuint p = glCreateProgram();
  glAttachShader(p, vs);
  glAttachShader(p, fs);
  glLinkProgram(p);
  glDeleteShader(vs);
  glDeleteShader(fs);
  require_ok(p, GL_LINK_STATUS, glGetProgramiv, glGetProgramInfoLog, glDeleteProgram,
             vpath + " + " + fpath + ": GLSL link error: ");
  return p;
}

Texture::~Texture() {
  if (fbo_) glDeleteFramebuffers(1, &fbo_);
  if (tex_) glDeleteTextures(1, &tex_);
}

void Texture::allocate(int w, int h, GLenum internal, GLenum format, GLenum type, const void* data) {
  if (!tex_) {
    glGenTextures(1, &tex_);
    glBindTexture(GL_TEXTURE_2D, tex_);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_LINEAR);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);  // crisp pixels when zoomed
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_S, GL_CLAMP_TO_EDGE);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_WRAP_T, GL_CLAMP_TO_EDGE);
  } else {
    glBindTexture(GL_TEXTURE_2D, tex_);
  }
  glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
  if (w == w_ && h == h_ && data) {
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, format, type, data);
  } else {
    glTexImage2D(GL_TEXTURE_2D, 0, static_cast<GLint>(internal), w, h, 0, format, type, data);
  }
  w_ = w;
  h_ = h;
  glBindTexture(GL_TEXTURE_2D, 0);
}

void Texture::upload(const float* data, int w, int h, int channels) {
  if (channels != 1 && channels != 3) throw std::runtime_error("Texture::upload: channels must be 1 or 3");
  if (channels != channels_ && tex_) {  // format change: start over
    glDeleteTextures(1, &tex_);
    tex_ = 0;
    w_ = h_ = 0;
  }
  channels_ = channels;
  if (channels == 1)
    allocate(w, h, GL_R32F, GL_RED, GL_FLOAT, data);
  else
    allocate(w, h, GL_RGB32F, GL_RGB, GL_FLOAT, data);
}

GlProgram::GlProgram(const std::string& shader_dir, const std::string& vert, const std::string& frag)
    : program_(load_program(shader_dir, vert, frag)) {
  glGenVertexArrays(1, &vao_);  // core profile: a draw needs a bound VAO even without attributes
}

GlProgram::~GlProgram() {
  if (vao_) glDeleteVertexArrays(1, &vao_);
  if (program_) glDeleteProgram(program_);
}

ColormapPass::ColormapPass(const std::string& shader_dir) : GlProgram(shader_dir, "fullscreen.vert", "colormap.frag") {}

void ColormapPass::run(const Texture& src, Texture& dst, Colormap map, float lo, float hi) {
  if (src.empty()) return;
  if (dst.w_ != src.w_ || dst.h_ != src.h_ || dst.tex_ == 0 || dst.channels_ != 4) {
    if (dst.fbo_) glDeleteFramebuffers(1, &dst.fbo_);
    if (dst.tex_) glDeleteTextures(1, &dst.tex_);
    dst.fbo_ = dst.tex_ = 0;
    dst.w_ = dst.h_ = 0;
    dst.allocate(src.w_, src.h_, GL_RGBA8, GL_RGBA, GL_UNSIGNED_BYTE, nullptr);
    dst.channels_ = 4;
    glGenFramebuffers(1, &dst.fbo_);
    glBindFramebuffer(GL_FRAMEBUFFER, dst.fbo_);
    glFramebufferTexture2D(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_TEXTURE_2D, dst.tex_, 0);
    if (glCheckFramebufferStatus(GL_FRAMEBUFFER) != GL_FRAMEBUFFER_COMPLETE)
      throw std::runtime_error("colormap pass: framebuffer incomplete");
    glBindFramebuffer(GL_FRAMEBUFFER, 0);
  }
  GLint prev_fbo = 0, prev_program = 0, prev_vao = 0, prev_tex = 0, prev_active = 0;
  GLint vp[4];
  glGetIntegerv(GL_FRAMEBUFFER_BINDING, &prev_fbo);
  glGetIntegerv(GL_CURRENT_PROGRAM, &prev_program);
  glGetIntegerv(GL_VERTEX_ARRAY_BINDING, &prev_vao);
  glGetIntegerv(GL_ACTIVE_TEXTURE, &prev_active);
  glGetIntegerv(GL_VIEWPORT, vp);
  const GLboolean blend = glIsEnabled(GL_BLEND), scissor = glIsEnabled(GL_SCISSOR_TEST),
                  depth = glIsEnabled(GL_DEPTH_TEST);
  glActiveTexture(GL_TEXTURE0);
  glGetIntegerv(GL_TEXTURE_BINDING_2D, &prev_tex);

  glBindFramebuffer(GL_FRAMEBUFFER, dst.fbo_);
  glViewport(0, 0, dst.w_, dst.h_);
  glDisable(GL_BLEND);
  glDisable(GL_SCISSOR_TEST);
  glDisable(GL_DEPTH_TEST);
  glUseProgram(program_);
  glBindTexture(GL_TEXTURE_2D, src.tex_);
  glUniform1i(u_src_, 0);
  glUniform1i(u_map_, static_cast<int>(map));
  glUniform1f(u_lo_, lo);
  glUniform1f(u_hi_, hi);
  glBindVertexArray(vao_);
  glDrawArrays(GL_TRIANGLES, 0, 3);

  glBindVertexArray(static_cast<GLuint>(prev_vao));
  glBindTexture(GL_TEXTURE_2D, static_cast<GLuint>(prev_tex));
  glActiveTexture(static_cast<GLenum>(prev_active));
  glUseProgram(static_cast<GLuint>(prev_program));
  glBindFramebuffer(GL_FRAMEBUFFER, static_cast<GLuint>(prev_fbo));
  glViewport(vp[0], vp[1], vp[2], vp[3]);
  if (blend) glEnable(GL_BLEND);
  if (scissor) glEnable(GL_SCISSOR_TEST);
  if (depth) glEnable(GL_DEPTH_TEST);
}

std::vector<uint8_t> read_framebuffer(int w, int h) {
  std::vector<uint8_t> flipped(static_cast<size_t>(w) * h * 3), out(flipped.size());
  glBindFramebuffer(GL_READ_FRAMEBUFFER, 0);
  glReadBuffer(GL_BACK);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, flipped.data());
  const size_t row = static_cast<size_t>(w) * 3;
  for (int y = 0; y < h; ++y)  // GL rows run bottom to top
    std::copy_n(flipped.data() + static_cast<size_t>(h - 1 - y) * row, row, out.data() + static_cast<size_t>(y) * row);
  return out;
}

}  // namespace nf::viewer
