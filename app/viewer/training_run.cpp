#include "app/viewer/training_run.h"
#include "app/viewer/spectrum_window.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>

#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "datasets/test_images.h"
#include "fields/registry.h"
#include "tasks/checkpoint.h"
#include "tasks/image_task.h"
#include "tasks/trainer.h"

namespace nf::viewer {
namespace {

using Clock = std::chrono::steady_clock;

// Field construction draws from the global torch generator: two runs starting at once must not
// interleave their draws (the seed would then not reproduce the weights).
std::mutex& init_mutex() {
  static std::mutex m;
  return m;
}

std::vector<float> to_vector(const at::Tensor& t) {
  auto c = t.to(at::kCPU, at::kFloat).contiguous();
  std::vector<float> v(static_cast<size_t>(c.numel()));
  std::memcpy(v.data(), c.data_ptr<float>(), v.size() * sizeof(float));
  return v;
}

// Means of consecutive chunks of `stride` entries of h (the last chunk may be partial).
std::vector<float> downsample(const std::vector<float>& h, int64_t stride) {
  std::vector<float> out;
  for (size_t i = 0; i < h.size(); i += static_cast<size_t>(stride)) {
    const size_t e = std::min(h.size(), i + static_cast<size_t>(stride));
    double s = 0;
    for (size_t j = i; j < e; ++j) s += h[j];
    out.push_back(static_cast<float>(s / static_cast<double>(e - i)));
  }
  return out;
}

}  // namespace

at::Tensor tukey_window(int64_t n, double alpha) {
  auto opt = at::TensorOptions().dtype(at::kDouble);
  if (n < 3) return at::ones({n}, opt);
  auto x = at::arange(n, opt).div(static_cast<double>(n - 1));  // [0, 1]
  auto edge = at::minimum(x, 1.0 - x);                          // distance to the nearer end
  auto taper = 0.5 * (1.0 - at::cos(2.0 * 3.141592653589793 * edge / alpha));
  return at::where(edge < alpha / 2, taper, at::ones_like(x));
}

TargetImage load_target(const std::string& path, int64_t zone_plate_size, int64_t downscale) {
  at::Tensor px;
  TargetImage t;
  if (path.empty()) {
    if (zone_plate_size < 2)
      throw std::runtime_error("--zone-plate: size must be >= 2, got " + std::to_string(zone_plate_size));
    px = zone_plate(zone_plate_size, 3);
    t.source = "zone-plate:" + std::to_string(zone_plate_size);
  } else {
    auto img = load_image(path);
    px = img.channels == 3 ? img.pixels : to_rgb(img.pixels);
    t.source = path;
  }
  if (downscale > 1) {
    if (px.size(0) < downscale || px.size(1) < downscale)
      throw std::runtime_error(t.source + ": --downscale " + std::to_string(downscale) + " is larger than the image");
    px = at::avg_pool2d(px.permute({2, 0, 1}).unsqueeze(0), {downscale, downscale}).squeeze(0).permute({1, 2, 0});
  }
  t.height = px.size(0);
  t.width = px.size(1);
  t.rgb = to_vector(px);
  return t;
}

std::string RunSpec::label() const {
  if (!checkpoint.empty()) return "checkpoint " + checkpoint.substr(checkpoint.find_last_of('/') + 1);
  if (!field.is_null())
    return "config " + field.value("type", std::string("?")) + " " + field.value("norm", std::string(""));
  return method + " " + arch;
}

void set_torch_threads(int n) {
  if (n > 0) at::set_num_threads(n);
}

std::vector<std::string> method_list() { return method_names(); }

std::string check_method_arch(const std::string& method, const std::string& arch) {
  try {
    auto [layers, width] = parse_arch(arch);
    method_config(method, 2, 3, layers, width);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

void write_rgb8_png(const std::string& path, const std::vector<uint8_t>& rgb, int64_t width, int64_t height) {
  auto t = at::from_blob(const_cast<uint8_t*>(rgb.data()), {height, width, 3}, at::kByte);
  write_png(path, t.to(at::kFloat).div(255.0));
}

// ------------------------------------------------------------------ training-thread state
struct TrainingRun::State {
  RunSpec spec;
  at::Tensor image;  // [H, W, 3] target
  std::unique_ptr<ImageTask> task;
  Field field;
  std::unique_ptr<Trainer> trainer;         // holds a reference to *task: reset before task
  double lr = 0;                            // the lr set for the next steps
  double last_lr = 0;                       // the lr the last step used (from its LogRecord)
  int64_t first_step = 0;                   // trainer step when the curves start (checkpoint resume)
  std::vector<float> loss_hist, psnr_hist;  // one entry per step
  at::Tensor recon;                         // [H, W, 3] clamped, from the last publish
  bool failed = false;
  std::string status;
  std::deque<std::tuple<Clock::time_point, int64_t, double>> rate;  // (wall, step, trainer seconds)
  double train_its = 0, wall_its = 0;
  int64_t step() const { return trainer ? trainer->step() : 0; }
};

namespace {

void build(TrainingRun::State& s, const RunSpec& spec, const std::string& source);

}  // namespace

TrainingRun::TrainingRun(std::shared_ptr<const TargetImage> target, RunSpec spec, bool paused, int64_t steps_per_slice)
    : target_(std::move(target)), spec_ui_(std::move(spec)) {
  paused_ = paused;
  steps_per_slice_ = std::max<int64_t>(1, steps_per_slice);
  published_.label = spec_ui_.label();
  published_.status = "starting";
  published_.height = target_->height;
  published_.width = target_->width;
  thread_ = std::thread([this] { thread_main(); });
}

TrainingRun::~TrainingRun() {
  {
    std::lock_guard<std::mutex> lk(mu_);
    quit_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool TrainingRun::latest(Snapshot& out) const {
  std::lock_guard<std::mutex> lk(mu_);
  if (published_.version <= out.version) return false;
  out = published_;
  return true;
}

int64_t TrainingRun::published_step() const {
  std::lock_guard<std::mutex> lk(mu_);
  return published_.step;
}

bool TrainingRun::flush(double timeout_s) const {
  std::unique_lock<std::mutex> lk(mu_);
  const int64_t target = posted_;
  return cv_pub_.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] { return done_ >= target; });
}

bool TrainingRun::wait_for_step(int64_t target, double timeout_s) const {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_pub_.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] {
    if (quit_) return true;
    if (published_.version == 0) return false;
    return published_.step >= target || published_.failed || (paused_ && budget_ == 0 && commands_.empty());
  });
}

void TrainingRun::post(std::function<void(State&)> cmd) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    commands_.push_back(std::move(cmd));
    ++posted_;
  }
  cv_.notify_all();
}

void TrainingRun::set_paused(bool paused) {
  post([this, paused](State& s) {
    std::lock_guard<std::mutex> lk(mu_);
    paused_ = paused;
    if (!paused) s.rate.clear();
    s.status = paused ? "paused" : "running";
  });
}

void TrainingRun::step(int64_t n) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    budget_ += std::max<int64_t>(0, n);
  }
  cv_.notify_all();
}

void TrainingRun::set_steps_per_slice(int64_t n) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    steps_per_slice_ = std::max<int64_t>(1, n);
  }
  cv_.notify_all();
}

void TrainingRun::set_lr(double lr) {
  post([lr](State& s) {
    if (!s.trainer || !(lr > 0)) return;
    s.trainer->set_lr(lr);
    s.lr = lr;
    char buf[64];
    std::snprintf(buf, sizeof buf, "learning rate %.3g from step %lld", lr, static_cast<long long>(s.step()));
    s.status = buf;
  });
}

void TrainingRun::restart(RunSpec spec) {
  spec_ui_ = spec;
  {
    std::lock_guard<std::mutex> lk(mu_);
    budget_ = 0;  // steps granted before the restart were for the old field
  }
  post([this, spec](State& s) { build(s, spec, target_->source); });
}

void TrainingRun::save_checkpoint(std::string path) {
  post([path](State& s) {
    if (!s.trainer) throw std::runtime_error("no field to save");
    s.trainer->save(path);
    s.status = "saved " + path + " (step " + std::to_string(s.step()) + ")";
  });
}

void TrainingRun::export_png(std::string path) {
  post([path](State& s) {
    if (!s.recon.defined()) throw std::runtime_error("no reconstruction yet");
    write_png(path, s.recon);
    s.status = "wrote " + path;
  });
}

namespace {

void build(TrainingRun::State& s, const RunSpec& spec, const std::string& source) {
  s.trainer.reset();
  s.task.reset();
  s.field.reset();
  s.failed = false;
  s.loss_hist.clear();
  s.psnr_hist.clear();
  s.rate.clear();
  s.train_its = s.wall_its = 0;
  s.spec = spec;
  nlohmann::json fcfg;
  CheckpointMeta meta;
  if (!spec.checkpoint.empty()) {
    meta = read_checkpoint_meta(spec.checkpoint);
    fcfg = meta.field_config;
  } else if (!spec.field.is_null()) {
    fcfg = spec.field;
    fcfg["in_dim"] = 2;
    fcfg["out_dim"] = 3;
  } else {
    auto [layers, width] = parse_arch(spec.arch);
    fcfg = method_config(spec.method, 2, 3, layers, width);
  }
  {
    std::lock_guard<std::mutex> lk(init_mutex());
    at::manual_seed(spec.seed);
    s.field = make_field(fcfg);
  }
  if (s.field->in_dim() != 2 || s.field->out_dim() != 3)
    throw std::runtime_error(spec.label() + ": field maps " + std::to_string(s.field->in_dim()) + " -> " +
                             std::to_string(s.field->out_dim()) + " values, the viewer needs 2 -> 3 (RGB)");
  double lr = spec.lr;
  if (!(lr > 0) && !spec.checkpoint.empty() && meta.train_config.contains("lr"))
    lr = meta.train_config["lr"].value("lr", -1.0);
  if (!(lr > 0)) lr = s.field->norm_layers().empty() ? 2e-4 : 1e-2;
  TrainOptions o;
  o.iters = int64_t(1) << 40;  // open-ended; the schedule is constant
  o.lr = lr_schedule_from_string("constant", lr, -1);
  o.progress = false;
  o.label = "viewer " + spec.label();
  ImageTaskOptions topts;
  topts.coords = spec.coords;
  topts.batch = spec.batch;
  topts.seed = spec.seed;
  s.task = std::make_unique<ImageTask>(s.image, topts, source);
  s.trainer = std::make_unique<Trainer>(s.field, *s.task, o);
  if (!spec.checkpoint.empty()) s.trainer->load(spec.checkpoint);
  s.lr = lr;
  s.first_step = s.trainer->step();
  auto* st = &s;
  s.trainer->on_step = [st](const LogRecord& r) {
    st->loss_hist.push_back(static_cast<float>(r.loss));
    st->last_lr = r.lr;
    auto it = r.metrics.find("psnr");
    st->psnr_hist.push_back(static_cast<float>(it == r.metrics.end() ? 0.0 : it->second));
  };
  s.status = spec.checkpoint.empty() ? "started " + spec.label()
                                     : "loaded " + spec.checkpoint + " at step " + std::to_string(s.first_step);
}

// The views and numbers of a snapshot (training thread).
void fill_snapshot(TrainingRun::State& s, Snapshot& snap) {
  c10::NoGradGuard no_grad;
  const int64_t H = snap.height, W = snap.width;
  auto pred = s.task->reconstruct(*s.field).to(at::kCPU, at::kFloat);  // [H, W, 3]
  s.recon = pred.clamp(0, 1).contiguous();
  auto diff = s.recon - s.image;  // [H, W, 3]
  // Per-channel spectra (averaging the signed error over channels first would cancel e.g. the
  // zone plate's phase-shifted channels), power averaged over channels. A Tukey window (cosine
  // taper over the outer 12.5% of each side) keeps the non-periodic image borders from smearing a
  // bright cross over the spectrum; dividing by sum(w^2) keeps the mean power = windowed MSE.
  auto e = diff.to(at::kDouble).permute({2, 0, 1});                        // [3, H, W]
  auto win = tukey_window(H).unsqueeze(1) * tukey_window(W).unsqueeze(0);  // [H, W]
  auto power = at::fft_fft2(e * win).abs().pow(2).mean(0).div(win.pow(2).sum().item<double>());
  auto db = at::fft_fftshift(power.add(1e-20).log10().mul(10.0));  // [H, W]
  snap.recon = to_vector(s.recon);
  snap.error = to_vector(diff.abs().mean(2));
  snap.spectrum = to_vector(db);
  snap.psnr = psnr(s.recon, s.image);
  snap.step = s.step();
  snap.lr = s.loss_hist.empty() ? s.lr : s.last_lr;
  snap.params = s.field->num_parameters();
  snap.loss = s.loss_hist.empty() ? 0.0 : s.loss_hist.back();
  const int64_t n = static_cast<int64_t>(s.loss_hist.size());
  snap.curve_stride = std::max<int64_t>(1, (n + 999) / 1000);
  snap.loss_curve = downsample(s.loss_hist, snap.curve_stride);
  snap.psnr_curve = downsample(s.psnr_hist, snap.curve_stride);
  snap.curve_first_step = s.first_step;
  snap.train_its = s.train_its;
  snap.wall_its = s.wall_its;
}

}  // namespace

void TrainingRun::publish(State& s, const std::string& status, int64_t consumed, int64_t commands_done) {
  Snapshot snap;
  snap.height = target_->height;
  snap.width = target_->width;
  snap.label = s.spec.label();
  snap.status = status;
  snap.failed = s.failed;
  if (s.trainer) {
    snap.step = s.step();
    try {
      fill_snapshot(s, snap);
    } catch (const std::exception& e) {
      snap.status = std::string("snapshot failed: ") + e.what();
    }
  }
  std::lock_guard<std::mutex> lk(mu_);  // budget and snapshot change together (wait_for_step)
  if (paused_) budget_ = std::max<int64_t>(0, budget_ - consumed);
  done_ = std::max(done_, commands_done);
  snap.paused = paused_;
  snap.version = published_.version + 1;
  published_ = std::move(snap);
  cv_pub_.notify_all();
}

void TrainingRun::thread_main() {
  at::init_num_threads();  // the intra-op thread count set with --threads also for this thread
  State s;
  s.spec = spec_ui_;
  s.image =
      at::from_blob(const_cast<float*>(target_->rgb.data()), {target_->height, target_->width, 3}, at::kFloat).clone();
  try {
    build(s, spec_ui_, target_->source);
  } catch (const std::exception& e) {
    s.failed = true;
    s.status = std::string("cannot start: ") + e.what();
    s.trainer.reset();
  }
  publish(s, s.status, 0, 0);
  while (true) {
    std::vector<std::function<void(State&)>> cmds;
    int64_t taken = 0;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk,
               [&] { return quit_ || !commands_.empty() || (!s.failed && s.trainer && (!paused_ || budget_ > 0)); });
      if (quit_ && commands_.empty()) return;
      cmds.swap(commands_);
      taken = posted_;
    }
    const bool had_commands = !cmds.empty();
    for (auto& c : cmds) {
      try {
        c(s);
      } catch (const std::exception& e) {
        s.status = e.what();
        if (!s.trainer) s.failed = true;
      }
    }
    int64_t n = 0;
    {
      std::lock_guard<std::mutex> lk(mu_);
      if (quit_) {  // the pending commands (a last save) ran; no more training
        done_ = taken;
        cv_pub_.notify_all();
        return;
      }
      if (!s.failed && s.trainer) n = paused_ ? std::min(budget_, steps_per_slice_) : steps_per_slice_;
      if (s.spec.max_steps > 0 && n > 0) {
        n = std::min(n, std::max<int64_t>(0, s.spec.max_steps - s.step()));
        if (n == 0 || s.step() + n >= s.spec.max_steps) {
          paused_ = true;  // pause once at max_steps; Resume continues past it
          s.spec.max_steps = 0;
          s.status = "paused at step " + std::to_string(s.step() + n) + " (--iters)";
        }
      }
    }
    if (n > 0) {
      try {
        s.trainer->run_steps(n);
      } catch (const std::exception& e) {  // TrainingDiverged and anything else: stop this run
        s.failed = true;
        s.status = e.what();
      }
      const auto now = Clock::now();
      const double secs = s.trainer->history().empty() ? 0.0 : s.trainer->history().back().seconds;
      s.rate.emplace_back(now, s.step(), secs);
      while (s.rate.size() > 2 && std::chrono::duration<double>(now - std::get<0>(s.rate.front())).count() > 2.0)
        s.rate.pop_front();
      if (s.rate.size() >= 2) {
        const auto& [t0, k0, c0] = s.rate.front();
        const double dt = std::chrono::duration<double>(now - t0).count();
        const double dk = static_cast<double>(s.step() - k0);
        s.wall_its = dt > 0 ? dk / dt : 0.0;
        s.train_its = secs > c0 ? dk / (secs - c0) : 0.0;
      } else if (secs > 0) {
        s.train_its = static_cast<double>(s.trainer->history().size()) / secs;
      }
    }
    if (n > 0 || had_commands) publish(s, s.status, n, taken);
  }
}

}  // namespace nf::viewer
