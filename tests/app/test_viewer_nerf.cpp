// normfield-viewer in NeRF mode (the shipped lego_100 of tests/data, a tiny config: few rays and samples).
// 1. The run thread (no display): previews from any camera at any scale, the held-out PSNR rising
//    with training, a moved camera giving another picture, a checkpoint opening without training.
// 2. Under Xvfb: a headless lockstep run with --compare renders both runs from the same camera, its
//    view changes between two frames and its held-out PSNR rises; --spin (paused) changes the view;
//    --checkpoint opens a saved run paused. Skipped without the viewer or xvfb-run; FAILs without the
//    shipped data.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "app/viewer/training_run.h"
#include "datasets/image_io.h"
#include "fields/mipnerf.h"
#include "tasks/checkpoint.h"
#include "support/shipped_data.h"
#include "support/cli.h"
#include "support/test_data.h"
#include "support/viewer.h"

namespace {

using nf::viewer::RunSpec;
using nf::viewer::TrainingRun;
using nf::viewer::ViewRequest;
using nf_test::latest;

std::filesystem::path lego() { return nf_test::shipped_data() / "nerf_synthetic" / "lego_100"; }
bool have_lego() { return std::filesystem::exists(lego() / "transforms_train.json"); }

// The NeRF task config of the tests: 50x50 images, 8 training frames, 128 rays of 8 + 8 samples.
nlohmann::json tiny_task() { return nf_test::tiny_nerf_task(); }

RunSpec tiny_spec(const std::string& norm = "cn") {
  RunSpec s;
  s.task = tiny_task();
  s.field = nf::mipnerf_config("small", norm);
  s.lr = 5e-3;
  s.seed = 0;
  s.heldout_every = 10;
  s.name = "tiny " + norm;
  return s;
}

// Orbit camera at azimuth yaw (degrees) around the origin, OpenGL axes, world up +z.
nf::PreviewCamera orbit(const nf::PreviewCamera& base, double yaw_deg, double radius, double elev_deg) {
  nf::PreviewCamera c = base;
  const double a = yaw_deg * M_PI / 180, e = elev_deg * M_PI / 180;
  const double z[3] = {std::cos(e) * std::cos(a), std::cos(e) * std::sin(a), std::sin(e)};
  double x[3] = {-z[1], z[0], 0};
  const double n = std::hypot(x[0], x[1]);
  x[0] /= n;
  x[1] /= n;
  const double y[3] = {z[1] * x[2] - z[2] * x[1], z[2] * x[0] - z[0] * x[2], z[0] * x[1] - z[1] * x[0]};
  c.c2w = {x[0], y[0], z[0], radius * z[0], x[1], y[1], z[1], radius * z[1], x[2], y[2], z[2], radius * z[2], 0, 0, 0, 1};
  return c;
}

}  // namespace

TEST(ViewerNerf, PreviewsHeldoutPsnrCameraAndCheckpoint) {
  ASSERT_TRUE(have_lego()) << lego() << " not found (tests/data is part of the repository)";
  const auto dir = nf_test::scratch("viewer_nerf");
  const auto budget = nf_test::half_scale_budget();
  TrainingRun run(tiny_spec(), /*paused=*/true, /*steps_per_slice=*/10, budget);
  nf::viewer::Snapshot s0;
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_started(run, &s0));
  const auto info = run.info();
  ASSERT_TRUE(info.has_camera);
  ASSERT_EQ(info.cameras.size(), 9u);  // 8 training frames + 1 test view
  EXPECT_EQ(info.cameras[0].camera.width, 50);
  // A free camera at half resolution: rgb, depth and acc of 25 x 25.
  ViewRequest v;
  v.id = 1;
  v.use_camera = true;
  v.camera = orbit(info.cameras[0].camera, 30, info.orbit_radius, info.orbit_elevation_deg);
  run.set_view(v);
  ASSERT_TRUE(run.wait_for_view(1, 0, 120));
  auto s1 = latest(run);
  ASSERT_NE(s1.image("rgb"), nullptr) << s1.status;
  EXPECT_EQ(s1.image("rgb")->width, 25);
  EXPECT_EQ(s1.image("rgb")->height, 25);
  ASSERT_NE(s1.image("depth"), nullptr);
  ASSERT_NE(s1.image("acc"), nullptr);
  EXPECT_EQ(s1.image("error"), nullptr);  // a free camera has no ground truth
  ASSERT_EQ(s1.heldout.size(), 1u);
  const float heldout0 = s1.heldout[0].second;
  // Training: 30 steps; the held-out PSNR (every 10 steps) rises.
  nf::viewer::Snapshot s30;
  ASSERT_NO_FATAL_FAILURE(nf_test::train_to_view(run, 30, &s30));
  ASSERT_GE(s30.heldout.size(), 2u);
  EXPECT_EQ(s30.heldout.back().first, 30);
  EXPECT_GT(s30.heldout.back().second, heldout0 + 1.0f) << "held-out PSNR " << heldout0 << " -> "
                                                        << s30.heldout.back().second;
  // Another camera gives another rgb picture; the error view at the test view (dataset camera 8); a
  // checkpoint opens without training: its step, previews, and no steps while paused.
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_other_camera_error_view_and_checkpoint(
      run, v, s30, "rgb", orbit(info.cameras[0].camera, 120, info.orbit_radius, info.orbit_elevation_deg), info, 8,
      dir, budget, 30, "nerf"));
}

// ------------------------------------------------------------------ the viewer under Xvfb
const std::string kTiny =
    " --set downscale=2 --set max_train_frames=8 --set batch=128 --set n_coarse=8 --set n_fine=8"
    " --set eval_max_views=1 --threads 1 --preview-scale 0.5 --width 1100 --height 600";

TEST(ViewerNerf, HeadlessCompareTrainsAndRendersBothRuns) {
  NF_SKIP_WITHOUT_VIEWER();
  ASSERT_TRUE(have_lego()) << lego() << " not found (tests/data is part of the repository)";
  const auto dir = nf_test::scratch("viewer_nerf_gui");
  const auto r = nf_test::run_viewer_4_frames(
      " --task nerf --scene " + lego().string() + " --config mipnerf_small_cn --compare mipnerf_small" + kTiny, 10, dir,
      "nerf");
  ASSERT_EQ(r.code, 0) << r.output;
  // Both follow `nerf train`'s schedule of their config (mipnerf_small: 5e-3 -> 5e-4 exponential over
  // 600 steps): the lr of step 40 (index 39), not a constant 5e-3. Views change by > 0.01 in training.
  nf_test::CompareFrames f;
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_compare_frames(dir, "nerf", r.output, "mipnerf_small_cn", "mipnerf_small", 10,
                                                         40, nf::LrSchedule{"exponential", 5e-3, 5e-4}, 600, 0.01, &f));
  // Held-out PSNR rises with training (both runs).
  for (int i = 0; i < 2; ++i) {
    const auto& h = f.j4["runs"][i]["heldout"];
    ASSERT_GE(h.size(), 2u) << f.j4.dump();
    EXPECT_GT(h.back()[1].get<double>(), h.front()[1].get<double>() + 1.0) << h.dump();
  }
}

TEST(ViewerNerf, HeadlessSpinChangesTheViewAndCheckpointOpensPaused) {
  NF_SKIP_WITHOUT_VIEWER();
  ASSERT_TRUE(have_lego()) << lego() << " not found (tests/data is part of the repository)";
  const auto dir = nf_test::scratch("viewer_nerf_spin");
  at::Tensor a, b;
  nlohmann::json j2;
  ASSERT_NO_FATAL_FAILURE(nf_test::spin_checkpoint(tiny_spec(), dir, " --preview-scale 0.5", &a, &b, &j2));
  EXPECT_GT(b.std().item<double>(), 0.02);
  EXPECT_GT((a - b).abs().mean().item<double>(), 0.01) << "moving the camera did not change the picture";
}
