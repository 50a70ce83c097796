// What a NeRF user sees during and after a run, on the shipped lego_100 views (tests/data: 9 train,
// 8 test views at 100 px): periodic held-out PSNR + preview images that leave training unchanged,
// the warning when eval_skip leaves fewer views than eval_max_views, the list of evaluated views,
// upscaled comparison images, and readable batch-eval run folders.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <fstream>
#include <string>

#include "datasets/image_io.h"
#include "fields/mipnerf.h"
#include "fields/registry.h"
#include "support/cli.h"
#include "support/scene_tasks.h"
#include "support/shipped_data.h"
#include "support/test_data.h"
#include "tasks/fit.h"
#include "tasks/nerf_task.h"
#include "tasks/progress.h"

namespace fs = std::filesystem;

namespace {

fs::path lego() { return nf_test::shipped_data() / "nerf_synthetic" / "lego_100"; }

int count_lines(const fs::path& p) {
  std::ifstream in(p);
  int n = 0;
  for (std::string l; std::getline(in, l);) n += !l.empty();
  return n;
}

// 3 steps of a tiny CN mip-NeRF on lego at 50 px, optionally previewing every step.
nf::FitResult tiny_run(const fs::path& out, int64_t preview_every) {
  auto o = nf_test::nerf_options(lego().string(), /*samples=*/4, /*batch=*/64, /*seed=*/3);
  o.downscale = 2;
  o.eval_max_views = 1;
  o.preview_every = preview_every;
  nf::NerfTask task(o, c10::kCPU);
  auto cfg = nf::mipnerf_config("small", "cn");
  cfg["width"] = 16;
  cfg["view_width"] = 8;
  nf::TrainOptions t;
  t.iters = 3;
  t.lr = nf::lr_schedule_from_string("constant", 5e-3, -1);
  t.out_dir = out;
  t.progress = false;
  torch::manual_seed(0);
  return nf::fit_task(task, cfg, t, c10::kCPU, {},
                      [&](nf::FieldImpl& f, int64_t step) { task.after_step(f, step, t); });
}

}  // namespace

TEST(NerfMonitor, PreviewsAreWrittenAndLeaveTrainingUnchanged) {
  const auto with = nf_test::scratch("nerf_preview_on"), without = nf_test::scratch("nerf_preview_off");
  const auto a = tiny_run(with, 1), b = tiny_run(without, 0);
  // Steps 1 and 2 previewed; the last step is the final evaluation's.
  EXPECT_TRUE(fs::exists(with / "preview" / "step_000001.png"));
  EXPECT_TRUE(fs::exists(with / "preview" / "step_000002.png"));
  EXPECT_FALSE(fs::exists(with / "preview" / "step_000003.png"));
  EXPECT_FALSE(fs::exists(without / "preview"));
  EXPECT_EQ(count_lines(with / "preview" / "preview.jsonl"), 2);
  std::ifstream in(with / "preview" / "preview.jsonl");
  std::string first;
  std::getline(in, first);
  const auto j = nlohmann::json::parse(first);
  EXPECT_EQ(j["step"].get<int64_t>(), 1);
  EXPECT_GT(j["psnr"].get<double>(), 3.0);
  EXPECT_EQ(j["resolution"].get<std::string>(), "50x50");
  EXPECT_NE(j["view"].get<std::string>().find("r_0.png"), std::string::npos) << j.dump();
  // GT | render at 50 px, upscaled to >= 200 rows.
  EXPECT_GE(nf::load_image(with / "preview" / "step_000001.png").pixels.size(0), 200);
  // Identical training: same losses at every step, same final metrics.
  ASSERT_EQ(a.history.size(), b.history.size());
  for (size_t k = 0; k < a.history.size(); ++k) EXPECT_DOUBLE_EQ(a.history[k].loss, b.history[k].loss) << k;
  EXPECT_DOUBLE_EQ(a.metrics["psnr"].get<double>(), b.metrics["psnr"].get<double>());
  // A fresh run into the same folder restarts the log instead of appending to it.
  tiny_run(with, 1);
  EXPECT_EQ(count_lines(with / "preview" / "preview.jsonl"), 2);
}

TEST(NerfMonitor, CliWarnsWhenSkipLeavesFewerViewsAndListsThem) {
  ASSERT_TRUE(nf_test::have_cli()) << "normfield not built";
  const auto out = nf_test::scratch("nerf_skip_warning");
  const std::string base = "nerf train --scene " + lego().string() +
                           " --config mipnerf_small --iters 2 --batch 32 --n-coarse 4 --n-fine 4 --quiet --out ";
  // mipnerf_small: eval_max_views 8, eval_skip 25 (a 200-view split); the shipped split has 8 views.
  auto r = nf_test::run_cli(base + (out / "a").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("only 1 test view evaluated, fewer than eval_max_views 8 (the split has 8 views; "
                          "eval_skip 25"),
            std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("evaluated test views: r_0 (1 of 8 in the split; eval_skip 25, eval_max_views 8)"),
            std::string::npos)
      << r.output;
  const auto res = nlohmann::json::parse(nf_test::slurp(out / "a" / "results.json"));
  EXPECT_NE(res["eval_warning"].get<std::string>().find("eval_skip 25"), std::string::npos);
  // Comparison images of 100 px renders are upscaled (nearest) to >= 300 rows.
  EXPECT_EQ(nf::load_image(out / "a" / "compare_000.png").pixels.size(0), 300);
  EXPECT_EQ(nf::load_image(out / "a" / "render_000.png").pixels.size(0), 100);
  // --skip 1: all 8 views, no warning.
  auto all = nf_test::run_cli(base + (out / "b").string() + " --skip 1");
  ASSERT_EQ(all.code, 0) << all.output;
  EXPECT_EQ(all.output.find("warning:"), std::string::npos) << all.output;
  EXPECT_NE(all.output.find("evaluated test views: r_0 r_25 r_50 r_75 r_100 r_125 r_150 r_175 (8 of 8"),
            std::string::npos)
      << all.output;
}

TEST(NerfMonitor, BatchEvalRunFoldersAreReadableAndMontagesUpscaled) {
  ASSERT_TRUE(nf_test::have_cli()) << "normfield not built";
  const auto out = nf_test::scratch("nerf_batch_folders");
  auto r = nf_test::run_cli("nerf batch-eval --scenes " + lego().string() +
                            " --configs mipnerf_small --iters 1 --batch 32 --n-coarse 4 --n-fine 4 --max-views 1"
                            " --quiet --out " + out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto run = out / "runs" / "iters-1.batch-32.n_coarse-4.n_fine-4.views-1" / "lego_100" / "mipnerf_small_s0";
  EXPECT_TRUE(fs::exists(run / "results.json")) << r.output;
  EXPECT_NE(r.output.find("runs/iters-1.batch-32.n_coarse-4.n_fine-4.views-1/<scene>"), std::string::npos) << r.output;
  const auto montage = nf::load_image(out / "montage_lego_100x100.png").pixels;
  EXPECT_EQ(montage.size(0), 300);
  // The ground-truth tile is the native image, upscaled 3x like the rest: its top-left pixel is white.
  EXPECT_NEAR(montage[0][0][0].item<float>(), 1.0f, 1e-6);
}

TEST(Progress, EtaAndDurations) {
  EXPECT_EQ(nf::format_duration(0.4), "0s");
  EXPECT_EQ(nf::format_duration(59.6), "1m00s");
  EXPECT_EQ(nf::format_duration(185), "3m05s");
  EXPECT_EQ(nf::format_duration(2 * 3600 + 7 * 60 + 20), "2h07m");
  EXPECT_EQ(nf::format_duration(-5), "0s");
  testing::internal::CaptureStdout();
  nf::Progress p("run", 10, 5, true);  // stdout is captured, not a terminal: plain lines every 5 steps
  for (int64_t s = 1; s <= 10; ++s) p.update(s, 0.5, {});
  const std::string out = testing::internal::GetCapturedStdout();
  EXPECT_NE(out.find("run step 5/10"), std::string::npos) << out;
  EXPECT_NE(out.find("ETA "), std::string::npos) << out;             // mid-run line
  EXPECT_EQ(out.substr(out.find("step 10/10")).find("ETA"), std::string::npos) << out;  // not on the last
}
