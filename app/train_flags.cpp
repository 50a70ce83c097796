#include "app/train_flags.h"

#include <torch/cuda.h>
#include <torch/utils.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "fields/file_io.h"
#include "fields/config.h"
#include "fields/registry.h"
#include "tasks/task_registry.h"

namespace nf::app {

namespace {
// Flag <-> protocol key (tasks/task_registry.h).
const std::pair<const char*, const char*> kProtocolFlags[] = {
    {"--method", "method"},     {"--arch", "arch"},
    {"--iters", "iters"},       {"--lr", "lr"},
    {"--lr-final", "lr_final"}, {"--schedule", "schedule"},
    {"--log-every", "log_every"}, {"--checkpoint-every", "checkpoint_every"},
    {"--seed", "seed"}};

std::string shown(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_float()) {
    char b[32];
    std::snprintf(b, sizeof b, "%g", v.get<double>());
    return b;
  }
  return v.dump();
}
}  // namespace

TrainFlags::TrainFlags(const std::string& t) { set_task(t); }

void TrainFlags::set_task(const std::string& t) {
  task = t;
  from_protocol(task_protocol(t));
}

void TrainFlags::from_protocol(const nlohmann::json& p) {
  method = p["method"];
  arch = p["arch"];
  iters = p["iters"];
  lr = p["lr"];
  lr_final = p["lr_final"];
  schedule = p["schedule"];
  log_every = p["log_every"];
  checkpoint_every = p["checkpoint_every"];
  seed = p["seed"];
}

nlohmann::json TrainFlags::given_protocol(const std::function<bool(const std::string&)>& given) const {
  const nlohmann::json now = {{"method", method},     {"arch", arch},         {"iters", iters},
                              {"lr", lr},             {"lr_final", lr_final}, {"schedule", schedule},
                              {"log_every", log_every}, {"checkpoint_every", checkpoint_every}, {"seed", seed}};
  nlohmann::json g = nlohmann::json::object();
  for (const auto& [flag, key] : kProtocolFlags)
    if (given(flag)) g[key] = now[key];
  return g;
}

void TrainFlags::add_to(CLI::App* sub, std::function<std::string(const std::string&)> resolve) {
  sub->add_option("--config", config_path, "JSON config (assets/configs/...); command-line flags override it");
  sub->add_option("--method", method, "siren, mfn, wire, relu, relu+{bn,ln,gn,cn}, pe, pe+{bn,ln,gn,cn}")
      ->capture_default_str();
  sub->add_option("--arch", arch, "hidden layers x width, e.g. 10x28")->capture_default_str();
  sub->add_option("--iters", iters, "training iterations")->capture_default_str()->check(positive_int());
  {
    auto* o = sub->add_option("--lr", lr, "learning rate (1e-2 with a norm layer, 2e-4 without, as the paper, "
                                          "unless the task or config sets it)")
                 ->check(positive_float());
    if (lr > 0) o->default_str(shown(lr));
    auto* f = sub->add_option("--lr-final", lr_final, "final learning rate for exponential/cosine (default lr/10)")
                 ->check(positive_float());
    if (lr_final > 0) f->default_str(shown(lr_final));
  }
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
  // On --help: show the config's values where it sets them (the values that will be used).
  set_help_hook(sub, [this, sub, resolve]() {
    if (config_path.empty()) return;
    std::string path = config_path;
    if (resolve) path = resolve(path);
    const auto cfg = load_config_file(path);
    const auto p = merge_protocol(task, cfg, given_protocol([sub](const std::string& f) { return sub->count(f) > 0; }),
                                  path);
    const std::string from = " (from " + std::filesystem::path(path).stem().string() + ")";
    for (const auto& [flag, key] : kProtocolFlags)
      if (sub->count(flag) == 0 && cfg.contains(key)) sub->get_option(flag)->default_str(shown(p[key]) + from);
  });
}

nlohmann::json TrainFlags::apply_config(CLI::App* sub) {
  return apply_config([sub](const std::string& flag) { return sub->count(flag) > 0; });
}

nlohmann::json TrainFlags::apply_config(const std::function<bool(const std::string&)>& given) {
  const auto cfg = config_path.empty() ? nlohmann::json::object() : load_config_file(config_path);
  from_protocol(merge_protocol(task, cfg, given_protocol(given), config_path.empty() ? "flags" : config_path));
  return cfg;
}

c10::Device TrainFlags::setup() const { return setup_device(device, threads, seed); }

c10::Device setup_device(const std::string& device, int threads, uint64_t seed) {
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
  const double base = resolve_lr(lr, method);
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
