// normfield-viewer.
// 1. Under Xvfb: a headless lockstep run (ReLU+CN and ReLU side by side on a small zone plate) writes
//    screenshots at frames 1 and 20. Both must show the UI (not blank); the reconstruction panels must
//    change between them and get closer to the ground-truth panel as training advances; the sidecar
//    JSON must report the lockstep step counts. Skipped when the viewer was not built (NORMFIELD_GUI
//    off / GUI libraries missing) or xvfb-run is not installed.
// 2. Without a display: the viewer's training thread (library normfield_viewer_core: LibTorch and
//    normfield_tasks, no GUI libraries, so it is built and tested everywhere) — snapshots, pause/step budgets, the error
//    spectrum (Parseval, DC at the centre), lr changes, save/export/restart commands, checkpoint
//    resume and seed reproducibility.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/viewer/training_run.h"
#include "datasets/image_io.h"
#include "datasets/image_metrics.h"
#include "datasets/test_images.h"
#include "tasks/checkpoint.h"
#include "tasks/image_task.h"
#include "support/cli.h"
#include "support/test_data.h"
#include "support/viewer.h"

namespace {

const std::string kViewer = nf_test::viewer_path();

using Run = nf_test::CliRun;
Run run(const std::string& cmd) { return nf_test::run_shell(cmd); }

bool have_viewer() { return std::filesystem::exists(kViewer); }
using nf_test::have_xvfb;

// Crop of a screenshot [H, W, 3] to a panel of the sidecar JSON (at least 20 pixels a side here).
at::Tensor panel(const at::Tensor& shot, const nlohmann::json& layout, const std::string& key) {
  return nf_test::panel(shot, layout, key, 20);
}

double mean_abs_diff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().mean().item<double>(); }

}  // namespace

TEST(Viewer, HeadlessScreenshotsShowTrainingProgress) {
  if (!have_viewer()) GTEST_SKIP() << kViewer << " not built (NORMFIELD_GUI off or GUI libraries missing)";
  if (!have_xvfb()) GTEST_SKIP() << "xvfb-run not installed";
  const auto dir = nf_test::scratch("viewer");
  const auto shot = (dir / "shot.png").string();
  const auto r = run("xvfb-run -a -s '-screen 0 1280x720x24' " + kViewer +
                     " --zone-plate 48 --method relu+cn --compare relu --arch 3x32 --seed 3 --threads 1"
                     " --lockstep --steps-per-frame 10 --screenshot-at 1,20 --screenshot " +
                     shot + " --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto p_early = (dir / "shot-1.png"), p_late = (dir / "shot-20.png");
  ASSERT_TRUE(std::filesystem::exists(p_early)) << r.output;
  ASSERT_TRUE(std::filesystem::exists(p_late)) << r.output;
  nlohmann::json l_early, l_late;
  std::ifstream(p_early.string() + ".json") >> l_early;
  std::ifstream(p_late.string() + ".json") >> l_late;

  // Lockstep: frame k shows exactly 10 k steps of both runs.
  ASSERT_EQ(l_early["runs"].size(), 2u);
  EXPECT_EQ(l_early["runs"][0]["step"], 10);
  EXPECT_EQ(l_late["runs"][0]["step"], 200);
  EXPECT_EQ(l_late["runs"][1]["step"], 200);
  EXPECT_EQ(l_late["runs"][0]["label"], "relu+cn 3x32");
  EXPECT_EQ(l_late["runs"][1]["label"], "relu 3x32");

  const auto s_early = nf::load_image(p_early).pixels, s_late = nf::load_image(p_late).pixels;  // [H, W, 3]
  ASSERT_EQ(s_early.sizes(), s_late.sizes());
  EXPECT_EQ(s_early.size(1), l_early["framebuffer"][0].get<int64_t>());
  EXPECT_EQ(s_early.size(0), l_early["framebuffer"][1].get<int64_t>());
  // Not blank: the whole window and the ground-truth panel (a zone plate) vary.
  EXPECT_GT(s_early.std().item<double>(), 0.05);
  EXPECT_GT(s_late.std().item<double>(), 0.05);
  EXPECT_GT(panel(s_late, l_late, "A/truth").std().item<double>(), 0.2);

  for (const std::string run_name : {"A", "B"}) {
    const auto rec_early = panel(s_early, l_early, run_name + "/reconstruction");
    const auto rec_late = panel(s_late, l_late, run_name + "/reconstruction");
    const auto truth = panel(s_late, l_late, run_name + "/truth");
    // The reconstruction view follows training ...
    EXPECT_GT(mean_abs_diff(rec_early, rec_late), 0.02) << run_name;
    // ... towards the ground truth.
    EXPECT_LT(mean_abs_diff(rec_late, truth), mean_abs_diff(rec_early, truth)) << run_name;
    // The error view changes too.
    const auto err_early = panel(s_early, l_early, run_name + "/error");
    const auto err_late = panel(s_late, l_late, run_name + "/error");
    EXPECT_GT(mean_abs_diff(err_early, err_late), 0.01) << run_name;
  }
  // ReLU+CN fits the zone plate better than plain ReLU after 200 steps (the point of compare mode).
  EXPECT_GT(l_late["runs"][0]["psnr"].get<double>(), l_late["runs"][1]["psnr"].get<double>());
}

TEST(Viewer, MissingShadersGiveOneClearError) {
  if (!have_viewer()) GTEST_SKIP() << kViewer << " not built";
  // The shader check comes before any window is opened: no display needed.
  const auto r = run(kViewer + " --shaders /nonexistent/shaders --frames 1");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("normfield-viewer: error: /nonexistent/shaders/fullscreen.vert: shader file not found"),
            std::string::npos)
      << r.output;
}

TEST(Viewer, BadMethodIsRejected) {
  if (!have_viewer()) GTEST_SKIP() << kViewer << " not built";
  const auto r = run(kViewer + " --method relu+xn --frames 1");
  EXPECT_EQ(r.code, 1) << r.output;
  EXPECT_NE(r.output.find("relu+xn"), std::string::npos) << r.output;
}

// ------------------------------------------------------------------ the training thread
namespace {

using nf::viewer::RunSpec;
using nf::viewer::Snapshot;
using nf::viewer::TrainingRun;

RunSpec small_spec(const std::string& method = "relu+cn") {
  RunSpec spec;
  spec.task = {{"task", "image"}, {"image", "zone-plate:20"}, {"rgb", true}, {"seed", 7}};
  spec.method = method;
  spec.arch = "2x16";
  spec.seed = 7;
  return spec;
}

using nf_test::latest;

}  // namespace

TEST(ViewerTraining, PausedRunStepsExactlyTheGrantedBudget) {
  TrainingRun run(small_spec(), /*paused=*/true, /*steps_per_slice=*/4);
  ASSERT_TRUE(run.wait_for_step(0, 60));
  auto s0 = latest(run);
  EXPECT_EQ(s0.step, 0);
  EXPECT_EQ(s0.label, "relu+cn 2x16");
  ASSERT_NE(s0.image("reconstruction"), nullptr);
  ASSERT_EQ(s0.image("reconstruction")->data.size(), 20u * 20u * 3u);
  ASSERT_EQ(s0.image("error")->data.size(), 20u * 20u);
  ASSERT_EQ(s0.image("spectrum")->data.size(), 20u * 20u);
  ASSERT_EQ(s0.image("truth")->data.size(), 20u * 20u * 3u);
  EXPECT_GT(s0.params, 0);
  EXPECT_DOUBLE_EQ(s0.lr, 1e-2);  // the paper's default with a norm layer
  run.step(7);                    // slices of 4 and 3
  ASSERT_TRUE(run.wait_for_step(7, 60));
  auto s7 = latest(run);
  EXPECT_EQ(s7.step, 7);
  EXPECT_GT(s7.version, s0.version);
  EXPECT_EQ(s7.loss_curve.size(), 7u);
  EXPECT_EQ(s7.psnr_curve.size(), 7u);
  EXPECT_TRUE(s7.paused);
  EXPECT_GT(s7.train_its, 0);
  // Paused with no budget: nothing more happens.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(run.published_step(), 7);
  Snapshot same = s7;
  EXPECT_FALSE(run.latest(same));  // no newer snapshot
  // Resume: training goes on by itself.
  run.set_paused(false);
  ASSERT_TRUE(run.wait_for_step(20, 60));
  run.set_paused(true);
  ASSERT_TRUE(run.flush(60));
  const int64_t at_pause = run.published_step();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(run.published_step(), at_pause);
}

TEST(ViewerTraining, SnapshotViewsMatchTheReconstruction) {
  TrainingRun run(small_spec(), true, 5);
  run.step(5);
  ASSERT_TRUE(run.wait_for_step(5, 60));
  auto s = latest(run);
  const auto* rec = s.image("reconstruction");
  ASSERT_NE(rec, nullptr);
  const int64_t H = rec->height, W = rec->width;
  auto target = nf::zone_plate(20, 3);
  auto recon = at::from_blob(const_cast<float*>(rec->data.data()), {H, W, 3}, at::kFloat).clone();
  EXPECT_GE(recon.min().item<float>(), 0.0f);
  EXPECT_LE(recon.max().item<float>(), 1.0f);
  auto err = at::from_blob(const_cast<float*>(s.image("error")->data.data()), {H, W}, at::kFloat).clone();
  EXPECT_TRUE(at::allclose(err, (recon - target).abs().mean(2), 1e-5, 1e-6));
  EXPECT_NEAR(s.psnr, nf::psnr(recon, target), 1e-9);
  // Spectrum: Parseval (mean power = Tukey-windowed MSE) and the DC term at the centre.
  auto e = (recon - target).to(at::kDouble).permute({2, 0, 1});  // [3, H, W]
  auto w = nf::tukey_window(H).unsqueeze(1) * nf::tukey_window(W).unsqueeze(0);
  const double w2 = w.pow(2).sum().item<double>();
  auto spec = at::from_blob(const_cast<float*>(s.image("spectrum")->data.data()), {H, W}, at::kFloat).to(at::kDouble);
  const double mean_power = at::pow(10.0, spec / 10).mean().item<double>();
  const double windowed_mse = (e * w).pow(2).sum({1, 2}).mean().item<double>() / w2;
  EXPECT_NEAR(mean_power / windowed_mse, 1.0, 1e-4);
  const double dc = (e * w).sum({1, 2}).pow(2).mean().item<double>() / w2;
  EXPECT_NEAR(spec[H / 2][W / 2].item<double>(), 10 * std::log10(dc + 1e-20), 1e-3);
}

TEST(ViewerTraining, CommandsSaveExportLrRestartAndResume) {
  const auto dir = nf_test::scratch("viewer_cmds");
  const auto ckpt = (dir / "run.pt").string(), png = (dir / "recon.png").string();
  {
    TrainingRun run(small_spec(), true, 3);
    run.step(6);
    ASSERT_TRUE(run.wait_for_step(6, 60));
    run.set_lr(3e-3);
    run.save_checkpoint(ckpt);
    run.export_png(png);
    ASSERT_TRUE(run.flush(60));
    auto s = latest(run);
    EXPECT_NE(s.status.find("recon.png"), std::string::npos) << s.status;
    ASSERT_TRUE(std::filesystem::exists(ckpt));
    EXPECT_EQ(nf::read_checkpoint_meta(ckpt).step, 6);
    auto written = nf::load_image(png).pixels;
    auto recon = at::from_blob(const_cast<float*>(s.image("reconstruction")->data.data()), {20, 20, 3}, at::kFloat);
    EXPECT_LE((written - recon).abs().max().item<float>(), 0.5f / 255 + 1e-6f);
    // The new lr is the one the next step uses.
    run.step(1);
    ASSERT_TRUE(run.wait_for_step(7, 60));
    EXPECT_DOUBLE_EQ(latest(run).lr, 3e-3);
    // Restart with another method: fresh field at step 0, the method's default lr.
    run.restart(small_spec("relu"));
    run.step(2);
    ASSERT_TRUE(run.flush(60));  // the restart has run (the old snapshot's step 7 would pass a wait)
    ASSERT_TRUE(run.wait_for_step(2, 60));
    s = latest(run);
    EXPECT_EQ(s.label, "relu 2x16");
    EXPECT_EQ(s.step, 2);
    EXPECT_DOUBLE_EQ(s.lr, 2e-4);
    // A save posted just before the run is destroyed still happens.
    run.save_checkpoint((dir / "last.pt").string());
  }
  EXPECT_TRUE(std::filesystem::exists(dir / "last.pt"));
  // Resume from the checkpoint: same step, same weights (reconstruction), the stored lr.
  RunSpec resume = small_spec();
  resume.checkpoint = ckpt;
  TrainingRun run(resume, true, 3);
  ASSERT_TRUE(run.wait_for_step(0, 60));
  auto s = latest(run);
  EXPECT_FALSE(s.failed) << s.status;
  EXPECT_EQ(s.step, 6);
  EXPECT_EQ(s.label, "checkpoint run.pt");
  // A missing checkpoint fails the run with a message naming it (no crash).
  RunSpec bad = small_spec();
  bad.checkpoint = (dir / "missing.pt").string();
  TrainingRun broken(bad, false, 3);
  ASSERT_TRUE(broken.wait_for_step(1, 60));
  auto b = latest(broken);
  EXPECT_TRUE(b.failed);
  EXPECT_NE(b.status.find("missing.pt"), std::string::npos) << b.status;
}

TEST(ViewerTraining, TwoRunsAtOnceReproduceTheSeed) {
  // Compare mode trains two runs on two threads; the same seed must give the same weights and
  // the same training, however the threads interleave.
  TrainingRun a(small_spec(), true, 4), b(small_spec(), true, 4);
  a.step(12);
  b.step(12);
  ASSERT_TRUE(a.wait_for_step(12, 60));
  ASSERT_TRUE(b.wait_for_step(12, 60));
  auto sa = latest(a), sb = latest(b);
  ASSERT_EQ(sa.step, 12);
  ASSERT_EQ(sb.step, 12);
  EXPECT_EQ(sa.image("reconstruction")->data, sb.image("reconstruction")->data);
  EXPECT_EQ(sa.loss_curve, sb.loss_curve);
  RunSpec other = small_spec();
  other.seed = 8;
  TrainingRun c(other, true, 4);
  ASSERT_TRUE(c.wait_for_step(0, 60));
  TrainingRun d(small_spec(), true, 4);
  ASSERT_TRUE(d.wait_for_step(0, 60));
  EXPECT_NE(latest(c).image("reconstruction")->data, latest(d).image("reconstruction")->data);
}
