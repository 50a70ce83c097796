// normfield demo: the embedded default. Fits a built-in zone plate (no data needed) with relu,
// relu+cn, pe and pe+cn, writes a side-by-side PNG and a PSNR table.
#include <torch/utils.h>

#include <fstream>
#include <iostream>
#include <sstream>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "app/train_flags.h"
#include "datasets/image_io.h"
#include "datasets/test_images.h"
#include "fields/registry.h"
#include "tasks/image_fit.h"

namespace nf::app {
namespace {

struct Demo {
  int64_t size = 96;
  int64_t iters = 500;
  std::string arch = "4x64";
  std::vector<std::string> methods{"relu", "relu+cn", "pe", "pe+cn"};
  std::string out = "out/demo";
  std::string device = "cpu";
  uint64_t seed = 0;
  bool quiet = false;
};

Command reg([](CLI::App& app) {
  auto st = std::make_shared<Demo>();
  auto* sub = app.add_subcommand("demo", "fit a built-in zone plate with relu, relu+cn, pe, pe+cn (no data needed)");
  sub->add_option("--size", st->size, "zone plate size in pixels")->capture_default_str()->check(int_in(7, 1 << 15));
  sub->add_option("--iters", st->iters, "iterations per method")->capture_default_str()->check(positive_int());
  sub->add_option("--arch", st->arch, "hidden layers x width")->capture_default_str();
  sub->add_option("--methods", st->methods, "methods to compare")->delimiter(',');
  sub->add_option("--out", st->out, "output folder")->capture_default_str();
  sub->add_option("--device", st->device, "cpu or cuda")->capture_default_str();
  sub->add_option("--seed", st->seed, "random seed")->capture_default_str()->check(nonnegative_int());
  sub->add_flag("--quiet", st->quiet, "no progress output");
  set_action(sub, [st]() {
    auto device = setup_device(st->device, 0, st->seed);
    TrainFlags flags;
    auto image = zone_plate(st->size);
    auto [layers, width] = parse_arch(st->arch);
    std::vector<at::Tensor> panels{image};
    nlohmann::json results = nlohmann::json::array();
    std::ostringstream table;
    // The table is each trained field's final evaluation (whole image, after the last step, 8-bit
    // quantised as the paper); the progress lines show the training PSNR of each step's forward pass
    // (before that step's update, unquantised), so their last value differs slightly.
    table << "| method | arch | iters | final PSNR (dB) | final SSIM | ms/iter |\n|---|---|---|---|---|---|\n";
    for (const auto& m : st->methods) {
      torch::manual_seed(st->seed);
      flags.method = m;
      flags.iters = st->iters;
      flags.out = st->out + "/" + m;
      flags.quiet = st->quiet;
      flags.log_every = std::max<int64_t>(1, st->iters / 5);
      auto opts = flags.train_options("demo " + m);
      auto r = fit_image(image, method_config(m, 2, 3, layers, width), opts, ImageTaskOptions{}, device,
                         "zone_plate(" + std::to_string(st->size) + ")");
      panels.push_back(r.reconstruction.clamp(0, 1));
      auto j = r.metrics;
      j["method"] = m;
      results.push_back(j);
      char line[256];
      std::snprintf(line, sizeof line, "| %s | %s | %lld | %.2f | %.4f | %.1f |\n", m.c_str(), st->arch.c_str(),
                    static_cast<long long>(st->iters), j["psnr"].get<double>(), j["ssim"].get<double>(),
                    j["ms_per_iter"].get<double>());
      table << line;
    }
    write_png(st->out + "/comparison.png", side_by_side(panels));
    write_json(st->out + "/results.json", results);
    std::ofstream(st->out + "/results.md") << "Zone plate " << st->size << "x" << st->size
                                           << " (comparison.png, left to right: ground truth, " << [&] {
                                                std::string s;
                                                for (auto& m : st->methods) s += (s.empty() ? "" : ", ") + m;
                                                return s;
                                              }() << ")\n\nFinal evaluation after the last step (PSNR/SSIM on 8-bit "
                                              "quantised values).\n\n"
                                           << table.str();
    std::string order = "ground truth";
    for (const auto& m : st->methods) order += ", " + m;
    std::cout << "\nFinal evaluation of each trained field (whole image after the last step, PSNR/SSIM on 8-bit\n"
                 "quantised values as the paper; the progress lines above show the training PSNR before the\n"
                 "last update, unquantised, so their last value differs slightly):\n\n"
              << table.str() << "\nwrote " << st->out << "/comparison.png (left to right: " << order << ")\n"
              << "      " << st->out << "/results.md (this table), " << st->out << "/results.json\n"
              << "      " << st->out << "/<method>/ (reconstruction.png, error.png, metrics.jsonl, checkpoint.pt)\n";
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
