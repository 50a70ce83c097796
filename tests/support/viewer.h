#pragma once
// What the viewer tests share: the normfield-viewer binary and xvfb-run, screenshot panels and their
// sidecar JSON, the run thread's latest snapshot and its pixels, the check that a saved checkpoint
// reopens paused, at its step, rendering the same picture, the viewer spinning a checkpoint, the
// tiny NeRF task, previews of pixel subsets, and the two frames of a headless --compare run.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "app/viewer/training_run.h"
#include "datasets/image_io.h"
#include "support/cli.h"
#include "support/shipped_data.h"
#include "support/test_data.h"
#include "tasks/lr_schedule.h"
#include "tasks/preview.h"
#include "tasks/task.h"

namespace nf_test {

// <build>/normfield-viewer.
inline std::string viewer_path() { return (binary_dir() / "normfield-viewer").string(); }
inline bool have_xvfb() { return std::system("command -v xvfb-run > /dev/null 2>&1") == 0; }
// The viewer was built (NORMFIELD_GUI and the GUI libraries) and xvfb-run is installed.
inline bool can_run_viewer() { return std::filesystem::exists(viewer_path()) && have_xvfb(); }
// Skips the test unless the viewer can run (can_run_viewer).
#define NF_SKIP_WITHOUT_VIEWER() \
  if (!nf_test::can_run_viewer()) GTEST_SKIP() << "normfield-viewer not built or xvfb-run missing"

// normfield-viewer with `args` under Xvfb (a 1280x720 screen).
inline CliRun run_viewer_xvfb(const std::string& args) {
  return run_shell("xvfb-run -a -s '-screen 0 1280x720x24' " + viewer_path() + args);
}
// A headless lockstep run of normfield-viewer `args` under Xvfb: 4 frames of `steps` training steps
// (the held-out PSNR every `steps`), frames 1 and 4 saved as dir/<stem>-1.png and dir/<stem>-4.png,
// outputs in dir.
inline CliRun run_viewer_4_frames(const std::string& args, int steps, const std::filesystem::path& dir,
                                  const std::string& stem) {
  const std::string n = std::to_string(steps);
  return run_viewer_xvfb(args + " --lockstep --steps-per-frame " + n + " --heldout-every " + n +
                         " --frames 4 --screenshot-at 1,4 --screenshot " + (dir / (stem + ".png")).string() +
                         " --out " + dir.string());
}

// Crop of a screenshot [H, W, 3] to the panel rectangle [x, y, w, h] of the sidecar JSON; each side
// must be longer than min_side and the rectangle inside the screenshot.
inline at::Tensor panel(const at::Tensor& shot, const nlohmann::json& layout, const std::string& key,
                        int64_t min_side = 50) {
  const auto r = layout.at("panels").at(key);
  const int64_t x = r[0], y = r[1], w = r[2], h = r[3];
  EXPECT_GT(w, min_side) << key;
  EXPECT_GT(h, min_side) << key;
  EXPECT_LE(x + w, shot.size(1)) << key;
  EXPECT_LE(y + h, shot.size(0)) << key;
  return shot.slice(0, y, y + h).slice(1, x, x + w);
}

// The JSON written next to a screenshot (<png>.json).
inline nlohmann::json sidecar(const std::filesystem::path& png) {
  nlohmann::json j;
  std::ifstream(png.string() + ".json") >> j;
  return j;
}

inline nf::viewer::Snapshot latest(const nf::viewer::TrainingRun& run) {
  nf::viewer::Snapshot s;
  EXPECT_TRUE(run.latest(s));
  return s;
}

// The run-thread tests' budget: previews at a fixed half scale.
inline nf::viewer::RenderBudget half_scale_budget() {
  nf::viewer::RenderBudget budget;
  budget.fixed_scale = 0.5;
  return budget;
}
// run's first snapshot (step 0) comes within 120 s and has not failed; it is returned in *s0. Call
// through ASSERT_NO_FATAL_FAILURE.
inline void expect_started(const nf::viewer::TrainingRun& run, nf::viewer::Snapshot* s0) {
  ASSERT_TRUE(run.wait_for_step(0, 120));
  *s0 = latest(run);
  ASSERT_FALSE(s0->failed) << s0->status;
}

// run (paused at step 0, view 1 set) takes n steps; within 300 s it reaches step n and within 120 s
// publishes view 1 at step n, in the snapshot returned in *s, which has not failed. Call through
// ASSERT_NO_FATAL_FAILURE.
inline void train_to_view(nf::viewer::TrainingRun& run, int64_t n, nf::viewer::Snapshot* s) {
  run.step(n);
  ASSERT_TRUE(run.wait_for_step(n, 300));
  ASSERT_TRUE(run.wait_for_view(1, n, 120));
  *s = latest(run);
  ASSERT_FALSE(s->failed) << s->status;
}

// [height, width, channels] float copy of a snapshot image.
inline at::Tensor pixels(const nf::viewer::ImageBuf& im) {
  return at::from_blob(const_cast<float*>(im.data.data()), {im.height, im.width, im.channels}, at::kFloat).clone();
}

// Saves run's checkpoint to dir/tiny.pt and opens it paused: it reports `step` and `task`, renders
// from view v the rgb picture `shown` (rendered by run from v) to within 1e-4, and takes no steps.
// Call through ASSERT_NO_FATAL_FAILURE.
inline void expect_checkpoint_reopens(nf::viewer::TrainingRun& run, const nf::viewer::ViewRequest& v,
                                      const nf::viewer::Snapshot& shown, const std::filesystem::path& dir,
                                      const nf::viewer::RenderBudget& budget, int64_t step, const std::string& task) {
  const auto ckpt = (dir / "tiny.pt").string();
  run.save_checkpoint(ckpt);
  ASSERT_TRUE(run.flush(120));
  nf::viewer::RunSpec open;
  open.checkpoint = ckpt;
  nf::viewer::TrainingRun look(open, /*paused=*/true, 1, budget);
  ASSERT_TRUE(look.wait_for_step(0, 120));
  look.set_view(v);
  ASSERT_TRUE(look.wait_for_view(v.id, 0, 120));
  auto l = latest(look);
  ASSERT_FALSE(l.failed) << l.status;
  EXPECT_EQ(l.step, step);
  EXPECT_EQ(l.task, task);
  ASSERT_NE(l.image("rgb"), nullptr);
  // The same weights and camera render the same picture.
  EXPECT_LT((pixels(*l.image("rgb")) - pixels(*shown.image("rgb"))).abs().max().item<double>(), 1e-4);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(look.published_step(), step);
}

// The checks of a trained run (paused at `step`, view v showing `shown`) that every camera task
// passes: v from camera `other` (as view 2) gives another `image` (mean absolute difference > 0.01) of
// the same weights; at dataset camera k (as view 3) the error view and psnr_view > 8 dB; a saved
// checkpoint reopens (expect_checkpoint_reopens). Call through ASSERT_NO_FATAL_FAILURE.
inline void expect_other_camera_error_view_and_checkpoint(nf::viewer::TrainingRun& run, nf::viewer::ViewRequest v,
                                                          const nf::viewer::Snapshot& shown, const std::string& image,
                                                          const nf::PreviewCamera& other, const nf::PreviewInfo& info,
                                                          int k, const std::filesystem::path& dir,
                                                          const nf::viewer::RenderBudget& budget, int64_t step,
                                                          const std::string& task) {
  // Another camera gives another picture (same weights).
  const auto before = pixels(*shown.image(image));
  v.id = 2;
  v.camera = other;
  run.set_view(v);
  ASSERT_TRUE(run.wait_for_view(2, step, 120));
  auto s2 = latest(run);
  EXPECT_EQ(s2.step, step);
  EXPECT_GT((pixels(*s2.image(image)) - before).abs().mean().item<double>(), 0.01);
  // At a dataset camera: the error view and its PSNR.
  v.id = 3;
  v.camera = info.cameras[static_cast<size_t>(k)].camera;
  v.dataset_view = k;
  run.set_view(v);
  ASSERT_TRUE(run.wait_for_view(3, step, 120));
  auto s3 = latest(run);
  ASSERT_NE(s3.image("error"), nullptr) << s3.status;
  EXPECT_GT(s3.scalars.at("psnr_view"), 8.0);
  // A checkpoint opens without training: its step, the same picture from the same camera.
  ASSERT_NO_FATAL_FAILURE(expect_checkpoint_reopens(run, v, s3, dir, budget, step, task));
}

// Trains `spec` 20 steps on the run thread and saves dir/tiny.pt (as the viewer's Save button does),
// then opens it in the viewer under Xvfb (--checkpoint, --lockstep --spin 60, two frames; `flags`
// added): both frames report step 20 and the camera turned by 60 degrees. Returns the "A/view"
// panels of the two frames and the second frame's sidecar. Call through ASSERT_NO_FATAL_FAILURE.
inline void spin_checkpoint(const nf::viewer::RunSpec& spec, const std::filesystem::path& dir, const std::string& flags,
                            at::Tensor* view1, at::Tensor* view2, nlohmann::json* sidecar2) {
  const auto ckpt = (dir / "tiny.pt").string();
  {
    nf::viewer::TrainingRun run(spec, true, 10);
    run.step(20);
    ASSERT_TRUE(run.wait_for_step(20, 300));
    run.save_checkpoint(ckpt);
    ASSERT_TRUE(run.flush(120));
  }
  const auto shot = (dir / "spin.png").string();
  const auto r = run_viewer_xvfb(" --checkpoint " + ckpt +
                           " --threads 1 --width 1100 --height 600 --lockstep --spin 60" + flags +
                           " --frames 2 --screenshot-at 1,2 --screenshot " + shot + " --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto p1 = dir / "spin-1.png", p2 = dir / "spin-2.png";
  ASSERT_TRUE(std::filesystem::exists(p2)) << r.output;
  const auto j1 = sidecar(p1), j2 = sidecar(p2);
  // Opened without training: the checkpoint's step at both frames.
  EXPECT_EQ(j1["runs"][0]["step"], 20);
  EXPECT_EQ(j2["runs"][0]["step"], 20);
  EXPECT_NEAR(j2["camera"]["yaw"].get<double>() - j1["camera"]["yaw"].get<double>(), 60.0, 1e-6);
  *view1 = panel(nf::load_image(p1).pixels, j1, "A/view");
  *view2 = panel(nf::load_image(p2).pixels, j2, "A/view");
  *sidecar2 = j2;
}

// The NeRF task config of the viewer tests: the shipped lego at 50x50, 8 training frames, 128 rays
// of 8 + 8 samples, one evaluated view, one calibration batch.
inline nlohmann::json tiny_nerf_task() {
  return {{"task", "nerf"},      {"scene", (shipped_data() / "nerf_synthetic" / "lego_100").string()}, {"downscale", 2}, {"max_train_frames", 8},
          {"batch", 128},        {"n_coarse", 8},                    {"n_fine", 8},    {"eval_max_views", 1},
          {"calib_batches", 1}};
}

// For each (stride, x0, y0) of `subsets`: task's preview of that pixel subset of request r (a whole
// render: stride 1) holds the images of `whole` (task.preview(field, r)) in the same order, each
// equal to those pixels of the whole image within 1e-4. Call through ASSERT_NO_FATAL_FAILURE.
inline void expect_pixel_subsets_equal_whole(nf::Task& task, nf::FieldImpl& field, nf::PreviewRequest r,
                                             const nf::Preview& whole,
                                             const std::vector<std::tuple<int, int, int>>& subsets) {
  for (const auto& [stride, x0, y0] : subsets) {
    r.stride = stride;
    r.x0 = x0;
    r.y0 = y0;
    const nf::Preview sub = task.preview(field, r);
    ASSERT_EQ(sub.images.size(), whole.images.size());
    for (size_t i = 0; i < whole.images.size(); ++i) {
      const auto& [name, im] = whole.images[i];
      const auto want = nf::pixel_subset(im.pixels, stride, x0, y0);
      const auto& got = sub.images[i].second.pixels;
      ASSERT_EQ(sub.images[i].first, name);
      ASSERT_EQ(got.sizes(), want.sizes()) << name;
      EXPECT_LT((got - want).abs().max().item<double>(), 1e-4) << name << " stride " << stride;
    }
  }
}

// The screenshots of frames 1 and 4 of a headless lockstep --compare run (dir/<stem>-1.png,
// dir/<stem>-4.png with their sidecars), loaded by expect_compare_frames.
struct CompareFrames {
  nlohmann::json j1, j4;
  at::Tensor s1, s4;
};
// The run (output `output`) wrote both frames; two runs labelled label_a, label_b, at step1 at frame 1
// (run A) and step4 at frame 4 (both), each at the lr `sched` gives step step4 (index step4 - 1) of
// `steps`; each view panel not blank and changed between the frames by more than min_change (mean
// absolute difference); both panels the same width and different. Call through ASSERT_NO_FATAL_FAILURE.
inline void expect_compare_frames(const std::filesystem::path& dir, const std::string& stem, const std::string& output,
                                  const std::string& label_a, const std::string& label_b, int64_t step1, int64_t step4,
                                  const nf::LrSchedule& sched, int64_t steps, double min_change, CompareFrames* f) {
  const auto p1 = dir / (stem + "-1.png"), p4 = dir / (stem + "-4.png");
  ASSERT_TRUE(std::filesystem::exists(p4)) << output;
  f->j1 = sidecar(p1), f->j4 = sidecar(p4);
  const auto &j1 = f->j1, &j4 = f->j4;
  ASSERT_EQ(j4["runs"].size(), 2u);
  EXPECT_EQ(j4["runs"][0]["label"], label_a);
  EXPECT_EQ(j4["runs"][1]["label"], label_b);
  EXPECT_EQ(j1["runs"][0]["step"], step1);
  EXPECT_EQ(j4["runs"][0]["step"], step4);
  EXPECT_EQ(j4["runs"][1]["step"], step4);
  for (int i = 0; i < 2; ++i) EXPECT_NEAR(j4["runs"][i]["lr"].get<double>(), sched.at(step4 - 1, steps), 1e-12) << i;
  f->s1 = nf::load_image(p1).pixels, f->s4 = nf::load_image(p4).pixels;
  for (const std::string k : {"A/view", "B/view"}) {
    const auto a = panel(f->s1, j1, k), b = panel(f->s4, j4, k);
    EXPECT_GT(b.std().item<double>(), 0.02) << k << " is blank";
    EXPECT_GT((a - b).abs().mean().item<double>(), min_change) << k << " did not change with training";
  }
  // Both runs are seen from the same camera: their panels are the same size and differ in content
  // only as the fields do (not blank, not identical).
  EXPECT_EQ(j4["panels"]["A/view"][2], j4["panels"]["B/view"][2]);
  EXPECT_GT((panel(f->s4, j4, "A/view") - panel(f->s4, j4, "B/view")).abs().mean().item<double>(), 0.001);
}

}  // namespace nf_test
