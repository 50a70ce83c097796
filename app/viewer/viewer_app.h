#pragma once
// The viewer's UI: one or two TrainingRuns (a second one for "compare" mode) of any task, their
// latest snapshots (the task's preview images) uploaded to GL textures, the colormap passes, the
// ImGui layout and controls, the free camera of 3-D tasks, and screenshots. Two layouts: a grid of
// the preview images (tasks without a camera: image, CT, MRI, occupancy) and a 3-D view (tasks with
// a camera: NeRF), both with curves underneath. main.cpp owns the window and calls frame() /
// after_render().
#include <array>
#include <cmath>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/viewer/gl_util.h"
#include "app/viewer/mesh_view.h"
#include "app/viewer/orbit_camera.h"
#include "app/viewer/training_run.h"

namespace nf::viewer {

struct ViewerOptions {
  RunSpec run;                   // run A
  RunSpec compare_run;           // run B when compare is set
  bool compare = false;
  std::string compare_method;    // coordinate tasks: the method of the compare toggle's run B
  int64_t steps_per_frame = 10;  // steps per slice (and per frame in lockstep)
  bool paused = false;
  std::string shaders;             // folder with fullscreen.vert, colormap.frag
  std::string out = "viewer-out";  // checkpoints, PNGs, screenshots from the buttons
  int width = 1280, height = 720;
  float ui_scale = 0;      // 0: the monitor's content scale
  int fps = 60;            // frame cap for interactive use (0: none)
  int64_t frames = 0;      // > 0: exit after this many frames (headless runs, tests)
  std::string screenshot;  // with frames / screenshot_at: where screenshots go
  std::vector<int64_t> screenshot_at;
  bool lockstep = false;  // each frame runs exactly steps_per_frame steps (deterministic)
  int threads = 0;        // LibTorch intra-op threads (0: default)
  // 3-D view
  std::string view = "rgb";  // render mode: the name of a preview image (rgb, depth, acc, error)
  int snap = -1;             // start at dataset camera k (-1: the orbit of the training cameras)
  double yaw = NAN, pitch = NAN, radius = NAN, fov = NAN;  // start camera overrides (degrees)
  double spin = 0;           // yaw added every frame (degrees; turntables, tests)
  RenderBudget budget;       // dynamic resolution (fixed_scale: --preview-scale)
  MeshOptions mesh;          // Extract mesh (app/viewer/mesh_view.h)
};

class ViewerApp {
 public:
  explicit ViewerApp(ViewerOptions opts);
  ~ViewerApp();
  // One frame: lockstep stepping, snapshot upload, colormap passes, the ImGui windows.
  // Call between ImGui::NewFrame() and ImGui::Render().
  void frame();
  // After the ImGui draw data is rendered (before the swap): takes due screenshots.
  void after_render(int fb_width, int fb_height);
  bool done() const { return opts_.frames > 0 && frame_ >= opts_.frames; }
  int64_t frame_count() const { return frame_; }

 private:
  struct Tex {
    Texture raw, mapped;  // uploaded floats; colour-mapped (scalar kinds)
  };
  struct RunView {
    std::unique_ptr<TrainingRun> run;
    Snapshot snap;
    std::map<std::string, std::unique_ptr<Tex>> tex;
    std::vector<std::pair<double, float>> its;  // (step, steps/s) per snapshot
    int method_idx = 0;
    std::array<char, 32> arch{};
    float lr = 0;             // UI value: the lr of the last step until the user sets one
    bool lr_override = false; // the user set the lr (it overrides the run's schedule)
    bool lr_editing = false;  // the lr slider is being dragged
    std::string ui_error;
  };
  void start_run(RunView& v, const RunSpec& spec);
  RunSpec partner_spec() const;  // run B for the compare toggle
  void lockstep_advance();
  void upload_and_colormap();
  void init_info();
  void camera_input();
  void send_view(bool moving);
  bool has_camera() const { return info_ready_ && info_.has_camera; }
  void draw_controls();
  void draw_camera_controls();
  void draw_run_controls(RunView& v, const char* name);
  void draw_views();
  void draw_grid_views(float height);
  void draw_3d_views(float height);
  void draw_plots(float height);
  const Texture* shown(RunView& v, const std::string& name);
  void take_screenshot(const std::string& path, int fb_w, int fb_h);
  std::string out_path(const std::string& name) const;
  bool shown_paused(const Snapshot& s) const;

  ViewerOptions opts_;
  std::unique_ptr<ColormapPass> colormap_;
  std::vector<std::unique_ptr<RunView>> runs_;
  std::vector<std::string> methods_;
  bool paused_ = false;  // UI state of "Pause all"
  bool compare_ = false;
  int compare_method_ = 0;
  int steps_per_frame_ = 10;
  float error_scale_ = 0.1f;           // error view: full colour at this mean abs error
  bool auto_error_scale_ = true;       // error_scale_ = 2 x the largest mean error of the runs
  float spec_lo_ = -50, spec_hi_ = 0;  // spectrum view range in dB
  int error_map_ = 0, spec_map_ = 1;   // Colormap
  // 3-D view
  bool info_ready_ = false;
  PreviewInfo info_;
  OrbitCamera camera_;
  int dataset_view_ = -1;  // the camera sits on dataset camera k (until moved)
  std::string view_ = "rgb";
  int64_t view_id_ = 0;
  bool dragging_ = false;
  bool view_hovered_ = false, drag_active_ = false;  // mouse over a 3-D view (last frame); a drag began there
  bool frustums_ = true;
  float frame_ms_ = 50, train_share_ = 0.7f, max_scale_ = 1.0f;
  bool shot_requested_ = false;
  int64_t frame_ = 0;
  std::string message_;
  nlohmann::json layout_;  // panel rectangles of the current frame (framebuffer pixels)
  std::unique_ptr<MeshPanel> mesh_;  // Extract mesh
  std::vector<TrainingRun*> run_ptrs() const;
};

}  // namespace nf::viewer
