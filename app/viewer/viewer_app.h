#pragma once
// The viewer's UI: one or two TrainingRuns (a second one for "compare" mode), their latest snapshots
// uploaded to GL textures, the colormap passes for the error and spectrum views, the ImGui layout
// and controls, and screenshots. main.cpp owns the window and calls frame() / after_render().
#include <array>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/viewer/gl_util.h"
#include "app/viewer/training_run.h"

namespace nf::viewer {

struct ViewerOptions {
  std::string image;  // empty: the built-in zone plate
  int64_t zone_plate = 128;
  int64_t downscale = 1;
  RunSpec run;          // run A
  std::string compare;  // method of run B ("" : no second run)
  double compare_lr = -1;
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
};

class ViewerApp {
 public:
  ViewerApp(ViewerOptions opts, std::shared_ptr<const TargetImage> target);
  ~ViewerApp();
  // One frame: lockstep stepping, snapshot upload, colormap passes, the ImGui windows.
  // Call between ImGui::NewFrame() and ImGui::Render().
  void frame();
  // After the ImGui draw data is rendered (before the swap): takes due screenshots.
  void after_render(int fb_width, int fb_height);
  bool done() const { return opts_.frames > 0 && frame_ >= opts_.frames; }
  int64_t frame_count() const { return frame_; }

 private:
  struct RunView {
    std::unique_ptr<TrainingRun> run;
    Snapshot snap;
    Texture recon, error_in, error_out, spec_in, spec_out;
    int method_idx = 0;
    std::array<char, 32> arch{};
    float lr = 0;  // UI value
    std::string ui_error;
  };
  void start_run(RunView& v, const RunSpec& spec);
  void lockstep_advance();
  void upload_and_colormap();
  void draw_controls();
  void draw_run_controls(RunView& v, const char* name);
  void draw_views();
  void draw_plots(float height);
  void take_screenshot(const std::string& path, int fb_w, int fb_h);
  std::string out_path(const std::string& name) const;
  bool shown_paused(const Snapshot& s) const;

  ViewerOptions opts_;
  std::shared_ptr<const TargetImage> target_;
  std::unique_ptr<ColormapPass> colormap_;
  Texture truth_;
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
  bool shot_requested_ = false;
  int64_t frame_ = 0;
  std::string message_;
  nlohmann::json layout_;  // panel rectangles of the current frame (framebuffer pixels)
};

}  // namespace nf::viewer
