#pragma once
// One live image-fitting run for normfield-viewer: an ImageTask + Trainer stepped on its own thread in
// small slices (Trainer::run_steps). After every slice the thread publishes a Snapshot (plain copies:
// reconstruction, error map, error spectrum, curves, metrics) under a mutex; the UI thread only ever
// copies the latest snapshot and posts commands (pause, step, lr, restart, save, export), which the
// training thread executes between slices. So training never blocks the UI, and the UI never sees
// half-updated weights. This header holds no torch types (the GL/ImGui code includes it).
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

namespace nf::viewer {

// The image being fitted, as plain floats.
struct TargetImage {
  int64_t height = 0, width = 0;
  std::vector<float> rgb;  // [H, W, 3] in [0, 1], row-major
  std::string source;      // file path or "zone-plate:<N>"
};

// Loads `path` (PNG/JPEG, converted to RGB), or the built-in zone plate when path is empty.
// downscale > 1 averages downscale x downscale blocks first. Throws std::runtime_error naming the file.
TargetImage load_target(const std::string& path, int64_t zone_plate_size, int64_t downscale);

struct RunSpec {
  std::string method = "relu+cn";
  std::string arch = "4x64";
  nlohmann::json field;  // explicit field config (a --config "field" object); null: method + arch
  double lr = -1;        // < 0: the paper's default (1e-2 with a norm layer, 2e-4 without)
  uint64_t seed = 0;     // weight initialisation (and minibatch sampling)
  std::string coords = "reference";
  int64_t batch = 0;          // pixels per step, 0: the full image (paper)
  std::string checkpoint;     // when set: field config, weights, Adam state and step come from it
  int64_t max_steps = 0;      // > 0: pause when the run reaches this step
  std::string label() const;  // "relu+cn 4x64" (or the checkpoint/config name)
};

// What the UI sees of a run: a consistent copy made by the training thread after a slice.
struct Snapshot {
  int64_t version = 0;  // increases with every publish
  int64_t step = 0;     // finished training steps
  int64_t height = 0, width = 0;
  std::vector<float> recon;     // [H, W, 3] reconstruction clamped to [0, 1]
  std::vector<float> error;     // [H, W] |recon - target| averaged over channels
  std::vector<float> spectrum;  // [H, W] error power spectrum in dB, fftshifted (DC at the centre):
                                // 10*log10(mean_c |FFT2(e_c * w)|^2 / sum(w^2)), e_c the signed error
                                // of channel c, w a Tukey window. Its mean over pixels in linear units
                                // is the window-weighted MSE (Parseval), about -PSNR dB.
  // Training loss and PSNR (dB): point i is the mean over steps (first, first + stride] with
  // first = curve_first_step + i * curve_stride (the last point may cover fewer steps).
  std::vector<float> loss_curve, psnr_curve;
  int64_t curve_stride = 1, curve_first_step = 0;
  double loss = 0, psnr = 0;           // last step's loss; PSNR of the clamped reconstruction
  double train_its = 0, wall_its = 0;  // steps/s: trainer time only; wall clock incl. snapshots
  double lr = 0;                       // of the last step (the set lr before the first step)
  int64_t params = 0;
  bool paused = false;
  bool failed = false;  // the run stopped (diverged or could not start); status says why
  std::string label, status;
};

class TrainingRun {
 public:
  // Starts the training thread: builds the field (publishing step 0), then trains. paused: start
  // paused; steps_per_slice: steps between snapshots.
  TrainingRun(std::shared_ptr<const TargetImage> target, RunSpec spec, bool paused, int64_t steps_per_slice);
  ~TrainingRun();  // runs the pending commands (e.g. a save), stops after the slice, joins the thread
  TrainingRun(const TrainingRun&) = delete;
  TrainingRun& operator=(const TrainingRun&) = delete;

  // Copies the latest snapshot into out when it is newer than out.version; returns whether it did.
  bool latest(Snapshot& out) const;
  // Waits until a snapshot with step >= target is published (or the run failed, or it is paused with
  // no steps left to run); the first snapshot always counts as not yet there. False on timeout.
  bool wait_for_step(int64_t target, double timeout_s) const;
  int64_t published_step() const;
  // Waits until every command posted so far has run and its effect is published. False on timeout.
  bool flush(double timeout_s) const;

  // Commands, executed by the training thread before its next slice.
  void set_paused(bool paused);
  void step(int64_t n);  // runs n more steps (also while paused); returns at once
  void set_steps_per_slice(int64_t n);
  void set_lr(double lr);
  void restart(RunSpec spec);                       // new field (fresh weights), step 0; drops granted steps
  void save_checkpoint(std::string path);           // Trainer::save
  void export_png(std::string path);                // the current reconstruction as an 8-bit PNG
  const RunSpec& spec() const { return spec_ui_; }  // the last spec given (UI thread only)

  struct State;  // torch-side state, owned by the training thread (defined in training_run.cpp)

 private:
  void thread_main();
  void post(std::function<void(State&)> cmd);
  void publish(State& s, const std::string& status, int64_t consumed, int64_t commands_done);

  std::shared_ptr<const TargetImage> target_;
  RunSpec spec_ui_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;      // commands / budget for the thread
  mutable std::condition_variable cv_pub_;  // publishes, for wait_for_step
  std::vector<std::function<void(State&)>> commands_;
  int64_t posted_ = 0, done_ = 0;  // commands posted / run and published (flush)
  bool quit_ = false;
  bool paused_ = false;
  int64_t budget_ = 0;  // steps to run while paused
  int64_t steps_per_slice_ = 10;
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
