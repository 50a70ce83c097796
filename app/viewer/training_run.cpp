#include "app/viewer/training_run.h"

#include "app/viewer/run_state.h"

#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>

#include "datasets/image_io.h"
#include "fields/registry.h"
#include "tasks/checkpoint.h"
#include "tasks/preview.h"
#include "tasks/task_registry.h"
#include "tasks/trainer.h"

namespace nf::viewer {
namespace {

// Field construction draws from the global torch generator: two runs starting at once must not
// interleave their draws (the seed would then not reproduce the weights).
std::mutex& init_mutex() {
  static std::mutex m;
  return m;
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

const ImageBuf* Snapshot::image(const std::string& name) const {
  for (const auto& i : images)
    if (i.name == name) return &i;
  return nullptr;
}

std::string RunSpec::label() const {
  if (!checkpoint.empty()) return "checkpoint " + checkpoint.substr(checkpoint.find_last_of('/') + 1);
  if (!name.empty()) return name;
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

namespace {

void build(TrainingRun::State& s, const RunSpec& spec) {
  s.trainer.reset();
  s.field.reset();
  s.failed = false;
  s.loss_hist.clear();
  s.psnr_hist.clear();
  s.heldout.clear();
  s.last_heldout_step = -1;
  s.rate.clear();
  s.train_its = s.wall_its = 0;
  s.images.clear();
  s.scalars.clear();
  s.view_id = s.view_step = -1;
  s.view_scale = 0;
  s.view_coverage = 1;
  s.view_partial = false;
  s.progressive.reset();
  s.preview_credit = s.preview_spent_s = s.train_spent_s = 0;
  s.spec = spec;
  CheckpointMeta meta;
  if (!spec.checkpoint.empty()) meta = read_checkpoint_meta(spec.checkpoint);
  nlohmann::json tcfg = spec.task;
  if (tcfg.is_null()) {
    if (spec.checkpoint.empty()) throw std::runtime_error("no task: give a task config or a checkpoint");
    tcfg = task_config_from_stored(meta.task_config, spec.checkpoint + ": task config");
  }
  if (!s.task || tcfg != s.task_cfg) {
    s.task.reset();
    s.task = make_task(tcfg, c10::kCPU);
    s.task_cfg = tcfg;
  }
  const std::string task_name = tcfg["task"];
  const auto& entry = TaskRegistry::global().get(task_name);
  std::pair<int64_t, int64_t> dims{0, 0};
  if (entry.field_dims) dims = entry.field_dims(*s.task);
  nlohmann::json fcfg;
  if (!spec.checkpoint.empty()) {
    fcfg = meta.field_config;
  } else if (!spec.field.is_null()) {
    fcfg = spec.field;
    if (entry.field_dims) {
      fcfg["in_dim"] = dims.first;
      fcfg["out_dim"] = dims.second;
    }
  } else {
    if (!entry.field_dims) throw std::runtime_error("task " + task_name + " needs a field config (--config)");
    auto [layers, width] = parse_arch(spec.arch);
    fcfg = method_config(spec.method, dims.first, dims.second, layers, width);
  }
  {
    std::lock_guard<std::mutex> lk(init_mutex());
    at::manual_seed(spec.seed);
    s.field = make_field(fcfg);
  }
  if (entry.field_dims && (s.field->in_dim() != dims.first || s.field->out_dim() != dims.second))
    throw std::runtime_error(spec.label() + ": field maps " + std::to_string(s.field->in_dim()) + " -> " +
                             std::to_string(s.field->out_dim()) + " values, task " + task_name + " needs " +
                             std::to_string(dims.first) + " -> " + std::to_string(dims.second));
  s.task->check_field(*s.field);
  double lr = spec.lr;
  LrSchedule sched = spec.schedule;
  int64_t iters = spec.schedule_iters;
  if (!spec.checkpoint.empty() && iters <= 0 && meta.train_config.contains("lr")) {  // continue its schedule
    sched = LrSchedule::from_json(meta.train_config["lr"], spec.checkpoint + ": train config");
    const auto& it = meta.train_config.contains("iters") ? meta.train_config["iters"] : nlohmann::json();
    iters = it.is_number_integer() ? it.get<int64_t>() : 0;
    if (!(lr > 0)) lr = sched.lr;
  }
  lr = resolve_lr(lr, *s.field);
  TrainOptions o;
  o.lr = sched;
  o.lr.lr = lr;
  if (iters <= 0) o.lr.kind = "constant";
  o.iters = iters > 0 ? iters : int64_t(1) << 40;  // the trainer runs open-ended slices either way
  o.progress = false;
  o.label = "viewer " + spec.label();
  s.trainer = std::make_unique<Trainer>(s.field, *s.task, o);
  if (!spec.checkpoint.empty()) s.trainer->load(spec.checkpoint);
  s.lr = lr;
  s.first_step = s.trainer->step();
  s.has_camera = s.task->preview_info().has_camera;
  auto* st = &s;
  s.trainer->on_step = [st](const LogRecord& r) {
    st->loss_hist.push_back(static_cast<float>(r.loss));
    st->last_lr = r.lr;
    auto it = r.metrics.find("psnr");
    st->psnr_hist.push_back(static_cast<float>(it == r.metrics.end() ? 0.0 : it->second));
  };
  s.status = spec.checkpoint.empty() ? "started " + spec.label()
                                     : "loaded " + spec.checkpoint + " at step " + std::to_string(s.first_step);
  char buf[160];
  if (o.lr.kind == "constant")
    std::snprintf(buf, sizeof buf, ", lr %.3g", lr);
  else
    std::snprintf(buf, sizeof buf, ", lr %.3g %s to %.3g over %lld steps", lr, o.lr.kind.c_str(),
                  o.lr.lr_final < 0 ? lr / 10 : o.lr.lr_final, static_cast<long long>(o.iters));
  s.status += buf;
  if (o.lr.warmup > 0) s.status += ", warm-up " + std::to_string(o.lr.warmup);
}

}  // namespace

TrainingRun::TrainingRun(RunSpec spec, bool paused, int64_t steps_per_slice, RenderBudget budget)
    : spec_ui_(std::move(spec)) {
  paused_ = paused;
  steps_per_slice_ = std::max<int64_t>(1, steps_per_slice);
  render_ = budget;
  published_.label = spec_ui_.label();
  published_.status = "starting";
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

PreviewInfo TrainingRun::info() const {
  std::lock_guard<std::mutex> lk(mu_);
  return info_;
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

bool TrainingRun::wait_for_view(int64_t id, int64_t step, double timeout_s) const {
  std::unique_lock<std::mutex> lk(mu_);
  return cv_pub_.wait_for(lk, std::chrono::duration<double>(timeout_s), [&] {
    if (quit_ || published_.failed) return true;
    return published_.version > 0 && published_.ready && published_.view_id >= id && published_.step >= step &&
           !published_.images.empty();
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

void TrainingRun::set_view(const ViewRequest& view) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    view_ = view;
  }
  cv_.notify_all();
}

void TrainingRun::set_budget(const RenderBudget& budget) {
  {
    std::lock_guard<std::mutex> lk(mu_);
    render_ = budget;
  }
  cv_.notify_all();
}

void TrainingRun::set_lr(double lr) {
  post([lr](State& s) {
    if (!s.trainer || !(lr > 0)) return;
    s.trainer->set_schedule(LrSchedule{"constant", lr, -1});  // an override: this lr, no warm-up or decay
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
  post([this, spec](State& s) {
    build(s, spec);
    auto info = s.task->preview_info();
    std::lock_guard<std::mutex> lk(mu_);
    info_ = std::move(info);
  });
}

void TrainingRun::save_checkpoint(std::string path) {
  post([path](State& s) {
    if (!s.trainer) throw std::runtime_error("no field to save");
    s.trainer->save(path);
    s.status = "saved " + path + " (step " + std::to_string(s.step()) + ")";
  });
}

void TrainingRun::with_task(std::function<void(Task*, FieldImpl*, int64_t)> fn) {
  post([fn = std::move(fn)](State& s) {
    const bool ok = s.trainer && s.task;
    fn(ok ? s.task.get() : nullptr, ok ? s.field.get() : nullptr, s.step());
  });
}

void TrainingRun::export_png(std::string path) {
  post([path](State& s) {
    for (const auto& im : s.images) {
      if (im.kind != "rgb" || im.name == "truth") continue;
      auto t = at::from_blob(const_cast<float*>(im.data.data()), {im.height, im.width, im.channels}, at::kFloat);
      write_png(path, t.clamp(0, 1));
      s.status = "wrote " + path;
      return;
    }
    throw std::runtime_error("no RGB preview yet");
  });
}

void TrainingRun::publish(State& s, int64_t consumed, int64_t commands_done, bool render, double slice_s) {
  Snapshot snap;
  snap.label = s.spec.label();
  snap.failed = s.failed;
  if (s.trainer) {
    ViewRequest view;
    RenderBudget b;
    {
      std::lock_guard<std::mutex> lk(mu_);
      view = view_;
      b = render_;
    }
    if (render) {
      const bool heldout = s.step() != s.last_heldout_step &&
                           (s.spec.heldout_every <= 0 || s.last_heldout_step < 0 ||
                            s.step() - s.last_heldout_step >= s.spec.heldout_every);
      try {
        render_for_view(s, view, b, slice_s, heldout);
      } catch (const std::exception& e) {
        s.status = std::string("preview failed: ") + e.what();
        s.view_id = view.id;  // do not retry the same request forever
        s.view_step = s.step();
        s.view_scale = b.max_scale;
        s.view_partial = false;
        s.progressive.reset();
      }
    }
    snap.step = s.step();
    snap.images = s.images;
    snap.scalars = s.scalars;
    snap.view_id = s.view_id;
    snap.view_scale = s.view_scale;
    snap.view_ms = s.view_ms;
    snap.view_coverage = s.view_coverage;
    snap.heldout = s.heldout;
    snap.lr = s.loss_hist.empty() ? s.lr : s.last_lr;
    snap.params = s.field->num_parameters();
    snap.loss = s.loss_hist.empty() ? 0.0 : s.loss_hist.back();
    auto it = s.scalars.find("psnr");
    snap.psnr = it != s.scalars.end() ? it->second : (s.psnr_hist.empty() ? 0.0 : s.psnr_hist.back());
    const int64_t n = static_cast<int64_t>(s.loss_hist.size());
    snap.curve_stride = std::max<int64_t>(1, (n + 999) / 1000);
    snap.loss_curve = downsample(s.loss_hist, snap.curve_stride);
    snap.psnr_curve = downsample(s.psnr_hist, snap.curve_stride);
    snap.curve_first_step = s.first_step;
    snap.train_its = s.train_its;
    snap.wall_its = s.wall_its;
    snap.train_share = s.train_spent_s > 0 ? s.train_spent_s / (s.train_spent_s + s.preview_spent_s) : 1.0;
    snap.ready = true;
    snap.task = s.task_cfg.value("task", std::string());
  }
  snap.status = s.status;
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
  try {
    build(s, spec_ui_);
    auto info = s.task->preview_info();
    std::lock_guard<std::mutex> lk(mu_);
    info_ = std::move(info);
  } catch (const std::exception& e) {
    s.failed = true;
    std::string msg = e.what();
    if (msg.find('\n') != std::string::npos) msg = msg.substr(0, msg.find('\n'));
    s.status = "cannot start: " + msg;
    s.trainer.reset();
  }
  publish(s, 0, 0, /*render=*/true, 0);
  // Whether the thread owes the UI a preview without training: a new view, or refinement.
  auto view_pending = [&] {  // (mu_ held)
    if (!s.trainer || s.failed || !s.has_camera) return false;
    if (view_.id != s.view_id) return true;
    if (render_.fixed_scale > 0) return s.view_step != s.step();
    return !view_.moving && (s.view_scale < render_.max_scale - 1e-9 || s.view_partial) && (paused_ && budget_ == 0);
  };
  while (true) {
    std::vector<std::function<void(State&)>> cmds;
    int64_t taken = 0;
    bool view_due = false;
    {
      std::unique_lock<std::mutex> lk(mu_);
      cv_.wait(lk, [&] {
        return quit_ || !commands_.empty() || (!s.failed && s.trainer && (!paused_ || budget_ > 0)) || view_pending();
      });
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
      view_due = view_pending();
    }
    double slice_s = 0;
    if (n > 0) {
      const auto t0 = Clock::now();
      try {
        s.trainer->run_steps(n);
      } catch (const std::exception& e) {  // TrainingDiverged and anything else: stop this run
        s.failed = true;
        s.status = e.what();
      }
      const auto now = Clock::now();
      slice_s = std::chrono::duration<double>(now - t0).count();
      const double secs = s.trainer->history().empty() ? 0.0 : s.trainer->history().back().seconds;
      s.rate.emplace_back(now, s.step(), secs);
      while (s.rate.size() > 2 && std::chrono::duration<double>(now - std::get<0>(s.rate.front())).count() > 2.0)
        s.rate.pop_front();
      if (s.rate.size() >= 2) {
        const auto& [t0r, k0, c0] = s.rate.front();
        const double dt = std::chrono::duration<double>(now - t0r).count();
        const double dk = static_cast<double>(s.step() - k0);
        s.wall_its = dt > 0 ? dk / dt : 0.0;
        s.train_its = secs > c0 ? dk / (secs - c0) : 0.0;
      } else if (secs > 0) {
        s.train_its = static_cast<double>(s.trainer->history().size()) / secs;
      }
    }
    if (n > 0 || had_commands || view_due) publish(s, n, taken, /*render=*/!s.failed, slice_s);
  }
}

}  // namespace nf::viewer
