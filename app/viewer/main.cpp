// normfield-viewer: watch and steer the training of an image field live (Dear ImGui + GLFW + GLEW).
//
//   normfield-viewer                                   # built-in zone plate 128, relu+cn 4x64
//   normfield-viewer --image kodim05.png --downscale 4 --method pe+cn --arch 5x30
//   normfield-viewer --method relu+cn --compare relu   # ReLU+CN and ReLU side by side
//   normfield-viewer --zone-plate 64 --lockstep --frames 40 --screenshot shot.png   # headless (tests)
//
// Training runs on background threads (one per run); see training_run.h for the snapshot protocol.
// clang-format off
#include "app/viewer/gl_util.h"  // GLEW before GLFW
// clang-format on

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>
#include <CLI/CLI.hpp>

#include <cfloat>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <thread>

#include "app/viewer/viewer_app.h"
#include "fields/config.h"

#ifndef NORMFIELD_SHADER_DIR
#define NORMFIELD_SHADER_DIR "shaders"
#endif

namespace {

using nf::viewer::ViewerOptions;

void glfw_error(int code, const char* what) {
  std::cerr << "normfield-viewer: GLFW error " << code << ": " << what << "\n";
}

// Parses the command line (and --config) into options. Returns -1 to go on, else an exit code.
int parse(int argc, char** argv, ViewerOptions& o, int& threads) {
  CLI::App app{"normfield-viewer: watch and steer the training of an image field live"};
  std::string config;
  int64_t seed = 0;
  app.add_option("--image", o.image, "image to fit (PNG/JPEG); default: the built-in zone plate");
  app.add_option("--zone-plate", o.zone_plate, "size of the built-in zone plate (when no --image)")
      ->capture_default_str();
  app.add_option("--downscale", o.downscale, "average KxK pixel blocks of the image first")->capture_default_str();
  app.add_option("--method", o.run.method, "siren, mfn, wire, relu, relu+{bn,ln,gn,cn}, pe, pe+{bn,ln,gn,cn}")
      ->capture_default_str();
  app.add_option("--arch", o.run.arch, "hidden layers x width")->capture_default_str();
  app.add_option("--config", config, "JSON config (method, arch, lr, seed, field, coords, batch, compare)");
  app.add_option("--checkpoint", o.run.checkpoint, "continue from a checkpoint (field, weights, Adam state, step)");
  app.add_option("--lr", o.run.lr, "learning rate (default: 1e-2 with a norm layer, 2e-4 without)");
  app.add_option("--seed", seed, "weight initialisation seed")->capture_default_str();
  app.add_option("--coords", o.run.coords, "coordinate convention: reference or aspect")->capture_default_str();
  app.add_option("--batch", o.run.batch, "pixels per step (0: the full image)")->capture_default_str();
  app.add_option("--iters", o.run.max_steps, "pause when a run reaches this step (0: never)")->capture_default_str();
  app.add_option("--compare", o.compare, "method of a second run trained side by side, e.g. relu");
  app.add_option("--compare-lr", o.compare_lr, "learning rate of the second run (default: the method's)");
  app.add_option("--steps-per-frame", o.steps_per_frame, "training steps per slice (= per frame with --lockstep)")
      ->capture_default_str();
  app.add_flag("--paused", o.paused, "start paused");
  app.add_option("--threads", threads, "LibTorch CPU threads (0: default)");
  app.add_option("--shaders", o.shaders, "folder with the GLSL files")->capture_default_str();
  app.add_option("--out", o.out, "folder for checkpoints, PNGs and screenshots from the buttons")
      ->capture_default_str();
  app.add_option("--width", o.width, "window width")->capture_default_str();
  app.add_option("--height", o.height, "window height")->capture_default_str();
  app.add_option("--ui-scale", o.ui_scale, "UI scale (0: the monitor's content scale)");
  app.add_option("--fps", o.fps, "frame-rate cap (0: none)")->capture_default_str();
  app.add_option("--frames", o.frames, "exit after N frames (headless runs)");
  app.add_option("--screenshot", o.screenshot, "save a screenshot (PNG, + .json panel layout) at the last frame");
  app.add_option("--screenshot-at", o.screenshot_at, "frames to screenshot, e.g. 2,40 (files <stem>-<frame>.png)")
      ->delimiter(',');
  app.add_flag("--lockstep", o.lockstep, "every frame trains exactly --steps-per-frame steps (reproducible)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (!config.empty()) {
    auto cfg = nf::load_config_file(config);
    auto take = [&](const char* flag, const char* key, auto& var) {
      if (app.count(flag) == 0 && cfg.contains(key)) var = nf::cfg_get(cfg, key, var, config);
    };
    take("--method", "method", o.run.method);
    take("--arch", "arch", o.run.arch);
    take("--lr", "lr", o.run.lr);
    take("--seed", "seed", seed);
    take("--coords", "coords", o.run.coords);
    take("--batch", "batch", o.run.batch);
    take("--compare", "compare", o.compare);
    take("--steps-per-frame", "steps_per_frame", o.steps_per_frame);
    if (app.count("--method") == 0 && app.count("--arch") == 0 && cfg.contains("field")) {
      if (!cfg["field"].is_object()) throw nf::ConfigError(config + ": key 'field' must be an object");
      o.run.field = cfg["field"];
    }
  }
  o.run.seed = static_cast<uint64_t>(seed);
  if (!o.screenshot_at.empty()) {
    if (o.screenshot.empty()) throw std::runtime_error("--screenshot-at: needs --screenshot PATH (file name prefix)");
    int64_t last = 0;
    for (auto f : o.screenshot_at) {
      if (f < 1) throw std::runtime_error("--screenshot-at: frames count from 1, got " + std::to_string(f));
      last = std::max(last, f);
    }
    if (o.frames == 0) o.frames = last;
  } else if (!o.screenshot.empty() && o.frames <= 0) {
    throw std::runtime_error("--screenshot: needs --frames N (or --screenshot-at LIST)");
  }
  if (o.run.checkpoint.empty() && o.run.field.is_null()) {
    auto err = nf::viewer::check_method_arch(o.run.method, o.run.arch);
    if (!err.empty()) throw std::runtime_error("--method/--arch: " + err);
  }
  if (!o.compare.empty()) {
    auto err = nf::viewer::check_method_arch(o.compare, o.run.arch);
    if (!err.empty()) throw std::runtime_error("--compare: " + err);
  }
  if (o.steps_per_frame < 1) throw std::runtime_error("--steps-per-frame: must be >= 1");
  return -1;
}

int run_viewer(ViewerOptions opts) {
  // Fail early and clearly when the shaders are missing (before opening any window).
  nf::viewer::read_shader_file(opts.shaders, "fullscreen.vert");
  nf::viewer::read_shader_file(opts.shaders, "colormap.frag");
  auto target = std::make_shared<const nf::viewer::TargetImage>(
      nf::viewer::load_target(opts.image, opts.zone_plate, opts.downscale));

  glfwSetErrorCallback(glfw_error);
  if (!glfwInit()) throw std::runtime_error("cannot initialise GLFW (no display? run under xvfb-run for headless use)");
  glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
  glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 3);
  glfwWindowHint(GLFW_OPENGL_PROFILE, GLFW_OPENGL_CORE_PROFILE);
  glfwWindowHint(GLFW_OPENGL_FORWARD_COMPAT, GL_TRUE);
  glfwWindowHint(GLFW_RESIZABLE, GLFW_TRUE);
  glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);  // HiDPI: window size in screen coordinates
  GLFWwindow* window = glfwCreateWindow(opts.width, opts.height, "normfield-viewer", nullptr, nullptr);
  if (!window) {
    glfwTerminate();
    throw std::runtime_error("cannot create an OpenGL 3.3 core window (no display? run under xvfb-run)");
  }
  glfwMakeContextCurrent(window);
  const bool headless = opts.frames > 0;
  glfwSwapInterval(headless ? 0 : 1);
  glewExperimental = GL_TRUE;
  const GLenum glew = glewInit();
  if (glew != GLEW_OK) {
    glfwDestroyWindow(window);
    glfwTerminate();
    throw std::runtime_error(std::string("glewInit failed: ") +
                             reinterpret_cast<const char*>(glewGetErrorString(glew)));
  }
  while (glGetError() != GL_NO_ERROR) {
  }  // glewInit on a core profile may leave GL_INVALID_ENUM behind

  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGuiIO& io = ImGui::GetIO();
  io.IniFilename = nullptr;
  float scale = opts.ui_scale;
  if (!(scale > 0)) {
    // ImGui works in window coordinates. Where those are already scaled (macOS: framebuffer = 2x the
    // window) the content scale is applied by the framebuffer; elsewhere (X11, Windows) scale the UI.
    float sx = 1, sy = 1;
    glfwGetWindowContentScale(window, &sx, &sy);
    int ww = 1, wh = 1, fw = 1, fh = 1;
    glfwGetWindowSize(window, &ww, &wh);
    glfwGetFramebufferSize(window, &fw, &fh);
    const float fb_ratio = ww > 0 ? static_cast<float>(fw) / static_cast<float>(ww) : 1.0f;
    scale = std::max(1.0f, std::max(sx, sy) / std::max(fb_ratio, 1.0f));
  }
  ImFontConfig font;
  font.SizePixels = 13.0f * scale;
  io.Fonts->AddFontDefault(&font);
  ImGui::StyleColorsDark();
  ImGui::GetStyle().ScaleAllSizes(scale);
  ImGui_ImplGlfw_InitForOpenGL(window, true);
  ImGui_ImplOpenGL3_Init("#version 330 core");
  std::cout << "normfield-viewer: " << glGetString(GL_RENDERER) << ", OpenGL " << glGetString(GL_VERSION) << "\n";

  int code = 0;
  {
    nf::viewer::ViewerApp app(opts, target);
    auto next = std::chrono::steady_clock::now();
    while (!glfwWindowShouldClose(window) && !app.done()) {
      glfwPollEvents();
      int fb_w = 0, fb_h = 0;
      glfwGetFramebufferSize(window, &fb_w, &fb_h);
      if (fb_w <= 0 || fb_h <= 0) {  // minimised
        glfwWaitEventsTimeout(0.1);
        continue;
      }
      ImGui_ImplOpenGL3_NewFrame();
      ImGui_ImplGlfw_NewFrame();
      if (headless) io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);  // no hover tooltips in screenshots
      ImGui::NewFrame();
      app.frame();
      ImGui::Render();
      glViewport(0, 0, fb_w, fb_h);  // framebuffer pixels, not window coordinates (HiDPI)
      glClearColor(0.08f, 0.08f, 0.09f, 1.0f);
      glClear(GL_COLOR_BUFFER_BIT);
      ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
      app.after_render(fb_w, fb_h);
      glfwSwapBuffers(window);
      if (!opts.lockstep && opts.fps > 0) {  // the UI thread needs little CPU: leave it to training
        next += std::chrono::microseconds(1000000 / opts.fps);
        const auto now = std::chrono::steady_clock::now();
        if (next > now)
          std::this_thread::sleep_until(next);
        else
          next = now;
      }
    }
  }  // the app (training threads, GL objects) goes before the context
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplGlfw_Shutdown();
  ImGui::DestroyContext();
  glfwDestroyWindow(window);
  glfwTerminate();
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    ViewerOptions opts;
    opts.shaders = NORMFIELD_SHADER_DIR;
    int threads = 0;
    const int rc = parse(argc, argv, opts, threads);
    if (rc >= 0) return rc;
    opts.threads = threads;
    nf::viewer::set_torch_threads(threads);
    return run_viewer(std::move(opts));
  } catch (const std::exception& e) {
    std::cerr << "normfield-viewer: error: " << e.what() << "\n";
    return 1;
  }
}
