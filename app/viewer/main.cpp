// normfield-viewer: watch and steer the training of a field live (Dear ImGui + GLFW + GLEW), for
// every task of the task registry (tasks/task_registry.h).
//
//   normfield-viewer                                   # built-in zone plate 128, relu+cn 4x64
//   normfield-viewer --image kodim05.png --downscale 4 --method pe+cn --arch 5x30
//   normfield-viewer --method relu+cn --compare relu   # ReLU+CN and ReLU side by side
//   normfield-viewer --task nerf --scene $NORMFIELD_DATA/nerf_synthetic/lego_100 --config mipnerf_small_cn \
//                    --compare mipnerf_small          # NeRF: free camera, both runs from the same camera
//   normfield-viewer --task neus --scene out/scenes/bunny --config neus_small_cn --compare neus_small
//                                                      # NeuS: rgb, normals, depth from a free camera
//   normfield-viewer --checkpoint out/nerf/checkpoint.pt   # look at a trained model (paused)
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
#include <filesystem>
#include <iostream>
#include <thread>

#include "app/nerf_setup.h"
#include "app/neus_setup.h"
#include "app/train_flags.h"
#include "app/viewer/viewer_app.h"
#include "fields/config.h"
#include "fields/mipnerf.h"
#include "tasks/checkpoint.h"
#include "tasks/task_registry.h"

#ifndef NORMFIELD_SHADER_DIR
#define NORMFIELD_SHADER_DIR "shaders"
#endif

namespace {

using nf::viewer::RunSpec;
using nf::viewer::ViewerOptions;
using json = nlohmann::json;

void glfw_error(int code, const char* what) {
  std::cerr << "normfield-viewer: GLFW error " << code << ": " << what << "\n";
}

struct Flags {
  std::string task, image, scene, config, compare, checkpoint, method = "relu+cn", arch = "4x64", coords;
  int64_t zone_plate = 128, downscale = 1, batch = 0, seed = 0, heldout_every = -1;
  double lr = -1, compare_lr = -1;
  std::vector<std::string> set;
  double preview_ms = 50, train_share = 0.7, max_quality = 1, preview_scale = 0;
};

// "key=value" -> {key: value} (value parsed as JSON, else a string). Errors name the flag.
json parse_sets(const std::vector<std::string>& sets) {
  json j = json::object();
  for (const auto& s : sets) {
    const auto eq = s.find('=');
    if (eq == std::string::npos || eq == 0) throw std::runtime_error("--set " + s + ": expected KEY=VALUE");
    const auto v = s.substr(eq + 1);
    j[s.substr(0, eq)] = json::accept(v) ? json::parse(v) : json(v);
  }
  return j;
}

// The learning-rate schedule and its length the CLI trains this config with (`nerf train`,
// `neus train`, fit-*), from the merged protocol p (merge_protocol): the CLI's own job builders decide,
// so the viewer's runs follow the same warm-up and decay.
void set_cli_schedule(RunSpec& r, const std::string& task, const std::string& cfg_path, const json& cfg, const json& p,
                      const std::string& scene) {
  nf::app::TrainFlags tf(task);
  tf.config_path = cfg_path;
  tf.method = p["method"];
  tf.arch = p["arch"];
  tf.iters = p["iters"];
  tf.lr = p["lr"];
  tf.lr_final = p["lr_final"];
  tf.schedule = p["schedule"];
  tf.seed = p["seed"];
  tf.quiet = true;
  json c = cfg;  // without the viewer's own keys
  c.erase("steps_per_frame");
  c.erase("compare");
  nf::TrainOptions o;
  if (task == "nerf")
    o = nf::app::make_nerf_job(tf, c, scene, {}).train;
  else if (task == "neus")
    o = nf::app::make_neus_job(tf, c, scene, {}).train;
  else
    o = tf.train_options(task);
  r.schedule = o.lr;
  r.schedule_iters = o.iters;
}

// The run specs (A and, with --compare, B) from the flags, the config and the task's protocol
// (tasks/task_registry.h merge_protocol: flag > config > task default).
void make_specs(const CLI::App& app, Flags& f, ViewerOptions& o) {
  auto given = [&](const char* flag) { return app.count(flag) > 0; };
  std::string task = f.task;
  if (!f.checkpoint.empty() && task.empty() && !given("--image") && !given("--zone-plate") && f.scene.empty()) {
    o.run.checkpoint = f.checkpoint;
    o.run.task = nullptr;  // the checkpoint's
    o.run.lr = f.lr;
    o.paused = o.paused || !given("--train");
    task = nf::read_checkpoint_meta(f.checkpoint).task_config.value("task", std::string("image"));
    const bool scene_task = !nf::TaskRegistry::global().get(task).field_dims;
    o.run.heldout_every = f.heldout_every > 0 ? f.heldout_every : (scene_task ? 50 : 0);
    if (scene_task && !given("--steps-per-frame")) o.steps_per_frame = 1;
    return;
  }
  // --scene alone: a DTU-style folder (cameras_sphere.npz) is NeuS's, else a Blender scene (NeRF).
  if (task.empty())
    task = f.scene.empty() ? "image" : std::filesystem::exists(std::filesystem::path(f.scene) / "cameras_sphere.npz") ? "neus" : "nerf";
  const auto& entry = nf::TaskRegistry::global().get(task);  // a clear error for an unknown task
  // Scene tasks (nerf, neus): the field comes whole from a config in assets/configs/<task>, the data
  // is --scene; one slice per frame, the held-out PSNR every 50 steps.
  const bool scene_task = !entry.field_dims;
  const bool nerf = task == "nerf";
  std::string cfg_path = f.config;
  if (scene_task)
    cfg_path = nf::app::resolve_task_config(f.config.empty() ? nf::task_protocol(task)["config"].get<std::string>() : f.config,
                                            entry.config_block)
                   .string();
  const json cfg = cfg_path.empty() ? json::object() : nf::load_config_file(cfg_path);
  json given_p = json::object();
  if (given("--method")) given_p["method"] = f.method;
  if (given("--arch")) given_p["arch"] = f.arch;
  if (given("--lr")) given_p["lr"] = f.lr;
  if (given("--seed")) given_p["seed"] = f.seed;
  json given_iters = json::object();  // the schedules' length, as the CLI's --iters
  if (given("--iters") && o.run.max_steps > 0) given_iters["iters"] = o.run.max_steps;
  given_p.update(given_iters);
  json base = nf::default_protocol();  // the viewer's own defaults for image fits: relu+cn 4x64
  if (!scene_task && !given("--method") && !cfg.contains("method")) given_p["method"] = f.method;
  if (!scene_task && !given("--arch") && !cfg.contains("arch")) given_p["arch"] = f.arch;
  const json p = nf::merge_protocol(task, cfg, given_p, cfg_path.empty() ? "flags" : cfg_path);
  RunSpec& r = o.run;
  r.method = p["method"];
  r.arch = p["arch"];
  r.lr = p["lr"];
  r.seed = p["seed"];
  r.checkpoint = f.checkpoint;
  json tgiven = parse_sets(f.set);
  if (scene_task) {
    if (f.scene.empty()) throw std::runtime_error("--task " + task + ": needs --scene DIR");
    nf::app::require_scene(f.scene);
    tgiven[entry.source_key] = f.scene;
    tgiven["seed"] = r.seed;
    if (!cfg.contains("field") && !nerf) throw nf::ConfigError(cfg_path + ": missing key 'field'");
    r.field = cfg.contains("field") ? cfg["field"] : nf::mipnerf_config("small");
    r.name = std::filesystem::path(cfg_path).stem().string();
  } else if (task == "image") {
    tgiven["image"] = f.image.empty() ? "zone-plate:" + std::to_string(f.zone_plate) : f.image;
    if (f.downscale > 1) tgiven["downscale"] = f.downscale;
    tgiven["rgb"] = true;
    tgiven["seed"] = r.seed;
    if (given("--coords")) tgiven["coords"] = f.coords;
    if (given("--batch")) tgiven["batch"] = f.batch;
    if (!given("--method") && !given("--arch") && cfg.contains("field")) {
      if (!cfg["field"].is_object()) throw nf::ConfigError(cfg_path + ": key 'field' must be an object");
      r.field = cfg["field"];
    }
  } else if (!given("--method") && !given("--arch") && cfg.contains("field")) {
    r.field = cfg["field"];
  }
  r.task = nf::task_config_from(task, cfg, tgiven);
  set_cli_schedule(r, task, cfg_path, cfg, p, f.scene);
  r.heldout_every = f.heldout_every > 0 ? f.heldout_every : (scene_task ? 50 : 0);
  if (scene_task && !given("--steps-per-frame")) o.steps_per_frame = cfg.value("steps_per_frame", int64_t(1));
  if (!given("--steps-per-frame") && cfg.contains("steps_per_frame"))
    o.steps_per_frame = nf::cfg_get(cfg, "steps_per_frame", o.steps_per_frame, cfg_path);
  std::string compare = f.compare;
  if (compare.empty() && !scene_task && cfg.contains("compare")) compare = nf::cfg_get<std::string>(cfg, "compare", "", cfg_path);
  if (r.checkpoint.empty() && r.field.is_null()) {
    auto err = nf::viewer::check_method_arch(r.method, r.arch);
    if (!err.empty()) throw std::runtime_error("--method/--arch: " + err);
  }
  if (compare.empty()) return;
  RunSpec b = r;
  b.checkpoint.clear();
  if (scene_task) {  // another config: its field and lr, run A's task config (both render the same rays)
    const auto path = nf::app::resolve_task_config(compare, entry.config_block).string();
    const json c2 = nf::load_config_file(path);
    const json p2 = nf::merge_protocol(task, c2, given_iters, path);
    if (!c2.contains("field") && !nerf) throw nf::ConfigError(path + ": missing key 'field'");
    b.field = c2.contains("field") ? c2["field"] : nf::mipnerf_config("small");
    b.lr = f.compare_lr > 0 ? f.compare_lr : p2["lr"].get<double>();
    b.name = std::filesystem::path(path).stem().string();
    set_cli_schedule(b, task, path, c2, p2, f.scene);  // its own config's schedule
  } else {
    auto err = nf::viewer::check_method_arch(compare, r.arch);
    if (!err.empty()) throw std::runtime_error("--compare: " + err);
    b.method = compare;
    b.field = nullptr;
    b.lr = f.compare_lr;
    o.compare_method = compare;
  }
  o.compare_run = b;
  o.compare = true;
}

// Parses the command line (and --config) into options. Returns -1 to go on, else an exit code.
int parse(int argc, char** argv, ViewerOptions& o, int& threads) {
  CLI::App app{"normfield-viewer: watch and steer the training of a field live (image, NeRF, CT, MRI, occupancy)"};
  Flags f;
  app.add_option("--task", f.task, "image, nerf, neus, ct, mri, occupancy (default with --scene: neus for a DTU-style "
                                   "folder, else nerf; the checkpoint's with --checkpoint; else image)");
  app.add_option("--image", f.image, "image to fit (PNG/JPEG); default: the built-in zone plate");
  app.add_option("--zone-plate", f.zone_plate, "size of the built-in zone plate (when no --image)")
      ->capture_default_str();
  app.add_option("--downscale", f.downscale, "average KxK pixel blocks of the image first")->capture_default_str();
  app.add_option("--scene", f.scene, "NeRF: Blender scene folder (transforms_*.json); NeuS: DTU-style folder "
                                     "(image/, mask/, cameras_sphere.npz)");
  app.add_option("--method", f.method, "siren, mfn, wire, relu, relu+{bn,ln,gn,cn}, pe, pe+{bn,ln,gn,cn}")
      ->capture_default_str();
  app.add_option("--arch", f.arch, "hidden layers x width")->capture_default_str();
  app.add_option("--config", f.config,
                 "JSON config; NeRF / NeuS: a name in assets/configs/nerf (default mipnerf_small) / assets/configs/neus "
                 "(default neus_small) or a path; flags override it");
  app.add_option("--set", f.set, "task config KEY=VALUE, e.g. --set batch=256 --set n_coarse=16 (repeatable)");
  app.add_option("--checkpoint", f.checkpoint, "open a checkpoint: field, weights, Adam state, step, task (paused)");
  app.add_flag("--train", "with --checkpoint: continue training at once");
  app.add_option("--lr", f.lr, "learning rate (default: the config's, else 1e-2 with a norm layer, 2e-4 without)");
  app.add_option("--seed", f.seed, "weight initialisation seed")->capture_default_str();
  app.add_option("--coords", f.coords, "image: coordinate convention, reference or aspect");
  app.add_option("--batch", f.batch, "image: pixels per step (0: the full image)");
  app.add_option("--iters", o.run.max_steps, "pause when a run reaches this step (0: never)")->capture_default_str();
  app.add_option("--compare", f.compare, "a second run side by side: a method (image) or a NeRF / NeuS config");
  app.add_option("--compare-lr", f.compare_lr, "learning rate of the second run (default: its method's/config's)");
  app.add_option("--steps-per-frame", o.steps_per_frame,
                 "training steps per slice (= per frame with --lockstep; default 10, NeRF 1)");
  app.add_flag("--paused", o.paused, "start paused");
  app.add_option("--threads", threads, "LibTorch CPU threads (0: default)");
  app.add_option("--view", o.view, "3-D view mode: rgb, depth, acc, error (NeuS also normals)")->capture_default_str();
  app.add_option("--snap", o.snap, "3-D: start at dataset camera K (train views first, then test)");
  app.add_option("--yaw", o.yaw, "3-D: start orbit azimuth (degrees)");
  app.add_option("--pitch", o.pitch, "3-D: start orbit elevation (degrees; default: the training cameras')");
  app.add_option("--radius", o.radius, "3-D: start orbit distance (default: the training cameras')");
  app.add_option("--fov", o.fov, "3-D: horizontal field of view in degrees (default: the dataset's)");
  app.add_option("--spin", o.spin, "3-D: turn the camera by this many degrees every frame");
  app.add_option("--preview-ms", f.preview_ms, "3-D: target preview time while the camera moves")->capture_default_str();
  app.add_option("--train-share", f.train_share, "3-D: share of a run's time for training")->capture_default_str();
  app.add_option("--max-quality", f.max_quality, "3-D: resolution factor refinement stops at")->capture_default_str();
  app.add_option("--preview-scale", f.preview_scale, "3-D: fixed resolution factor (no dynamic resolution; lockstep)");
  app.add_option("--heldout-every", f.heldout_every, "held-out PSNR every N steps (default: NeRF 50, else every preview)");
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
  app.add_option("--extract-mesh-at", o.mesh.extract_at, "extract a mesh at frame N (lockstep: the frame waits for it)");
  app.add_option("--mesh-resolution", o.mesh.resolution, "Extract mesh: grid nodes per axis")->capture_default_str();
  app.add_option("--mesh-threshold", o.mesh.threshold, "Extract mesh: level (default: the task's; NeRF density 10)");
  app.add_option("--mesh-block", o.mesh.block, "Extract mesh: slab thickness (memory, not the result)")
      ->capture_default_str();
  app.add_option("--save-mesh", o.mesh.save, "write the first extracted mesh here (PLY; run B: <stem>-B.ply)");
  app.add_option("--mesh-show", o.mesh.show, "3-D view once a mesh exists: field, mesh or both (default mesh)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  make_specs(app, f, o);
  o.budget.frame_s = f.preview_ms / 1000.0;
  o.budget.train_share = std::clamp(f.train_share, 0.02, 1.0);
  o.budget.max_scale = std::clamp(f.max_quality, 0.01, 1.0);
  o.budget.fixed_scale = std::clamp(f.preview_scale, 0.0, 1.0);
  if (!o.screenshot_at.empty()) {
    if (o.screenshot.empty()) throw std::runtime_error("--screenshot-at: needs --screenshot PATH (file name prefix)");
    int64_t last = 0;
    for (auto fr : o.screenshot_at) {
      if (fr < 1) throw std::runtime_error("--screenshot-at: frames count from 1, got " + std::to_string(fr));
      last = std::max(last, fr);
    }
    if (o.frames == 0) o.frames = last;
  } else if (!o.screenshot.empty() && o.frames <= 0) {
    throw std::runtime_error("--screenshot: needs --frames N (or --screenshot-at LIST)");
  }
  if (o.steps_per_frame < 1) throw std::runtime_error("--steps-per-frame: must be >= 1");
  if (o.mesh.resolution < 2 || o.mesh.resolution > 1024)
    throw std::runtime_error("--mesh-resolution: must be in [2, 1024], got " + std::to_string(o.mesh.resolution));
  if (o.mesh.block < 1) throw std::runtime_error("--mesh-block: must be >= 1");
  if (o.mesh.extract_at < 0) throw std::runtime_error("--extract-mesh-at: frames count from 1");
  if (o.mesh.extract_at > 0 && o.frames > 0 && o.mesh.extract_at > o.frames)
    throw std::runtime_error("--extract-mesh-at: frame " + std::to_string(o.mesh.extract_at) + " is after the last frame (" +
                             std::to_string(o.frames) + ")");
  if (!o.mesh.show.empty() && o.mesh.show != "field" && o.mesh.show != "mesh" && o.mesh.show != "both")
    throw std::runtime_error("--mesh-show: must be field, mesh or both, got '" + o.mesh.show + "'");
  return -1;
}

int run_viewer(ViewerOptions opts) {
  // Fail early and clearly when the shaders are missing (before opening any window).
  nf::viewer::read_shader_file(opts.shaders, "fullscreen.vert");
  nf::viewer::read_shader_file(opts.shaders, "colormap.frag");
  nf::viewer::read_shader_file(opts.shaders, "mesh.vert");
  nf::viewer::read_shader_file(opts.shaders, "mesh.frag");

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
    nf::viewer::ViewerApp app(opts);
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
    std::string msg = e.what();  // c10::Error appends a backtrace after the first line
    if (msg.find('\n') != std::string::npos) msg = msg.substr(0, msg.find('\n'));
    std::cerr << "normfield-viewer: error: " << msg << "\n";
    return 1;
  }
}
