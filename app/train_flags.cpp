#include "app/train_flags.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "app/flag_checks.h"
#include "fields/file_io.h"
#include "fields/config.h"
#include "fields/registry.h"

namespace nf::app {

void TrainFlags::add_to(CLI::App* sub) {
  sub->add_option("--config", config_path, "JSON config (assets/configs/...); command-line flags override it");
  sub->add_option("--method", method, "siren, mfn, wire, relu, relu+{bn,ln,gn,cn}, pe, pe+{bn,ln,gn,cn}")
      ->capture_default_str();
  sub->add_option("--arch", arch, "hidden layers x width, e.g. 10x28")->capture_default_str();
  sub->add_option("--iters", iters, "training iterations")->capture_default_str()->check(positive_int());
  sub->add_option("--lr", lr, "learning rate (default: 1e-2 with a norm layer, 2e-4 without, as the paper)")
      ->check(positive_float());
  sub->add_option("--lr-final", lr_final, "final learning rate for exponential/cosine (default lr/10)")
      ->check(positive_float());
  sub->add_option("--schedule", schedule, "constant, exponential or cosine")->capture_default_str();
  sub->add_option("--log-every", log_every, "steps between metric lines")->capture_default_str()->check(positive_int());
  sub->add_option("--checkpoint-every", checkpoint_every, "steps between checkpoints (0: only at the end)")
      ->capture_default_str()
      ->check(nonnegative_int());
  sub->add_option("--out", out, "output folder")->capture_default_str();
  sub->add_flag("--resume", resume, "continue from <out>/checkpoint.pt if it exists");
  sub->add_option("--seed", seed, "random seed (weights and sampling)")->capture_default_str()->check(nonnegative_int());
  sub->add_option("--device", device, "cpu or cuda")->capture_default_str();
  sub->add_option("--threads", threads, "CPU threads (0: LibTorch default)")->check(thread_count());
  sub->add_flag("--quiet", quiet, "no progress output");
}

nlohmann::json TrainFlags::apply_config(CLI::App* sub) {
  return apply_config([sub](const std::string& flag) { return sub->count(flag) > 0; });
}

nlohmann::json TrainFlags::apply_config(const std::function<bool(const std::string&)>& given) {
  if (config_path.empty()) return nlohmann::json::object();
  auto cfg = load_config_file(config_path);
  const std::string w = config_path;
  auto take = [&](const char* flag, const char* key, auto& var) {
    if (!given(flag) && cfg.contains(key)) var = cfg_get(cfg, key, var, w);
  };
  take("--method", "method", method);
  take("--arch", "arch", arch);
  take("--iters", "iters", iters);
  take("--lr", "lr", lr);
  take("--lr-final", "lr_final", lr_final);
  take("--schedule", "schedule", schedule);
  take("--log-every", "log_every", log_every);
  take("--checkpoint-every", "checkpoint_every", checkpoint_every);
  take("--seed", "seed", seed);
  // Config values skip the flag validators: the same checks here, naming the file and key.
  if (!given("--lr") && cfg.contains("lr")) require_positive_float(lr, w + ": key 'lr'");
  if (!given("--lr-final") && cfg.contains("lr_final")) require_positive_float(lr_final, w + ": key 'lr_final'");
  if (!given("--iters") && cfg.contains("iters")) require_int_in(iters, 1, kMaxInt, w + ": key 'iters'");
  if (!given("--log-every") && cfg.contains("log_every")) require_int_in(log_every, 1, kMaxInt, w + ": key 'log_every'");
  if (!given("--checkpoint-every") && cfg.contains("checkpoint_every"))
    require_int_in(checkpoint_every, 0, kMaxInt, w + ": key 'checkpoint_every'");
  return cfg;
}

c10::Device TrainFlags::setup() const {
  if (threads > 0) torch::set_num_threads(threads);
  torch::manual_seed(seed);
  if (device == "cpu") return c10::Device(c10::kCPU);
  if (device == "cuda") {
    if (!torch::cuda::is_available()) throw std::runtime_error("--device cuda: no CUDA device available to LibTorch");
    return c10::Device(c10::kCUDA);
  }
  throw std::runtime_error("--device: unknown device '" + device + "' (valid: cpu, cuda)");
}

TrainOptions TrainFlags::train_options(const std::string& label) const {
  TrainOptions o;
  o.iters = iters;
  // lr < 0 is the "not given" default (-1); an explicit --lr / config lr was checked > 0 and finite
  // (flag_checks.h), so a bad value is refused instead of silently becoming the default.
  const double base = lr < 0 ? (method_has_norm(method) ? 1e-2 : 2e-4) : lr;
  if (!(base > 0) || !std::isfinite(base)) throw std::runtime_error("--lr: must be a finite number > 0, got " + std::to_string(lr));
  o.lr = lr_schedule_from_string(schedule, base, lr_final);
  o.log_every = log_every;
  o.checkpoint_every = checkpoint_every;
  o.out_dir = out;
  o.resume = resume;
  o.progress = !quiet;
  o.label = label;
  return o;
}

nlohmann::json field_config_for(const TrainFlags& f, const nlohmann::json& cfg, int64_t in_dim, int64_t out_dim) {
  if (cfg.contains("field")) {
    auto fc = cfg["field"];
    fc["in_dim"] = in_dim;
    fc["out_dim"] = out_dim;
    return fc;
  }
  auto [layers, width] = parse_arch(f.arch);
  return method_config(f.method, in_dim, out_dim, layers, width);
}

void write_json(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, j.dump(2) + "\n"); }

}  // namespace nf::app
