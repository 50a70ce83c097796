// normfield ntk: empirical NTK eigenvalue statistics per method (paper Fig. 1 and Eq. 6).
// Writes ntk_stats.json, ntk_stats.csv, ntk_eigenvalues.csv and ntk_histogram.png into --out.
#include <torch/utils.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>

#include "app/commands.h"
#include "app/flag_checks.h"
#include "fields/registry.h"
#include "report/plot.h"
#include "tasks/spectral.h"

namespace nf::app {
namespace {

struct NtkCmd {
  std::vector<std::string> methods{"relu", "relu+bn", "relu+ln", "relu+gn", "relu+cn", "pe", "pe+cn"};
  int64_t points = 256;
  std::string signal = "1d";
  std::string arch = "4x64";
  uint64_t seed = 0;
  int64_t seeds = 1;
  int64_t train_steps = 0;
  double lr = -1;
  bool dbl = false;
  int threads = 0;
  std::string out = "out/ntk";
};

void write_text(const std::filesystem::path& p, const std::string& s) {
  if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
  std::ofstream f(p);
  if (!f) throw std::runtime_error(p.string() + ": cannot write");
  f << s;
}

Command reg([](CLI::App& app) {
  auto st = std::make_shared<NtkCmd>();
  auto* sub = app.add_subcommand("ntk", "empirical NTK eigenvalue statistics per method (paper Fig. 1, Eq. 6)");
  sub->add_option("--methods", st->methods, "comma-separated methods (relu, relu+bn, ..., pe+cn, siren, ...)")
      ->delimiter(',');
  sub->add_option("--points", st->points, "sample points T (2d: rounded to a square grid)")->capture_default_str();
  sub->add_option("--signal", st->signal, "1d (T points in [-1, 1)) or 2d (a sqrt(T)^2 grid in [-1, 1]^2)")
      ->capture_default_str();
  sub->add_option("--arch", st->arch, "hidden layers x width")->capture_default_str();
  sub->add_option("--seed", st->seed, "first weight seed")->capture_default_str()->check(nonnegative_int());
  sub->add_option("--seeds", st->seeds, "number of seeds (seed, seed+1, ...)")->capture_default_str()->check(positive_int());
  sub->add_option("--train-steps", st->train_steps,
                  "fit the test signal (1d: sine sum, 2d: zone plate) for k Adam steps before the NTK")
      ->capture_default_str();
  sub->add_option("--lr", st->lr, "learning rate for --train-steps (default 1e-2 with a norm, 2e-4 without)")
      ->check(positive_float());
  sub->add_flag("--double", st->dbl, "compute the Jacobian in double precision");
  sub->add_option("--threads", st->threads, "CPU threads (0: LibTorch default)")->check(thread_count());
  sub->add_option("--out", st->out, "output folder")->capture_default_str();
  set_action(sub, [st]() {
    if (st->threads > 0) torch::set_num_threads(st->threads);
    auto [layers, width] = parse_arch(st->arch);
    if (st->points < 8) throw std::runtime_error("--points must be >= 8");
    if (st->seeds < 1) throw std::runtime_error("--seeds must be >= 1");
    SpectralTarget target;
    if (st->signal == "1d") {
      const int64_t comps = std::max<int64_t>(1, std::min<int64_t>(10, st->points / 16));
      target = sine_sum_target(st->points, comps, std::max<int64_t>(1, st->points / (4 * comps + 2)), 7);
    } else if (st->signal == "2d") {
      const auto side = static_cast<int64_t>(std::lround(std::sqrt(static_cast<double>(st->points))));
      target = zone_plate_target(side, 8);
    } else {
      throw std::runtime_error("--signal must be 1d or 2d, got '" + st->signal + "'");
    }
    const int64_t T = target.coords.size(0);
    std::printf("NTK: %s, T = %lld, arch %s, seeds %llu..%llu%s\n", st->signal.c_str(), static_cast<long long>(T),
                st->arch.c_str(), static_cast<unsigned long long>(st->seed),
                static_cast<unsigned long long>(st->seed + st->seeds - 1),
                st->train_steps > 0 ? (", after " + std::to_string(st->train_steps) + " training steps").c_str()
                                    : ", at initialisation");
    std::vector<std::string> thr_names{"1e-3", "1e-2", "1e-1", "1", "10"};
    std::string csv = "method,seed,n,params,trace,mean,second_moment,variance,min,max,median,max_over_trace,"
                      "var_over_mean2,frac_gt_1e-3,frac_gt_1e-2,frac_gt_1e-1,frac_gt_1,frac_gt_10,"
                      "eq6_lower,eq6_upper,eq6_lower_holds,eq6_upper_holds,final_loss,seconds\n";
    nlohmann::json runs = nlohmann::json::array(), summary = nlohmann::json::object();
    std::vector<HistogramSeries> hist;
    std::vector<std::vector<double>> eig_cols;
    double lmin = 1e300, lmax = -1e300;
    std::printf("%-9s %10s %10s %10s %10s %9s %9s %8s %8s  eq6\n", "method", "trace", "max", "median", "mean",
                "max/tr", "var/m^2", ">1e-3", ">1");
    for (const auto& m : st->methods) {
      HistogramSeries hs;
      nlohmann::json agg{{"log10_max", 0.0}, {"log10_median", 0.0}, {"log10_trace", 0.0}, {"max_over_trace", 0.0},
                         {"var_over_mean2", 0.0}, {"frac_gt_1e-3", 0.0}, {"frac_gt_1", 0.0}};
      for (int64_t k = 0; k < st->seeds; ++k) {
        NtkRunOptions o;
        o.layers = layers;
        o.width = width;
        o.seed = st->seed + k;
        o.train_steps = st->train_steps;
        o.lr = st->lr;
        o.double_precision = st->dbl;
        auto r = run_ntk(m, target, o);
        const auto& s = r.stats;
        const double share = s.max / s.trace, nvar = s.variance / (s.mean * s.mean);
        std::printf("%-9s %10.3e %10.3e %10.3e %10.3e %9.4f %9.2f %8.3f %8.3f  %s  (seed %llu, %.1f s)\n", m.c_str(),
                    s.trace, s.max, s.median, s.mean, share, nvar, s.fraction_above[0], s.fraction_above[3],
                    s.lower_bound_holds && s.upper_bound_holds ? "ok" : "VIOLATED",
                    static_cast<unsigned long long>(r.seed), r.seconds);
        std::fflush(stdout);
        const int64_t params = r.params;
        char line[1024];
        std::snprintf(line, sizeof line,
                      "%s,%llu,%lld,%lld,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.9g,%.6g,%.6g,%.6g,%.6g,%.6g,"
                      "%.9g,%.9g,%d,%d,%.9g,%.3f\n",
                      m.c_str(), static_cast<unsigned long long>(r.seed), static_cast<long long>(s.n),
                      static_cast<long long>(params), s.trace, s.mean, s.second_moment, s.variance, s.min, s.max,
                      s.median, share, nvar, s.fraction_above[0], s.fraction_above[1], s.fraction_above[2],
                      s.fraction_above[3], s.fraction_above[4], s.lower_bound, s.upper_bound, s.lower_bound_holds,
                      s.upper_bound_holds, r.final_loss, r.seconds);
        csv += line;
        auto j = to_json(s, /*with_eigenvalues=*/k == 0);
        j["method"] = m;
        j["seed"] = r.seed;
        j["params"] = params;
        j["field"] = r.field_config;
        j["final_loss"] = r.final_loss;
        j["seconds"] = r.seconds;
        runs.push_back(j);
        const double n = static_cast<double>(st->seeds);
        agg["log10_max"] = agg["log10_max"].get<double>() + std::log10(s.max) / n;
        agg["log10_median"] = agg["log10_median"].get<double>() + std::log10(std::max(s.median, 1e-300)) / n;
        agg["log10_trace"] = agg["log10_trace"].get<double>() + std::log10(s.trace) / n;
        agg["max_over_trace"] = agg["max_over_trace"].get<double>() + share / n;
        agg["var_over_mean2"] = agg["var_over_mean2"].get<double>() + nvar / n;
        agg["frac_gt_1e-3"] = agg["frac_gt_1e-3"].get<double>() + s.fraction_above[0] / n;
        agg["frac_gt_1"] = agg["frac_gt_1"].get<double>() + s.fraction_above[3] / n;
        auto ev = s.eigenvalues.contiguous();
        const double* p = ev.data_ptr<double>();
        if (k == 0) eig_cols.emplace_back(p, p + ev.numel());
        for (int64_t i = 0; i < ev.numel(); ++i) {
          const double l = p[i] > 0 ? std::log10(p[i]) : -1e300;
          hs.values.push_back(l);
          if (p[i] > 0) lmin = std::min(lmin, l);
          lmax = std::max(lmax, l);
        }
      }
      summary[m] = agg;
      char label[256];
      std::snprintf(label, sizeof label, "%s  (max 1e%.1f, median 1e%.1f)", m.c_str(), agg["log10_max"].get<double>(),
                    agg["log10_median"].get<double>());
      hs.label = label;
      hist.push_back(std::move(hs));
    }
    const std::filesystem::path out(st->out);
    std::filesystem::create_directories(out);
    write_text(out / "ntk_stats.csv", csv);
    nlohmann::json doc{{"command", "ntk"},
                       {"signal", st->signal},
                       {"target", target.name},
                       {"points", T},
                       {"arch", st->arch},
                       {"seed", st->seed},
                       {"seeds", st->seeds},
                       {"train_steps", st->train_steps},
                       {"double_precision", st->dbl},
                       {"jacobian", "d vec(f(x)) / d theta of one joint batch forward pass, reverse mode, one "
                                    "backward per output row (docs/ntk.md)"},
                       {"mean_over_seeds", summary},
                       {"runs", runs}};
    write_text(out / "ntk_stats.json", doc.dump(2) + "\n");
    {
      std::vector<std::string> header(st->methods.begin(), st->methods.end());
      std::vector<std::vector<double>> rows(eig_cols.front().size(), std::vector<double>(eig_cols.size()));
      for (size_t c = 0; c < eig_cols.size(); ++c)
        for (size_t r = 0; r < eig_cols[c].size(); ++r) rows[r][c] = eig_cols[c][r];
      write_csv(out / "ntk_eigenvalues.csv", header, rows);
    }
    HistogramOptions ho;
    ho.lo = std::floor(std::max(lmin, lmax - 14.0));
    ho.hi = std::ceil(lmax + 0.25);
    ho.bins = static_cast<int>(std::lround((ho.hi - ho.lo) * 4));
    ho.title = "empirical NTK eigenvalues, " + st->signal + " signal, T = " + std::to_string(T) + ", " + st->arch +
               (st->train_steps > 0 ? ", after " + std::to_string(st->train_steps) + " steps" : ", at init") +
               (st->seeds > 1 ? ", " + std::to_string(st->seeds) + " seeds pooled" : "");
    const bool png = plot_histograms(out / "ntk_histogram.png", hist, ho);
    std::printf("wrote %s/{ntk_stats.json, ntk_stats.csv, ntk_eigenvalues.csv%s}\n", st->out.c_str(),
                png ? ", ntk_histogram.png" : "");
    return 0;
  });
});

}  // namespace
}  // namespace nf::app
