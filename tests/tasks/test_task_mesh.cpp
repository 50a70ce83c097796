// The "Extract mesh" hook (Task::mesh_info / Task::extract_mesh, tasks/mesh_request.h):
// NeRF: a short fit of a synthetic Blender scene of the unit sphere gives a closed mesh near the
// sphere, the same for two block sizes; progress, cancelling, one-line errors.
// Occupancy: the hook's mesh is the task's own (mesh_from_grid of the evaluation grid), closed.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <cmath>
#include <fstream>
#include <map>
#include <vector>

#include "datasets/image_io.h"
#include "fields/registry.h"
#include "render/mesh.h"
#include "render/mesh_blocks.h"
#include "support/errors.h"
#include "support/scene_tasks.h"
#include "support/test_data.h"
#include "tasks/nerf_task.h"
#include "tasks/occupancy_task.h"
#include "tasks/trainer.h"

namespace {

// A Blender scene of the unit sphere: 12 training views and 1 test view of 16x16 on an orbit of
// radius 4 (near 2, far 6).
std::filesystem::path sphere_scene() {
  static std::filesystem::path dir;
  if (!dir.empty()) return dir;
  dir = nf_test::scratch("mesh_nerf_sphere");
  nf_test::write_sphere_split(dir, "test", 1, 0.0);
  nf_test::write_sphere_split(dir, "train", 12, 0.0);
  return dir;
}

nf::NerfOptions sphere_options() {
  return nf_test::nerf_options(sphere_scene().string(), /*samples=*/16, /*batch=*/256, /*seed=*/3);
}

nf::Field fresh_nerf(const std::string& norm) { return nf_test::tiny_mipnerf(norm); }

}  // namespace

using nf_test::error_of;

TEST(TaskMesh, NerfSphereGivesAClosedMeshIndependentOfTheBlock) {
  auto field = fresh_nerf("cn");
  nf::NerfTask task(sphere_options(), c10::Device(c10::kCPU));
  const nf::MeshInfo info = task.mesh_info();
  ASSERT_TRUE(info.available);
  EXPECT_EQ(info.quantity, "density");
  EXPECT_NEAR(info.bbox_max[0], 2.0, 1e-3);  // cameras at distance 4, near plane 2
  EXPECT_NEAR(info.bbox_min[2], -2.0, 1e-3);
  nf::Trainer trainer(field, task, nf_test::quiet_train_options(150, {}));
  trainer.run();

  nf::MeshRequest r;
  r.resolution = 40;
  r.block = 16;
  r.step = trainer.step();
  r.use_bbox = true;  // the sphere's neighbourhood: voxels of 0.08
  r.bbox_min = {-1.6, -1.6, -1.6};
  r.bbox_max = {1.6, 1.6, 1.6};
  // After 150 steps the density is ~3-6 inside the sphere, ~1.6 at its surface, < 1 outside (the
  // default threshold of 10 is for trained fields).
  r.threshold = 2.0;
  std::vector<double> fractions;
  r.progress = [&](double f) {
    fractions.push_back(f);
    return true;
  };
  const auto a = task.extract_mesh(*field, r);
  ASSERT_TRUE(a.has_value());
  ASSERT_GT(a->num_faces(), 100);
  EXPECT_EQ(nf::count_boundary_edges(*a), 0);
  EXPECT_EQ(nf::count_nonmanifold_edges(*a), 0);
  EXPECT_GT(nf::signed_volume(*a), 0);
  ASSERT_EQ(fractions.size(), 3u);  // 40 node layers in slabs of 16
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  // The largest piece is near the unit sphere: the median vertex radius.
  const at::Tensor radius = a->vertices.norm(2, {1});
  const double median = radius.median().item<double>();
  EXPECT_GT(median, 0.7) << "median vertex radius";
  EXPECT_LT(median, 1.3) << "median vertex radius";
  // Another block size: the same mesh (frozen mode: no value depends on the other points).
  r.block = 7;
  r.progress = nullptr;
  const auto b = task.extract_mesh(*field, r);
  ASSERT_TRUE(b.has_value());
  ASSERT_EQ(a->num_vertices(), b->num_vertices());
  EXPECT_TRUE(at::equal(a->faces, b->faces));
  EXPECT_TRUE(at::allclose(a->vertices, b->vertices, 0, 1e-5));
  // A higher threshold: a smaller solid.
  r.threshold = 4.0;
  const auto c = task.extract_mesh(*field, r);
  EXPECT_LT(nf::signed_volume(*c), nf::signed_volume(*a));
  // Cancelling throws; the field keeps training afterwards.
  r.progress = [](double) { return false; };
  EXPECT_THROW(task.extract_mesh(*field, r), nf::MeshCancelled);
  trainer.run_steps(2);
  EXPECT_EQ(trainer.step(), 152);
  // Bad requests: one line naming the task and the setting.
  r.progress = nullptr;
  r.resolution = 1;
  const auto e1 = error_of([&] { task.extract_mesh(*field, r); });
  EXPECT_NE(e1.find("nerf: extract mesh: resolution 1"), std::string::npos) << e1;
  EXPECT_EQ(e1.find('\n'), std::string::npos);
  r.resolution = 16;
  r.bbox_max[1] = -2;
  const auto e2 = error_of([&] { task.extract_mesh(*field, r); });
  EXPECT_NE(e2.find("box"), std::string::npos) << e2;
}

TEST(TaskMesh, OccupancyHookGivesTheTasksOwnMesh) {
  // A cube [-0.6, 0.6]^3 as 12 outward triangles.
  nf::Mesh cube;
  cube.vertices = at::tensor({-1.f, -1.f, -1.f, 1.f, -1.f, -1.f, 1.f, 1.f, -1.f, -1.f, 1.f, -1.f,
                              -1.f, -1.f, 1.f,  1.f, -1.f, 1.f,  1.f, 1.f, 1.f,  -1.f, 1.f, 1.f})
                      .view({8, 3}) * 0.6;
  cube.faces = at::tensor({0, 2, 1, 0, 3, 2, 4, 5, 6, 4, 6, 7, 0, 1, 5, 0, 5, 4,
                           2, 3, 7, 2, 7, 6, 1, 2, 6, 1, 6, 5, 0, 4, 7, 0, 7, 3}, at::kLong).view({12, 3});
  nf::OccupancyTaskOptions opt;
  opt.points = 6000;
  opt.batch = 1000;
  opt.resolution = 24;
  opt.gt_check = 0;
  nf::OccupancyTask task(cube, opt, "cube");
  torch::manual_seed(0);
  auto field = nf::make_field(nf::method_config("pe+cn", 3, 1, 2, 32));
  nf::Trainer trainer(field, task, nf_test::quiet_train_options(40, {}));
  trainer.run();
  const nf::MeshInfo info = task.mesh_info();
  ASSERT_TRUE(info.available);
  EXPECT_DOUBLE_EQ(info.threshold, 0.5);
  nf::MeshRequest r;
  r.resolution = 24;
  r.block = 7;
  const auto m = task.extract_mesh(*field, r);
  ASSERT_TRUE(m.has_value());
  ASSERT_GT(m->num_faces(), 0);
  EXPECT_EQ(nf::count_boundary_edges(*m), 0);
  // The same surface as the task's evaluation grid gives (calibrated as evaluate() calibrates).
  task.prepare_evaluation(*field);
  const nf::Mesh ref = task.mesh_from_grid(task.predict_grid(*field, 24, 7));
  EXPECT_TRUE(at::equal(m->faces, ref.faces));
  EXPECT_TRUE(at::equal(m->vertices, ref.vertices));
  r.threshold = 1.5;
  const auto e = error_of([&] { task.extract_mesh(*field, r); });
  EXPECT_NE(e.find("occupancy: extract mesh: threshold"), std::string::npos) << e;
}
