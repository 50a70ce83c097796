// normfield spectrum: relative error per frequency band over training, per method (paper Fig. 3).
// Fits a 1-D sum of sines with rising frequency, a 2-D zone plate, or an image (--image), with Adam,
// MSE and the full batch; writes spectrum_<method>.csv/.png, spectrum_all.png and spectrum.json.
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "datasets/image_io.h"
#include "fields/registry.h"
#include "report/plot.h"
#include "tasks/spectral.h"

namespace nf::app {
namespace {

struct SpectrumCmd {
  std::vector<std::string> methods{"relu", "relu+bn", "relu+ln", "relu+gn", "relu+cn", "pe", "pe+cn"};
  std::string signal = "1d";
  std::string image;
  int64_t size = 64;
  int64_t points = 1024;
  int64_t components = 10;
  int64_t base_cycles = 4;
  int64_t bins = 10;
  int64_t iters = 2000;
  int64_t every = 50;
  double lr = -1;
  std::string arch = "4x64";
  uint64_t seed = 0;
  double threshold = 0.2;
  int threads = 0;
  bool quiet = false;
  std::string out = "out/spectrum";
};

std::string file_name(std::string m) {
  for (auto& c : m)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '_';
  return m;
}

Command reg([](CLI::App& app) {
  auto st = std::make_shared<SpectrumCmd>();
  auto* sub = app.add_subcommand("spectrum", "relative error per frequency band during training (paper Fig. 3)");
  sub->add_option("--methods", st->methods, "comma-separated methods")->delimiter(',');
  sub->add_option("--signal", st->signal, "1d (sum of sines), 2d (zone plate, or --image)")->capture_default_str();
  sub->add_option("--image", st->image, "2d: fit this image (centre crop of --size x --size) instead of a zone plate");
  sub->add_option("--size", st->size, "2d: image side in pixels")->capture_default_str()->check(int_in(2, 1 << 15));
  sub->add_option("--points", st->points, "1d: samples in [-1, 1)")->capture_default_str();
  sub->add_option("--components", st->components, "1d: number of sines (one band each)")->capture_default_str();
  sub->add_option("--base-cycles", st->base_cycles, "1d: sine i has i * base cycles over [-1, 1) (error measured at these frequencies)")
      ->capture_default_str();
  sub->add_option("--bins", st->bins, "2d: radial frequency bands")->capture_default_str();
  sub->add_option("--iters", st->iters, "training steps per method")->capture_default_str()->check(positive_int());
  sub->add_option("--every", st->every, "record the band error every k steps")->capture_default_str()->check(positive_int());
  sub->add_option("--lr", st->lr, "learning rate (default 1e-2 with a norm, 2e-4 without, as the paper)")
      ->check(positive_float());
  sub->add_option("--arch", st->arch, "hidden layers x width")->capture_default_str();
  sub->add_option("--seed", st->seed, "weight seed")->capture_default_str()->check(nonnegative_int());
  sub->add_option("--threshold", st->threshold, "report when each band's error stays below this")
      ->capture_default_str();
  sub->add_option("--threads", st->threads, "CPU threads (0: LibTorch default)")->check(thread_count());
  sub->add_flag("--quiet", st->quiet, "no progress output");
  sub->add_option("--out", st->out, "output folder")->capture_default_str();
  set_action(sub, [st]() {
    if (st->threads > 0) torch::set_num_threads(st->threads);
    if (st->every < 1 || st->iters < 1) throw std::runtime_error("--iters and --every must be >= 1");
    auto [layers, width] = parse_arch(st->arch);
    SpectralTarget target;
    if (st->signal == "1d") {
      target = sine_sum_target(st->points, st->components, st->base_cycles, 7);
    } else if (st->signal == "2d") {
      if (!st->image.empty()) {
        auto img = load_image(st->image);
        auto px = img.channels == 1 ? img.pixels : to_rgb(img.pixels);
        const int64_t H = px.size(0), W = px.size(1), s = std::min({st->size, H, W});
        px = px.slice(0, (H - s) / 2, (H - s) / 2 + s).slice(1, (W - s) / 2, (W - s) / 2 + s).contiguous();
        target = image_target(px, std::filesystem::path(st->image).filename().string(), st->bins);
      } else {
        target = zone_plate_target(st->size, st->bins);
      }
    } else {
      throw std::runtime_error("--signal must be 1d or 2d, got '" + st->signal + "'");
    }
    const std::filesystem::path out(st->out);
    std::filesystem::create_directories(out);
    std::printf("spectrum: %s (%lld samples, %lld bands), arch %s, %lld iters, record every %lld\n",
                target.name.c_str(), static_cast<long long>(target.coords.size(0)),
                static_cast<long long>(target.n_bins), st->arch.c_str(), static_cast<long long>(st->iters),
                static_cast<long long>(st->every));
    nlohmann::json results = nlohmann::json::array();
    std::vector<HeatmapPanel> panels;
    HeatmapOptions ho;
    ho.ylabel = target.band_unit;
    ho.title = "relative error per frequency band, " + target.name + ", " + st->arch;
    for (const auto& m : st->methods) {
      SpectrumFitOptions o;
      o.iters = st->iters;
      o.every = st->every;
      o.lr = st->lr;
      o.seed = st->seed;
      o.layers = layers;
      o.width = width;
      o.progress = !st->quiet;
      auto r = fit_spectrum(m, target, o);
      // CSV: iteration, loss, band columns
      std::vector<std::string> header{"iteration", "loss"};
      for (double b : target.band_labels) {
        char h[64];
        std::snprintf(h, sizeof h, "band_%.4g", b);
        header.push_back(h);
      }
      std::vector<std::vector<double>> rows;
      for (size_t i = 0; i < r.iterations.size(); ++i) {
        std::vector<double> row{static_cast<double>(r.iterations[i]), r.loss[i]};
        row.insert(row.end(), r.band_error[i].begin(), r.band_error[i].end());
        rows.push_back(row);
      }
      write_csv(out / ("spectrum_" + file_name(m) + ".csv"), header, rows);
      HeatmapPanel p;
      char title[128];
      std::snprintf(title, sizeof title, "%s (lr %g)", m.c_str(), r.lr);
      p.title = title;
      for (auto it : r.iterations) p.x.push_back(static_cast<double>(it));
      p.y = target.band_labels;
      p.z.assign(target.n_bins, std::vector<double>(r.iterations.size()));
      for (size_t i = 0; i < r.iterations.size(); ++i)
        for (int64_t b = 0; b < target.n_bins; ++b) p.z[b][i] = r.band_error[i][b];
      // the first record (step 0) is kept; the x spacing must be even, so drop a ragged last one
      if (p.x.size() > 2 && (p.x.back() - p.x[p.x.size() - 2]) != (p.x[1] - p.x[0])) {
        p.x.pop_back();
        for (auto& row : p.z) row.pop_back();
      }
      HeatmapOptions one = ho;
      one.title = ho.title;
      plot_heatmap(out / ("spectrum_" + file_name(m) + ".png"), p, one);
      panels.push_back(p);
      auto j = r.to_json(st->threshold);
      j["band_labels"] = target.band_labels;
      results.push_back(j);
      std::printf("%-9s lr %-7g final loss %.3e  final band error:", m.c_str(), r.lr, r.loss.back());
      for (double e : r.band_error.back()) std::printf(" %.2f", e);
      std::printf("  (%.1f s)\n", r.seconds);
      std::fflush(stdout);
    }
    const bool all = plot_heatmaps(out / "spectrum_all.png", panels, ho);
    nlohmann::json doc{{"command", "spectrum"},
                       {"target", target.name},
                       {"samples", target.coords.size(0)},
                       {"shape", target.shape},
                       {"band_unit", target.band_unit},
                       {"band_labels", target.band_labels},
                       {"max_freq", target.max_freq},
                       {"arch", st->arch},
                       {"iters", st->iters},
                       {"every", st->every},
                       {"seed", st->seed},
                       {"results", results}};
    {
      std::ofstream f(out / "spectrum.json");
      if (!f) throw std::runtime_error((out / "spectrum.json").string() + ": cannot write");
      f << doc.dump(2) << "\n";
    }
    std::printf("wrote %s/{spectrum.json, spectrum_<method>.csv/.png%s}\n", st->out.c_str(),
                all ? ", spectrum_all.png" : "");
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
