// normfield-viewer in NeuS mode, on a tiny DTU-style scene made in the test (make-scene of the shipped
// bunny, 8 views of 32x24; fx != fy, principal point off the centre) and tiny settings.
// 1. Cameras: PreviewCamera <-> nf::Camera round trip (same rays); the orbit camera about a y-up world.
// 2. The run thread (no display): the task's preview info (dataset cameras with full intrinsics,
//    normals mode, y-up orbit), rgb / normals / depth / acc from a free camera, the loss falling and
//    the held-out PSNR measured while training, a moved camera giving another picture, the error view at a dataset camera,
//    a NeuS checkpoint opening without training and rendering the same picture.
// 3. Under Xvfb: a headless lockstep run with --compare (neus_small_cn vs neus_small) renders both
//    runs, measures their held-out PSNR and changes between two frames; --checkpoint opens paused, --view normals --spin changes it.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <tuple>

#include "app/viewer/orbit_camera.h"
#include "app/viewer/training_run.h"
#include "datasets/image_io.h"
#include "datasets/make_scene.h"
#include "render/camera.h"
#include "support/scene_tasks.h"
#include "support/shipped_data.h"
#include "support/cli.h"
#include "support/test_data.h"
#include "fields/registry.h"
#include "support/viewer.h"
#include "tasks/preview.h"
#include "tasks/task_registry.h"

namespace {

using nf::viewer::RunSpec;
using nf_test::pixels;

// The shipped bunny as a DTU-style scene: 8 views of 32x24 (views 2 and 6 held out with holdout 4).
std::filesystem::path bunny_scene() {
  static std::filesystem::path dir;
  if (dir.empty()) {
    dir = nf_test::scratch("viewer_neus_scene") / "bunny";
    nf_test::make_tiny_dtu_scene(nf_test::shipped_data() / "meshes" / "bunny_2.5k_instantngp.obj", dir);
  }
  return dir;
}

nlohmann::json tiny_task() {
  return {{"task", "neus"},  {"scene", bunny_scene().string()}, {"batch", 64}, {"n_samples", 16},
          {"n_importance", 16}, {"up_sample_steps", 2},         {"holdout", 4}, {"chunk", 512}};
}

RunSpec tiny_spec(const std::string& norm = "cn") {
  RunSpec s;
  s.task = tiny_task();
  s.field = nf_test::tiny_neus_config(norm);
  s.lr = 5e-3;
  s.seed = 0;
  s.heldout_every = 10;
  s.name = "tiny neus " + norm;
  return s;
}

}  // namespace

TEST(ViewerNeus, PreviewCameraRoundTripsThroughNfCamera) {
  const double a = 0.4;
  nf::Camera c{/*width=*/40, /*height=*/30, /*fx=*/50, /*fy=*/47, /*cx=*/21.3, /*cy=*/13.1, {}};
  c.c2w = at::tensor({std::cos(a), 0.0, std::sin(a), 0.3, 0.0, 1.0, 0.0, -0.2, -std::sin(a), 0.0, std::cos(a), -2.5,
                      0.0, 0.0, 0.0, 1.0},
                     at::kDouble)
              .view({4, 4})
              .to(at::kFloat);
  const auto p = nf::preview_camera(c);
  EXPECT_EQ(p.width, 40);
  EXPECT_DOUBLE_EQ(p.fy, 47);
  EXPECT_DOUBLE_EQ(p.cx, 21.3);
  // OpenGL axes: the camera's y and z columns flipped, the centre kept.
  EXPECT_NEAR(p.c2w[1], 0.0, 1e-7);
  EXPECT_NEAR(p.c2w[5], -1.0, 1e-7);
  EXPECT_NEAR(p.c2w[11], -2.5, 1e-7);
  const auto back = nf::to_camera(p);
  EXPECT_TRUE(at::equal(back.c2w, c.c2w));
  const auto r0 = nf::generate_rays(c, 0, 1), r1 = nf::generate_rays(back, 0, 1);
  EXPECT_TRUE(at::allclose(r0.directions, r1.directions));
  // A centred PreviewCamera is Camera::from_opengl's camera.
  const std::array<double, 16> I{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 4, 0, 0, 0, 1};
  const auto centred = nf::to_camera(nf::PreviewCamera::centred(40, 30, 50, I));
  const auto gl = nf::Camera::from_opengl(40, 30, 50, nf::c2w_tensor(nf::PreviewCamera::centred(40, 30, 50, I)));
  EXPECT_DOUBLE_EQ(centred.cx, gl.cx);
  EXPECT_DOUBLE_EQ(centred.cy, gl.cy);
  EXPECT_TRUE(at::equal(centred.c2w, gl.c2w));
}

TEST(ViewerNeus, OrbitCameraAboutAnyUpAxis) {
  nf::viewer::OrbitCamera cam;
  cam.set_image(nf::PreviewCamera{/*width=*/40, /*height=*/30, /*fx=*/50, /*fy=*/45, /*cx=*/21.5, /*cy=*/13.5, {}});
  cam.set_up({0, 2, 0});  // world up +y (any length)
  cam.set_orbit({0, 0, 0}, 3.0, 30, 20);
  const auto m = cam.pose();
  // The orbit's pitch is the elevation above the x-z plane; the camera's right axis stays horizontal.
  EXPECT_NEAR(std::asin(m[7] / 3.0) * 180 / M_PI, 20.0, 1e-9);  // centre y / radius
  EXPECT_NEAR(m[4], 0.0, 1e-12);                                // right axis horizontal (no y)
  EXPECT_GT(m[5], 0.0);                                         // camera up points up-ish
  // Snapping to its own camera and orbiting by 0 returns the same pose.
  nf::viewer::OrbitCamera other;
  other.set_up({0, 1, 0});
  other.snap(cam.camera());
  other.orbit(0, 0);
  for (int i = 0; i < 16; ++i) EXPECT_NEAR(other.pose()[static_cast<size_t>(i)], m[static_cast<size_t>(i)], 1e-9) << i;
  // The target projects to the principal point (+ 0.5: image coordinates of pixel edges).
  double u = 0, v = 0;
  const double t[3] = {0, 0, 0};
  ASSERT_TRUE(cam.project(t, u, v));
  EXPECT_NEAR(u, 22.0, 1e-9);
  EXPECT_NEAR(v, 14.0, 1e-9);
  // The field of view scales fx and fy together.
  cam.set_fov_x_deg(60);
  EXPECT_NEAR(cam.camera().fy / cam.camera().fx, 0.9, 1e-12);
}

// The progressive view's pixel subsets (PreviewRequest::stride, x0, y0): the same pixels as the whole
// render, for every image (rgb, normals, depth, acc, and the error view's ground truth), with DTU's
// full intrinsics (fx != fy, principal point off the centre).
TEST(ViewerNeus, PixelSubsetEqualsThoseOfTheWholeRender) {
  auto task = nf::make_task(tiny_task(), c10::kCPU);
  at::manual_seed(0);
  nf::Field field = nf::make_field(tiny_spec().field);
  const auto info = task->preview_info();
  nf::PreviewRequest r;
  r.use_camera = true;
  r.camera = info.cameras[7].camera;
  r.dataset_view = 7;
  const nf::Preview whole = task->preview(*field, r);
  ASSERT_EQ(whole.images.size(), 5u);
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_pixel_subsets_equal_whole(*task, *field, r, whole, {{3, 2, 1}, {2, 1, 0}}));
}

TEST(ViewerNeus, PreviewsHeldoutPsnrCameraAndCheckpoint) {
  const auto dir = nf_test::scratch("viewer_neus");
  const auto budget = nf_test::half_scale_budget();
  nf::viewer::TrainingRun run(tiny_spec(), /*paused=*/true, /*steps_per_slice=*/10, budget);
  nf::viewer::Snapshot s0;
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_started(run, &s0));
  EXPECT_EQ(s0.task, "neus");
  const auto info = run.info();
  ASSERT_TRUE(info.has_camera);
  ASSERT_EQ(info.cameras.size(), 8u);  // 6 training views, then the 2 held-out ones
  EXPECT_EQ(info.cameras[0].name.rfind("train/", 0), 0u) << info.cameras[0].name;
  EXPECT_EQ(info.cameras[7].name.rfind("held-out/", 0), 0u) << info.cameras[7].name;
  EXPECT_NE(std::find(info.modes.begin(), info.modes.end(), "normals"), info.modes.end());
  EXPECT_FALSE(info.heldout.empty());
  // Full intrinsics: make-scene's fx = 1.03 fy, the principal point off the centre.
  const auto& c0 = info.cameras[0].camera;
  EXPECT_EQ(c0.width, 32);
  EXPECT_NEAR(c0.fx / c0.fy, 1.03, 1e-6);
  EXPECT_GT(std::abs(c0.cx - 15.5), 0.1);
  // make-scene's cameras have up +y: so has the orbit.
  EXPECT_GT(info.up[1], 0.9);
  EXPECT_GT(info.orbit_radius, 1.0);
  // A free camera at half resolution: rgb, normals, depth, acc of 16 x 12.
  nf::viewer::OrbitCamera orbit;
  orbit.set_image(c0);
  orbit.set_up(info.up);
  orbit.set_orbit(info.orbit_target, info.orbit_radius, 30, info.orbit_elevation_deg);
  nf::viewer::ViewRequest v;
  v.id = 1;
  v.use_camera = true;
  v.camera = orbit.camera();
  run.set_view(v);
  ASSERT_TRUE(run.wait_for_view(1, 0, 120));
  auto s1 = nf_test::latest(run);
  for (const char* name : {"rgb", "normals", "depth", "acc"}) {
    ASSERT_NE(s1.image(name), nullptr) << name << ": " << s1.status;
    EXPECT_EQ(s1.image(name)->width, 16) << name;
    EXPECT_EQ(s1.image(name)->height, 12) << name;
  }
  EXPECT_EQ(s1.image("normals")->channels, 3);
  EXPECT_EQ(s1.image("error"), nullptr);  // a free camera has no ground truth
  ASSERT_EQ(s1.heldout.size(), 1u);
  // Training: 40 steps; the loss falls, the held-out PSNR is measured every 10 steps (at first the
  // black background dominates it, so it need not rise yet), the surface becomes visible.
  nf::viewer::Snapshot s40;
  ASSERT_NO_FATAL_FAILURE(nf_test::train_to_view(run, 40, &s40));
  ASSERT_EQ(s40.heldout.size(), 5u);
  EXPECT_EQ(s40.heldout.back().first, 40);
  ASSERT_EQ(s40.loss_curve.size(), 40u);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += s40.loss_curve[static_cast<size_t>(i)], last += s40.loss_curve[static_cast<size_t>(35 + i)];
  EXPECT_LT(last, 0.8 * first) << "loss " << first / 5 << " -> " << last / 5;
  EXPECT_GT(pixels(*s40.image("acc")).max().item<double>(), 0.3);
  EXPECT_GT(pixels(*s40.image("normals")).std().item<double>(), 0.03);
  // Another camera gives other normals; the error view at a held-out dataset camera (7); a checkpoint
  // opens without training: its step, the same picture from the same camera.
  orbit.orbit(120, 0);
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_other_camera_error_view_and_checkpoint(run, v, s40, "normals", orbit.camera(),
                                                                                 info, 7, dir, budget, 40, "neus"));
}

// ------------------------------------------------------------------ the viewer under Xvfb
// The named configs (neus_small*: SDF 4x64) with a tiny task: 64 rays of 16 + 16 samples.
const std::string kTiny =
    " --set batch=64 --set n_samples=16 --set n_importance=16 --set up_sample_steps=2 --set holdout=4"
    " --set chunk=512 --threads 1 --preview-scale 1 --width 1100 --height 600";

TEST(ViewerNeus, HeadlessCompareTrainsAndRendersBothRuns) {
  NF_SKIP_WITHOUT_VIEWER();
  const auto dir = nf_test::scratch("viewer_neus_gui");
  // The viewer trains with the config's schedule (as `neus train`): 20 steps of neus_small's 200-step
  // warm-up would barely move the fields, so these copies drop the warm-up (same names, same labels).
  const auto configs = nf_test::shipped_data().parent_path().parent_path() / "assets" / "configs" / "neus";
  for (const std::string name : {"neus_small_cn", "neus_small"})
    std::ofstream(dir / (name + ".json")) << nlohmann::json{{"parent", (configs / (name + ".json")).string()},
                                                           {"warmup", 0}}.dump();
  const auto r = nf_test::run_viewer_4_frames(" --task neus --scene " + bunny_scene().string() + " --config " +
                                                  (dir / "neus_small_cn.json").string() + " --compare " +
                                                  (dir / "neus_small.json").string() + " --lr 5e-3 --compare-lr 5e-3" + kTiny,
                                              5, dir, "neus");
  ASSERT_EQ(r.code, 0) << r.output;
  // Both follow the configs' schedule (cosine from 5e-3 to neus_small's 5e-5 over 2000 steps); views
  // change by > 0.002 in training.
  nf_test::CompareFrames f;
  ASSERT_NO_FATAL_FAILURE(nf_test::expect_compare_frames(dir, "neus", r.output, "neus_small_cn", "neus_small", 5, 20,
                                                         nf::LrSchedule{"cosine", 5e-3, 5e-5}, 2000, 0.002, &f));
  // The held-out PSNR is measured every 5 steps (both runs; the run-thread test checks the loss).
  for (int i = 0; i < 2; ++i) {
    const auto& h = f.j4["runs"][i]["heldout"];
    ASSERT_GE(h.size(), 4u) << f.j4.dump();
    EXPECT_EQ(h.back()[0], 20) << h.dump();
    EXPECT_FALSE(f.j4["runs"][i]["failed"].get<bool>());
  }
}

TEST(ViewerNeus, HeadlessCheckpointOpensPausedAndTheCameraMoves) {
  NF_SKIP_WITHOUT_VIEWER();
  const auto dir = nf_test::scratch("viewer_neus_spin");
  at::Tensor a, b;
  nlohmann::json j2;
  ASSERT_NO_FATAL_FAILURE(nf_test::spin_checkpoint(tiny_spec(), dir, " --preview-scale 1 --view normals", &a, &b, &j2));
  EXPECT_EQ(j2["camera"]["mode"], "normals");
  EXPECT_GT(b.std().item<double>(), 0.02);
  EXPECT_GT((a - b).abs().mean().item<double>(), 0.005) << "moving the camera did not change the picture";
}
