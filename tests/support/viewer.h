#pragma once
// What the viewer tests share: the normfield-viewer binary and xvfb-run, screenshot panels and their
// sidecar JSON, the run thread's latest snapshot and its pixels, the check that a saved checkpoint
// reopens paused, at its step, rendering the same picture, and the viewer spinning a checkpoint.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "app/viewer/training_run.h"
#include "datasets/image_io.h"
#include "support/cli.h"
#include "support/test_data.h"

namespace nf_test {

// <build>/normfield-viewer.
inline std::string viewer_path() { return (binary_dir() / "normfield-viewer").string(); }
inline bool have_xvfb() { return std::system("command -v xvfb-run > /dev/null 2>&1") == 0; }
// The viewer was built (NORMFIELD_GUI and the GUI libraries) and xvfb-run is installed.
inline bool can_run_viewer() { return std::filesystem::exists(viewer_path()) && have_xvfb(); }

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
  const auto r = run_shell("xvfb-run -a -s '-screen 0 1280x720x24' " + viewer_path() + " --checkpoint " + ckpt +
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

}  // namespace nf_test
