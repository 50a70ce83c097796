// normfield-viewer's "Extract mesh" on a tiny NeRF run of the shipped lego_100 (50x50 images, 9
// training views, 128 rays of 8 + 8 samples).
// 1. The run thread (no display): MeshJob asks the task what it offers, extracts on the training
//    thread with progress, saves a closed PLY atomically, and training goes on afterwards.
// 2. Under Xvfb: a headless lockstep run with --extract-mesh-at / --save-mesh: the 3-D view shows the
//    GLSL-shaded mesh (not blank, different from the field's picture) and the saved PLY is closed.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/viewer/mesh_job.h"
#include "app/viewer/training_run.h"
#include "datasets/image_io.h"
#include "datasets/mesh_io.h"
#include "fields/mipnerf.h"
#include "render/mesh.h"
#include "support/shipped_data.h"
#include "support/cli.h"
#include "support/test_data.h"
#include "support/viewer.h"

namespace {

using nf::viewer::MeshJob;
using nf::viewer::RunSpec;
using nf::viewer::TrainingRun;
using nf_test::panel;
using nf_test::sidecar;
using nf_test::viewer_path;

std::filesystem::path lego() { return nf_test::shipped_data() / "nerf_synthetic" / "lego_100"; }

// The density threshold of the tests: after 60 steps the tiny field's density reaches it on the
// model (and stays below it in the empty space around).
constexpr double kThreshold = 2.0;

RunSpec tiny_spec() {
  RunSpec s;
  s.task = {{"task", "nerf"},   {"scene", lego().string()}, {"downscale", 2}, {"batch", 128},
            {"n_coarse", 8},    {"n_fine", 8},              {"eval_max_views", 1}};
  s.field = nf::mipnerf_config("small", "cn");
  s.lr = 5e-3;
  s.heldout_every = 1000;
  s.name = "tiny cn";
  return s;
}

nf::Mesh read_ply(const std::string& path) {
  const nf::Mesh t = nf::read_ply_builtin(path);
  nf::Mesh m;
  m.vertices = t.vertices;
  m.faces = t.faces;
  return m;
}

}  // namespace

TEST(ViewerMesh, JobExtractsOnTheTrainingThreadAndSavesAClosedPly) {
  ASSERT_TRUE(std::filesystem::exists(lego() / "transforms_train.json")) << lego();
  const auto dir = nf_test::scratch("viewer_mesh_job");
  TrainingRun run(tiny_spec(), /*paused=*/true, /*steps_per_slice=*/10);
  ASSERT_TRUE(run.wait_for_step(0, 120));
  MeshJob job(run);
  nf::MeshInfo info;
  for (int i = 0; i < 2000 && !job.info(info); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(job.info(info));
  EXPECT_TRUE(info.available);
  EXPECT_EQ(info.quantity, "density");
  run.step(60);
  ASSERT_TRUE(run.wait_for_step(60, 300));
  nf::MeshRequest r;
  r.resolution = 48;
  r.threshold = kThreshold;
  r.block = 16;
  job.start(r);
  ASSERT_TRUE(job.wait_idle(300));
  nf::viewer::MeshBuf m;
  ASSERT_TRUE(job.latest(m)) << job.status().message;
  EXPECT_EQ(m.step, 60);
  EXPECT_EQ(m.resolution, 48);
  EXPECT_DOUBLE_EQ(m.threshold, kThreshold);
  ASSERT_GT(m.faces, 50) << job.status().message;
  EXPECT_EQ(m.boundary_edges, 0);
  EXPECT_EQ(m.positions.size(), static_cast<size_t>(3 * m.vertices));
  EXPECT_EQ(m.indices.size(), static_cast<size_t>(3 * m.faces));
  EXPECT_DOUBLE_EQ(job.status().progress, 1.0);
  // Save PLY: atomic (no .tmp left), closed, the same size as the mesh shown.
  const auto ply = (dir / "sub" / "mesh.ply").string();
  job.save_ply(ply);
  ASSERT_TRUE(job.wait_idle(60));
  EXPECT_EQ(job.status().message, "saved " + ply);
  ASSERT_TRUE(std::filesystem::exists(ply));
  EXPECT_FALSE(std::filesystem::exists(ply + ".tmp"));
  const nf::Mesh back = read_ply(ply);
  EXPECT_EQ(back.num_faces(), m.faces);
  EXPECT_EQ(nf::count_boundary_edges(back), 0);
  // A save that cannot be written: one line naming the path, nothing else breaks.
  std::ofstream(dir / "file") << "x";
  job.save_ply((dir / "file" / "mesh.ply").string());
  ASSERT_TRUE(job.wait_idle(60));
  EXPECT_NE(job.status().message.find((dir / "file").string()), std::string::npos) << job.status().message;
  // Cancel: the job stops, keeps the last mesh, and training goes on.
  r.resolution = 256;
  job.start(r);
  job.cancel();
  ASSERT_TRUE(job.wait_idle(300));
  EXPECT_EQ(job.status().version, 1);
  run.step(10);
  ASSERT_TRUE(run.wait_for_step(70, 300));
  nf::viewer::Snapshot s;
  ASSERT_TRUE(run.latest(s));
  EXPECT_FALSE(s.failed) << s.status;
}

// ------------------------------------------------------------------ the viewer under Xvfb
namespace {

using Run = nf_test::CliRun;
Run run_cmd(const std::string& cmd) { return nf_test::run_shell(cmd); }

}  // namespace

TEST(ViewerMesh, HeadlessExtractShowsTheShadedMeshAndSavesAClosedPly) {
  NF_SKIP_WITHOUT_VIEWER();
  const auto dir = nf_test::scratch("viewer_mesh_gui");
  const auto shot = (dir / "mesh.png").string(), ply = (dir / "lego.ply").string();
  char thr[32];
  std::snprintf(thr, sizeof thr, "%g", kThreshold);
  const auto r = run_cmd(
      "xvfb-run -a -s '-screen 0 1280x720x24' " + viewer_path() + " --task nerf --scene " + lego().string() +
      " --config mipnerf_small_cn --set downscale=2 --set batch=128 --set n_coarse=8 --set n_fine=8"
      " --set eval_max_views=1 --threads 1 --preview-scale 0.5 --width 1100 --height 600 --lockstep"
      " --steps-per-frame 10 --heldout-every 1000 --frames 7 --extract-mesh-at 7 --mesh-resolution 64"
      " --mesh-threshold " + std::string(thr) + " --save-mesh " + ply + " --screenshot-at 6,7 --screenshot " + shot +
      " --out " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto p6 = dir / "mesh-6.png", p7 = dir / "mesh-7.png";
  ASSERT_TRUE(std::filesystem::exists(p7)) << r.output;
  const auto j6 = sidecar(p6), j7 = sidecar(p7);
  EXPECT_EQ(j6["mesh_show"], "field");
  EXPECT_EQ(j7["mesh_show"], "mesh");
  EXPECT_EQ(j7["runs"][0]["step"], 70);
  ASSERT_TRUE(j7["runs"][0].contains("mesh")) << j7.dump();
  EXPECT_GT(j7["runs"][0]["mesh"]["faces"].get<int64_t>(), 50);
  EXPECT_EQ(j7["runs"][0]["mesh"]["boundary_edges"].get<int64_t>(), 0);
  // The mesh view: not blank (shaded: many grey levels), and not the field's picture.
  const auto field = panel(nf::load_image(p6).pixels, j6, "A/view");
  const auto mesh = panel(nf::load_image(p7).pixels, j7, "A/view");
  EXPECT_GT(mesh.std().item<double>(), 0.03) << "the mesh view is blank";
  const at::Tensor bg = mesh[0][0];  // a corner: the mesh view's background
  const double covered = (mesh - bg).abs().sum(2).gt(0.05).to(at::kFloat).mean().item<double>();
  EXPECT_GT(covered, 0.01) << "no mesh pixels";
  EXPECT_LT(covered, 0.9) << "the mesh fills the whole view";
  EXPECT_GT((mesh - field).abs().mean().item<double>(), 0.02) << "the mesh view shows the field's picture";
  // The saved PLY (written atomically by write_ply): non-empty and closed.
  ASSERT_TRUE(std::filesystem::exists(ply)) << r.output;
  const nf::Mesh m = read_ply(ply);
  EXPECT_GT(m.num_faces(), 50);
  EXPECT_EQ(m.num_faces(), j7["runs"][0]["mesh"]["faces"].get<int64_t>());
  EXPECT_EQ(nf::count_boundary_edges(m), 0);
}

TEST(ViewerMesh, BadMeshFlagsGiveOneLine) {
  if (!std::filesystem::exists(viewer_path())) GTEST_SKIP() << "normfield-viewer not built";
  for (const std::string& flags : {std::string("--mesh-resolution 5000"), std::string("--mesh-show wire"),
                                   std::string("--frames 3 --extract-mesh-at 9")}) {
    const auto r = run_cmd(viewer_path() + " --zone-plate 16 " + flags);
    EXPECT_EQ(r.code, 1) << flags << ": " << r.output;
    EXPECT_NE(r.output.find(flags.substr(flags.rfind("--"), flags.find(' ', flags.rfind("--")) - flags.rfind("--"))),
              std::string::npos)
        << r.output;
  }
}
