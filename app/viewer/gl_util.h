#pragma once
// OpenGL helpers for normfield-viewer: shader programs loaded from files at run time, float textures,
// the colormap pass (a single-channel texture -> RGBA through shaders/colormap.frag, rendered into
// a texture the UI shows with ImGui::Image), and reading back the framebuffer for screenshots.
// Include before GLFW (GLEW must come first).
#include <GL/glew.h>

#include <cstdint>
#include <string>
#include <vector>

namespace nf::viewer {

// Reads dir/name. Throws std::runtime_error "<dir>/<name>: shader file not found (...)" when missing.
std::string read_shader_file(const std::string& dir, const std::string& name);
// Compiles dir/vert + dir/frag and links them. Throws naming the file and the GL info log.
GLuint load_program(const std::string& dir, const std::string& vert, const std::string& frag);

// A 2-D texture of float (1 or 3 channels, uploaded from CPU buffers) or RGBA8 (render target) texels.
// Row 0 of the data is texel row 0, which ImGui::Image shows at the top.
class Texture {
 public:
  Texture() = default;
  ~Texture();
  Texture(const Texture&) = delete;
  Texture& operator=(const Texture&) = delete;
  // data: [h, w, channels] floats, channels 1 or 3.
  void upload(const float* data, int w, int h, int channels);
  GLuint id() const { return tex_; }
  int width() const { return w_; }
  int height() const { return h_; }
  bool empty() const { return tex_ == 0; }

 private:
  friend class ColormapPass;
  void allocate(int w, int h, GLenum internal, GLenum format, GLenum type, const void* data);
  GLuint tex_ = 0;
  int w_ = 0, h_ = 0, channels_ = 0;
  GLuint fbo_ = 0;  // when used as a render target
};

// A linked program (load_program) and a vertex array object, owned: the base of the viewer's GL passes.
class GlProgram {
 public:
  GlProgram(const std::string& shader_dir, const std::string& vert, const std::string& frag);
  ~GlProgram();
  GlProgram(const GlProgram&) = delete;
  GlProgram& operator=(const GlProgram&) = delete;

 protected:
  GLint uniform(const char* name) const { return glGetUniformLocation(program_, name); }
  GLuint program_ = 0, vao_ = 0;
};

enum class Colormap : int { Heat = 0, Inferno = 1, Gray = 2 };

// out(x, y) = map(clamp((src(x, y) - lo) / (hi - lo), 0, 1)) into dst (resized to src, RGBA8).
class ColormapPass : private GlProgram {
 public:
  explicit ColormapPass(const std::string& shader_dir);  // loads fullscreen.vert + colormap.frag
  // Restores the framebuffer binding, viewport, program and VAO it changes.
  void run(const Texture& src, Texture& dst, Colormap map, float lo, float hi);

 private:
  GLint u_src_ = uniform("u_src"), u_map_ = uniform("u_map"), u_lo_ = uniform("u_lo"), u_hi_ = uniform("u_hi");
};

// The default framebuffer's back buffer as RGB8, rows top to bottom: [h, w, 3].
std::vector<uint8_t> read_framebuffer(int fb_width, int fb_height);

}  // namespace nf::viewer
