#pragma once
// The viewer's "Extract mesh": the panel (resolution 64-512, threshold, Extract / Cancel with
// progress, field / mesh / both, Save PLY with a path), one MeshJob per run (extraction on the run's
// training thread: training waits meanwhile, the UI keeps drawing) and the GLSL mesh preview
// (shaders/mesh.vert + mesh.frag: headlight Lambert over normal colours), drawn into an offscreen
// texture with the 3-D view's camera and shown over (or instead of) the field's picture. Tasks
// without a camera (occupancy) get the preview inside the panel, with an orbit camera of its own.
// Include before GLFW (GLEW must come first).
#include <array>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "app/viewer/gl_util.h"
#include "app/viewer/mesh_job.h"
#include "app/viewer/orbit_camera.h"

namespace nf::viewer {

// Headless / start settings (normfield-viewer flags --extract-mesh-at, --mesh-*, --save-mesh).
struct MeshOptions {
  int64_t extract_at = 0;      // > 0: extract at this frame (lockstep: the frame waits for the mesh)
  int64_t resolution = 128;    // nodes per axis (64-512 in the panel)
  double threshold = NAN;      // NaN: the task's default
  int64_t block = 64;          // slab thickness (memory, not the result)
  std::string save;            // write the extracted mesh of run A here (run B: <stem>-B.ply)
  std::string show = "";       // field, mesh, both ("": mesh once one is extracted)
};

// An indexed triangle mesh on the GPU and its render target.
class MeshRenderer : private GlProgram {
 public:
  explicit MeshRenderer(const std::string& shader_dir);  // loads mesh.vert + mesh.frag
  ~MeshRenderer();
  void upload(const MeshBuf& mesh);
  bool empty() const { return count_ == 0; }
  // Draws the mesh seen by cam (its full-resolution image scaled to w x h pixels) into the target
  // texture: background bg (alpha 0 for overlays), mesh alpha, normal colour share. Restores the
  // GL state it changes. The texture's row 0 is the bottom row (show with flipped v).
  void render(const PreviewCamera& cam, int w, int h, const std::array<float, 4>& bg, float alpha,
              float normal_mix);
  GLuint texture() const { return tex_; }

 private:
  GLuint vbo_[2] = {0, 0}, ebo_ = 0;
  GLint u_view_ = uniform("u_view"), u_proj_ = uniform("u_proj"), u_base_ = uniform("u_base"),
        u_mix_ = uniform("u_normal_mix"), u_ambient_ = uniform("u_ambient"), u_alpha_ = uniform("u_alpha");
  GLsizei count_ = 0;
  GLuint fbo_ = 0, tex_ = 0, depth_ = 0;
  int w_ = 0, h_ = 0;
};

class MeshPanel {
 public:
  MeshPanel(std::string shader_dir, MeshOptions options, std::string out_dir);
  ~MeshPanel();
  // Once per frame, before drawing: follows the runs (new / restarted runs get a new job), takes
  // finished meshes, runs the headless schedule (extract_at, save). lockstep: wait for the jobs.
  void update(const std::vector<TrainingRun*>& runs, const std::vector<std::string>& labels, int64_t frame,
              bool lockstep);
  // The "Extract mesh" section of the control panel (with the preview for tasks without a camera).
  void draw_controls(const std::vector<TrainingRun*>& runs, bool has_camera);
  // Over run k's 3-D view (at screen rectangle x0, y0, w, h): the mesh, as the show mode says.
  void draw_over_view(size_t k, float x0, float y0, float w, float h, const PreviewCamera& cam);
  // For screenshots' JSON: per run {vertices, faces, boundary_edges, step, resolution, threshold}.
  std::string show() const;
  bool any_mesh() const;
  void describe(size_t k, int64_t& vertices, int64_t& faces, int64_t& boundary_edges) const;

 private:
  struct Entry;
  void sync(const std::vector<TrainingRun*>& runs);
  void extract_all();
  void save_all(const std::string& path);
  // Renders run k's mesh (mode 1: opaque, 2: translucent over the picture) into the rectangle.
  void draw_mesh(size_t k, float x0, float y0, float w, float h, const PreviewCamera& cam, int mode);
  std::string shader_dir_, out_dir_;
  MeshOptions opts_;
  std::vector<std::unique_ptr<Entry>> entries_;
  MeshInfo info_;
  bool info_ready_ = false;
  int resolution_ = 128;
  float threshold_ = 0;
  int show_ = 1;  // 0 field, 1 mesh, 2 both
  bool user_show_ = false;
  float normal_mix_ = 0.65f;
  std::array<char, 512> path_{};
  OrbitCamera own_camera_;  // tasks without a camera
  bool own_camera_set_ = false;
  bool saved_ = false;
};

}  // namespace nf::viewer
