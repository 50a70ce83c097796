// normfield bench-step: ms per training step (forward, MSE, backward, Adam) for every method, the
// fused norm kernels next to the reference (oracle) implementation. A benchmark, not a test.
#include <torch/cuda.h>
#include <torch/utils.h>

#include <cstdio>

#include "app/commands.h"
#include "app/train_flags.h"
#include "analysis/step_timing.h"
#include "fields/registry.h"

namespace nf::app {
namespace {

struct BenchStep {
  std::string arch = "10x28";
  std::vector<std::string> methods = method_names();
  int64_t points = 768 * 512;
  int iters = 20, warmup = 3;
  std::string device = "cpu";
  int threads = 0;
  bool reference = true;
  std::string json_out;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<BenchStep>();
  auto* sub = app.add_subcommand("bench-step", "time one training step per method (fused norms vs the reference)");
  sub->add_option("--arch", st->arch, "hidden layers x width")->capture_default_str();
  sub->add_option("--method,--methods", st->methods, "methods (default: all 13)")->delimiter(',');
  sub->add_option("--points", st->points, "batch size (default: a full 768x512 Kodak image)")->capture_default_str();
  sub->add_option("--iters", st->iters, "timed steps")->capture_default_str();
  sub->add_option("--warmup", st->warmup, "untimed steps first")->capture_default_str();
  sub->add_option("--device", st->device, "cpu or cuda")->capture_default_str();
  sub->add_option("--threads", st->threads, "CPU threads (0: LibTorch default)");
  sub->add_option("--json", st->json_out, "also write the figures as JSON");
  sub->add_flag("!--no-reference", st->reference, "skip timing the reference (unfused) CN/GN implementation");
  set_action(sub, [st]() {
    auto device = setup_device(st->device, st->threads);
    auto [L, W] = parse_arch(st->arch);
    auto x = (at::rand({st->points, 2}) * 2 - 1).to(device);
    auto y = at::rand({st->points, 3}).to(device);
    std::printf("bench-step: arch %s, %lld points, %s, %d threads, %d timed steps (+%d warm-up)\n", st->arch.c_str(),
                static_cast<long long>(st->points), device.str().c_str(), torch::get_num_threads(), st->iters,
                st->warmup);
    std::printf("%-10s %14s %18s %10s\n", "method", "ms/iter", "reference ms/iter", "x relu");
    nlohmann::json out = nlohmann::json::array();
    double relu_ms = 0;
    for (const auto& m : st->methods) {
      auto cfg = method_config(m, 2, 3, L, W);
      torch::manual_seed(0);
      auto f = make_field(cfg);
      f->to(device);
      const double ms = time_train_step(f, x, y, st->iters, st->warmup);
      double ref_ms = -1;
      if (st->reference && (cfg.value("norm", "none") == "cn" || cfg.value("norm", "none") == "gn")) {
        cfg["norm_fused"] = false;
        torch::manual_seed(0);
        auto g = make_field(cfg);
        g->to(device);
        ref_ms = time_train_step(g, x, y, st->iters, st->warmup);
      }
      if (m == "relu") relu_ms = ms;
      std::printf("%-10s %14.2f %18s %10s\n", m.c_str(), ms, ref_ms > 0 ? std::to_string(ref_ms).substr(0, 8).c_str() : "-",
                  relu_ms > 0 ? std::to_string(ms / relu_ms).substr(0, 4).c_str() : "-");
      std::fflush(stdout);
      out.push_back({{"method", m}, {"arch", st->arch}, {"points", st->points}, {"device", device.str()},
                     {"ms_per_iter", ms}, {"reference_ms_per_iter", ref_ms}, {"threads", torch::get_num_threads()},
                     {"x_relu", relu_ms > 0 ? ms / relu_ms : -1.0}});
    }
    if (!st->json_out.empty()) write_json(st->json_out, out);
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
