// Spectral analysis runs (tasks/spectral.h) and the plotting helper (report/plot.h).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/band_error.h"
#include "support/test_data.h"
#include "report/plot.h"
#include "tasks/spectral.h"

TEST(SpectralTargets, SineSumHasItsComponentsOnly) {
  auto t = nf::sine_sum_target(256, 5, 6, 3);
  ASSERT_EQ(t.coords.sizes(), (at::IntArrayRef{256, 1}));
  ASSERT_EQ(t.values.sizes(), (at::IntArrayRef{256, 1}));
  EXPECT_EQ(t.frequency_indices, (std::vector<int64_t>{6, 12, 18, 24, 30}));
  EXPECT_EQ(t.band_labels.size(), 5u);
  auto amp = at::fft_fft(t.values.view({-1}).to(at::kDouble)).abs();
  for (int64_t k : t.frequency_indices) EXPECT_NEAR(amp[k].item<double>(), 256.0 / 2 / 5, 1e-3);
  EXPECT_NEAR(amp.sum().item<double>(), 2 * 5 * 256.0 / 2 / 5, 1e-2);  // nothing elsewhere
  EXPECT_THROW(nf::sine_sum_target(64, 10, 4, 0), std::runtime_error);  // above Nyquist
  auto z = nf::zone_plate_target(32, 6);
  EXPECT_EQ(z.coords.sizes(), (at::IntArrayRef{1024, 2}));
  EXPECT_GE(z.values.min().item<double>(), 0.0);
  EXPECT_LE(z.values.max().item<double>(), 1.0);
  EXPECT_TRUE(z.frequency_indices.empty());
}

TEST(SpectralFit, RecordsBandErrorsAndLearns) {
  auto t = nf::sine_sum_target(128, 3, 2, 1);
  nf::SpectrumFitOptions o;
  o.iters = 60;
  o.every = 20;
  o.layers = 2;
  o.width = 16;
  o.progress = false;
  auto r = nf::fit_spectrum("pe+cn", t, o);
  EXPECT_EQ(r.iterations, (std::vector<int64_t>{0, 20, 40, 60}));
  ASSERT_EQ(r.band_error.size(), 4u);
  for (const auto& row : r.band_error) {
    ASSERT_EQ(row.size(), 3u);
    for (double e : row) EXPECT_TRUE(std::isfinite(e));
  }
  EXPECT_DOUBLE_EQ(r.lr, 1e-2);
  EXPECT_LT(r.loss.back(), 0.5 * r.loss.front());
  auto j = r.to_json(0.2);
  EXPECT_EQ(j["method"], "pe+cn");
  EXPECT_EQ(j["converged_at"].size(), 3u);
  // converged_at: first record after which the error stays below the threshold
  nf::SpectrumFitResult s;
  s.iterations = {0, 10, 20, 30};
  s.band_error = {{1.0, 1.0}, {0.1, 0.5}, {0.3, 0.1}, {0.1, 0.1}};
  EXPECT_EQ(s.converged_at(0.2), (std::vector<int64_t>{30, 20}));
}

TEST(SpectralNtk, StatisticsOfASmallField) {
  auto t = nf::sine_sum_target(32, 2, 2, 0);
  nf::NtkRunOptions o;
  o.layers = 2;
  o.width = 8;
  auto r = nf::run_ntk("relu+cn", t, o);
  EXPECT_EQ(r.stats.n, 32);
  EXPECT_TRUE(r.stats.lower_bound_holds && r.stats.upper_bound_holds);
  EXPECT_GT(r.params, 0);
  o.train_steps = 5;
  auto r2 = nf::run_ntk("relu+cn", t, o);
  EXPECT_GE(r2.final_loss, 0.0);
  EXPECT_NE(r2.stats.trace, r.stats.trace);
}

TEST(Plot, WritesDataScriptsAndImages) {
  auto dir = nf_test::scratch("plot");
  nf::write_csv(dir / "a.csv", {"x", "y"}, {{1, 2}, {3, 4.5}});
  std::ifstream f(dir / "a.csv");
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_EQ(ss.str(), "x,y\n1,2\n3,4.5\n");

  nf::HistogramOptions ho;
  ho.lo = -2;
  ho.hi = 2;
  ho.bins = 4;
  const bool h = nf::plot_histograms(dir / "hist.png", {{"a", {-1.5, 0.1, 0.2, 9}}, {"b_c", {1.5}}}, ho);
  std::ifstream d(dir / "hist.dat");
  std::string header, line;
  std::getline(d, header);
  std::vector<std::string> lines;
  while (std::getline(d, line)) lines.push_back(line);
  EXPECT_EQ(lines, (std::vector<std::string>{"-1.5 1 0", "-0.5 0 0", "0.5 2 0", "1.5 1 1"}));

  nf::HeatmapPanel p{"m", {0, 10, 20}, {1, 2}, {{0.1, 0.5, NAN}, {1.0, 0.9, 0.2}}};
  const bool hm = nf::plot_heatmaps(dir / "heat.png", {p, p}, nf::HeatmapOptions{});
  EXPECT_TRUE(std::filesystem::exists(dir / "heat.dat"));
  EXPECT_TRUE(hm);  // gnuplot, or the axis-less fallback
  EXPECT_TRUE(std::filesystem::exists(dir / "heat.png"));
  if (nf::gnuplot_available()) {
    EXPECT_TRUE(h);
    EXPECT_TRUE(std::filesystem::exists(dir / "hist.png"));
    EXPECT_TRUE(std::filesystem::exists(dir / "hist.gp"));
  } else {
    EXPECT_FALSE(h);
  }
  nf::HeatmapPanel bad{"bad", {0, 1}, {0}, {{1.0}}};
  EXPECT_THROW(nf::plot_heatmap(dir / "bad.png", bad, nf::HeatmapOptions{}), std::runtime_error);
}
