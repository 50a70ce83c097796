#pragma once
// One live training run for normfield-viewer, of any task in the task registry (tasks/task_registry.h):
// a Task + field + Trainer stepped on its own thread in small slices (Trainer::run_steps). After a
// slice (or a new view request) the thread renders the task's preview (Task::preview: named images
// and scalars) and publishes a Snapshot (plain copies) under a mutex; the UI thread only copies the
// latest snapshot and posts commands (pause, step, lr, restart, save, export) and view requests
// (camera, render mode), which the thread executes between slices. So training never blocks the UI,
// the UI never sees half-updated weights, and nothing task-specific lives here.
//
// Dynamic resolution (tasks with a camera, e.g. NeRF): a preview costs about c seconds per pixel
// (measured, running mean). While training, a preview gets (1 - share) / share of the slice's time;
// while the camera moves, the target frame time; the resolution follows (scale = sqrt(budget / (c W H))).
// While training with a still camera, the view becomes the full-resolution image built progressively
// from interleaved pixel subsets, a few per slice, each from the field at that moment
// (app/viewer/progressive.h); a camera move restarts at low resolution. When the camera and the
// weights are still (paused), each further preview doubles the scale up to max_scale (after a
// progressive view: max_scale at once). In lockstep mode (fixed_scale) the scale is fixed.
// This header holds no torch types (the GL/ImGui code includes it).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "tasks/lr_schedule.h"
#include "tasks/preview_info.h"

namespace nf {
class Task;
class FieldImpl;
}  // namespace nf

namespace nf::viewer {

struct RunSpec {
  nlohmann::json task;        // task config for make_task; null: the checkpoint's
  nlohmann::json field;       // field config (coordinate tasks: in/out dims are set); null: method + arch
  std::string method = "relu+cn";
  std::string arch = "4x64";
  double lr = -1;             // <= 0: the checkpoint's, else the paper's rule (resolve_lr)
  // The learning-rate schedule of the CLI for this config (`nerf train`, `neus train`, fit-*: kind,
  // lr_final, warm-up; its initial lr is `lr` above) over schedule_iters steps (their --iters; past
  // them it stays at its final value). schedule_iters <= 0: constant at lr (warm-up kept), or with
  // `checkpoint` the checkpoint's schedule. The lr control (TrainingRun::set_lr) overrides it.
  LrSchedule schedule;
  int64_t schedule_iters = 0;
  uint64_t seed = 0;          // weight initialisation (and minibatch sampling)
  std::string checkpoint;     // when set: field config, weights, Adam state and step come from it
  int64_t max_steps = 0;      // > 0: pause when the run reaches this step
  int64_t heldout_every = 0;  // > 0: held-out PSNR every n steps (0: at every preview)
  std::string name;           // label, e.g. the config's name ("" : method + arch)
  std::string label() const;  // "relu+cn 4x64", the name, or "checkpoint <file>"
};

// One named preview image as plain floats.
struct ImageBuf {
  std::string name, kind;  // kind: rgb, unit, error, db (tasks/preview.h)
  int64_t width = 0, height = 0, channels = 0;
  std::vector<float> data;  // [height, width, channels], row-major
};

// A view request from the UI (latest wins).
struct ViewRequest {
  int64_t id = 0;           // increases with every change
  bool use_camera = false;  // tasks with a camera
  PreviewCamera camera;     // full resolution
  int dataset_view = -1;    // the camera is dataset camera k (error view)
  bool moving = false;      // the user is moving the camera (dynamic resolution: cheap previews)
};

// Dynamic-resolution settings.
struct RenderBudget {
  double frame_s = 0.05;     // target preview time while the camera moves
  double train_share = 0.7;  // share of the run thread's time for training while it trains
  double max_scale = 1.0;    // progressive refinement stops here
  double fixed_scale = 0;    // > 0: always this scale (lockstep, tests)
};

// What the UI sees of a run: a consistent copy made by the training thread.
struct Snapshot {
  int64_t version = 0;  // increases with every publish
  int64_t step = 0;     // finished training steps
  std::vector<ImageBuf> images;  // the task's preview, in its order
  std::map<std::string, double> scalars;
  // Training loss and PSNR: point i is the mean over steps (first, first + stride] with
  // first = curve_first_step + i * curve_stride (the last point may cover fewer steps).
  std::vector<float> loss_curve, psnr_curve;
  int64_t curve_stride = 1, curve_first_step = 0;
  std::vector<std::pair<int64_t, float>> heldout;  // (step, held-out PSNR)
  double loss = 0, psnr = 0;           // last step's loss; the preview's psnr, else the last step's
  double train_its = 0, wall_its = 0;  // steps/s: trainer time only; wall clock incl. previews
  double train_share = 1;              // measured since the run started: training / (training + preview) time
  double lr = 0;                       // of the last step (the set lr before the first step)
  int64_t params = 0;
  int64_t view_id = 0;           // the view request the images answer
  double view_scale = 1;         // their resolution factor
  double view_ms = 0;            // their render time (progressive: this slice's phases)
  double view_coverage = 1;      // share of their pixels rendered at view_scale; below 1 while a
                                 // progressive view (training, still camera) has phases not rendered yet
  bool paused = false;
  bool failed = false;  // the run stopped (diverged or could not start); status says why
  bool ready = false;   // the task and field are built (info() is valid)
  std::string task, label, status;
  const ImageBuf* image(const std::string& name) const;  // nullptr when absent
};

class TrainingRun {
 public:
  // Starts the training thread: builds the task and field (publishing step 0), then trains.
  // paused: start paused; steps_per_slice: steps between previews.
  TrainingRun(RunSpec spec, bool paused, int64_t steps_per_slice, RenderBudget budget = {});
  ~TrainingRun();  // runs the pending commands (e.g. a save), stops after the slice, joins the thread
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  // Copies the latest snapshot into out when it is newer than out.version; returns whether it did.
  bool latest(Snapshot& out) const;
  // What the task's previews offer (valid once a snapshot with ready is published).
  PreviewInfo info() const;
  // Waits until a snapshot with step >= target is published (or the run failed, or it is paused with
  // no steps left to run); the first snapshot always counts as not yet there. False on timeout.
  bool wait_for_step(int64_t target, double timeout_s) const;
  // Waits until a snapshot answering view request id (or a later one) at step >= step is published.
  bool wait_for_view(int64_t id, int64_t step, double timeout_s) const;
  int64_t published_step() const;
  // Waits until every command posted so far has run and its effect is published. False on timeout.
  bool flush(double timeout_s) const;

  // Commands, executed by the training thread before its next slice.
  void set_paused(bool paused);
  void step(int64_t n);  // runs n more steps (also while paused); returns at once
  void set_steps_per_slice(int64_t n);
  void set_lr(double lr);  // a constant lr from the next step on, instead of the schedule
  void restart(RunSpec spec);              // new field (fresh weights), step 0; drops granted steps
  void save_checkpoint(std::string path);  // Trainer::save
  void export_png(std::string path);       // the first RGB preview image but the truth, 8-bit PNG
  void set_view(const ViewRequest& view);  // latest wins
  // Runs fn(task, field, step) on the training thread between slices (training waits meanwhile),
  // e.g. a mesh extraction (app/viewer/mesh_job.h); task and field are null while the run has no
  // field (it could not start). Exceptions become the run's status.
  void with_task(std::function<void(Task*, FieldImpl*, int64_t)> fn);
  void set_budget(const RenderBudget& budget);
  const RunSpec& spec() const { return spec_ui_; }  // the last spec given (UI thread only)

  struct State;  // torch-side state, owned by the training thread (defined in training_run.cpp)

 private:
  void thread_main();
  void post(std::function<void(State&)> cmd);
  void publish(State& s, int64_t consumed, int64_t commands_done, bool render, double slice_s);

  RunSpec spec_ui_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;      // commands / budget / views for the thread
  mutable std::condition_variable cv_pub_;  // publishes, for wait_for_step
  std::vector<std::function<void(State&)>> commands_;
  int64_t posted_ = 0, done_ = 0;  // commands posted / run and published (flush)
  bool quit_ = false;
  bool paused_ = false;
  int64_t budget_ = 0;  // steps to run while paused
  int64_t steps_per_slice_ = 10;
  ViewRequest view_;
  RenderBudget render_;
  PreviewInfo info_;
  Snapshot published_;
  std::thread thread_;
};

// LibTorch intra-op threads for all runs (n <= 0: leave the default).
void set_torch_threads(int n);
// Method names for the UI's method list (fields/registry.h).
std::vector<std::string> method_list();
// Writes an 8-bit RGB image (rows top to bottom, [h, w, 3] bytes) as PNG (nf::write_png).
void write_rgb8_png(const std::string& path, const std::vector<uint8_t>& rgb, int64_t width, int64_t height);
// Validates a method name and an arch string ("4x64"); returns an error message or "".
std::string check_method_arch(const std::string& method, const std::string& arch);

}  // namespace nf::viewer
