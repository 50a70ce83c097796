// Occupancy task: fast winding numbers agree with the exact sum; a short fit of a sphere reaches a
// high IoU and a closed mesh; export-mesh from the checkpoint reproduces the in-process mesh; the
// frozen-mode mesh does not depend on the evaluation block; resume is exact; bad inputs give one
// line naming the file.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "datasets/fast_winding.h"
#include "datasets/mesh_io.h"
#include "fields/registry.h"
#include "render/marching_cubes.h"
#include "render/mesh.h"
#include "support/cli.h"
#include "support/errors.h"
#include "support/shipped_data.h"
#include "support/test_data.h"
#include "tasks/checkpoint.h"
#include "tasks/occupancy_task.h"

namespace {

// Icosahedron subdivided `levels` times, projected on a sphere; faces counter-clockwise seen from
// outside.
nf::Mesh icosphere(int levels, double radius = 1.0) {
  const double t = (1.0 + std::sqrt(5.0)) / 2.0;
  std::vector<std::array<double, 3>> v = {{-1, t, 0}, {1, t, 0},  {-1, -t, 0}, {1, -t, 0},
                                          {0, -1, t}, {0, 1, t},  {0, -1, -t}, {0, 1, -t},
                                          {t, 0, -1}, {t, 0, 1},  {-t, 0, -1}, {-t, 0, 1}};
  std::vector<std::array<int64_t, 3>> f = {{0, 11, 5}, {0, 5, 1},  {0, 1, 7},   {0, 7, 10}, {0, 10, 11},
                                           {1, 5, 9},  {5, 11, 4}, {11, 10, 2}, {10, 7, 6}, {7, 1, 8},
                                           {3, 9, 4},  {3, 4, 2},  {3, 2, 6},   {3, 6, 8},  {3, 8, 9},
                                           {4, 9, 5},  {2, 4, 11}, {6, 2, 10},  {8, 6, 7},  {9, 8, 1}};
  for (int l = 0; l < levels; ++l) {
    std::map<std::pair<int64_t, int64_t>, int64_t> mid;
    auto midpoint = [&](int64_t a, int64_t b) {
      auto key = std::make_pair(std::min(a, b), std::max(a, b));
      auto it = mid.find(key);
      if (it != mid.end()) return it->second;
      v.push_back({(v[a][0] + v[b][0]) / 2, (v[a][1] + v[b][1]) / 2, (v[a][2] + v[b][2]) / 2});
      return mid[key] = static_cast<int64_t>(v.size()) - 1;
    };
    std::vector<std::array<int64_t, 3>> g;
    for (const auto& tri : f) {
      const int64_t a = midpoint(tri[0], tri[1]), b = midpoint(tri[1], tri[2]), c = midpoint(tri[2], tri[0]);
      g.push_back({tri[0], a, c});
      g.push_back({tri[1], b, a});
      g.push_back({tri[2], c, b});
      g.push_back({a, b, c});
    }
    f = g;
  }
  nf::Mesh m;
  m.vertices = at::empty({static_cast<int64_t>(v.size()), 3}, at::kFloat);
  for (size_t i = 0; i < v.size(); ++i) {
    const double n = std::sqrt(v[i][0] * v[i][0] + v[i][1] * v[i][1] + v[i][2] * v[i][2]);
    for (int a = 0; a < 3; ++a) m.vertices[i][a] = static_cast<float>(v[i][a] / n * radius);
  }
  m.faces = at::empty({static_cast<int64_t>(f.size()), 3}, at::kLong);
  for (size_t i = 0; i < f.size(); ++i)
    for (int a = 0; a < 3; ++a) m.faces[i][a] = f[i][a];
  return m;
}

void write_mesh_obj(const std::filesystem::path& path, const nf::Mesh& m) {
  std::ofstream out(path);
  for (int64_t i = 0; i < m.num_vertices(); ++i)
    out << "v " << m.vertices[i][0].item<float>() << " " << m.vertices[i][1].item<float>() << " "
        << m.vertices[i][2].item<float>() << "\n";
  for (int64_t i = 0; i < m.num_faces(); ++i)
    out << "f " << m.faces[i][0].item<int64_t>() + 1 << " " << m.faces[i][1].item<int64_t>() + 1 << " "
        << m.faces[i][2].item<int64_t>() + 1 << "\n";
}

void expect_same_mesh(const nf::Mesh& a, const nf::Mesh& b) {
  ASSERT_EQ(a.num_vertices(), b.num_vertices());
  ASSERT_EQ(a.num_faces(), b.num_faces());
  EXPECT_TRUE(at::equal(a.faces.cpu(), b.faces.cpu()));
  EXPECT_TRUE(at::allclose(a.vertices.cpu(), b.vertices.cpu(), 0, 1e-6));
}

using nf_test::error_of;
using nf_test::expect_one_line_naming;
using nf_test::have_cli;
using nf_test::run_cli;
using nf_test::slurp;

nf::OccupancyTaskOptions small_task(int64_t points, int64_t batch, int64_t resolution) {
  nf::OccupancyTaskOptions o;
  o.points = points;
  o.batch = batch;
  o.resolution = resolution;
  o.gt_check = 200;
  o.block = 16;
  return o;
}

}  // namespace

TEST(FastWinding, MatchesTheExactSumOnClosedAndOpenMeshes) {
  auto sphere = icosphere(2, 0.7);
  // An open variant: drop 10 faces (a hole) - winding numbers are then fractional near it.
  nf::Mesh open{sphere.vertices, sphere.faces.slice(0, 10)};
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  auto rnd = at::rand({3000, 3}, gen, at::kFloat) * 2 - 1;
  auto dirs = at::randn({1000, 3}, gen, at::kFloat);
  auto near = dirs / dirs.norm(2, {1}, true) * (0.7 + (at::rand({1000, 1}, gen, at::kFloat) - 0.5) * 0.1);
  auto pts = at::cat({rnd, near});
  for (const auto* m : {&sphere, &open}) {
    nf::FastWinding fw(*m);
    auto fast = fw.winding_numbers(pts);
    auto exact = nf::winding_numbers(*m, pts);
    EXPECT_LT((fast - exact).abs().max().item<double>(), 5e-3);
    auto agree = fw.occupancy(pts).eq(nf::occupancy_labels(*m, pts, nf::OccupancyMethod::WindingNumber));
    EXPECT_GE(agree.to(at::kDouble).mean().item<double>(), 0.999);
  }
  // Inside ~1, outside ~0 on the closed sphere.
  nf::FastWinding fw(sphere);
  auto w = fw.winding_numbers(at::tensor({0.f, 0.f, 0.f, 0.9f, 0.f, 0.f}).reshape({2, 3}));
  EXPECT_NEAR(w[0].item<float>(), 1.0, 5e-3);
  EXPECT_NEAR(w[1].item<float>(), 0.0, 5e-3);
}

TEST(FastWinding, MatchesTheExactSumOnTheBunny) {
  auto path = nf_test::shipped_data() / "meshes" / "bunny_2.5k_instantngp.obj";
  auto mesh = nf::normalize_to_cube(nf::load_mesh(path.string()), 0.05);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  auto pts = at::rand({1500, 3}, gen, at::kFloat) * 2 - 1;
  nf::FastWinding fw(mesh);
  EXPECT_LT((fw.winding_numbers(pts) - nf::winding_numbers(mesh, pts)).abs().max().item<double>(), 1e-2);
}

TEST(Occupancy, SphereFitIsAccurateClosedAndExportable) {
  torch::manual_seed(0);
  auto dir = nf_test::scratch("occ_sphere");
  nf::TrainOptions o;
  o.iters = 250;
  o.lr = nf::lr_schedule_from_string("exponential", 5e-3, 5e-4);
  o.progress = false;
  o.out_dir = dir;
  auto task = small_task(20000, 2048, 32);
  auto r = nf::fit_shape(icosphere(2), nf::method_config("pe+cn", 3, 1, 2, 64), o, task, at::kCPU, "sphere");
  EXPECT_GT(r.metrics["iou"].get<double>(), 0.9) << r.metrics.dump();
  EXPECT_EQ(r.metrics["norm_mode"].get<std::string>().rfind("frozen", 0), 0u) << r.metrics.dump();
  EXPECT_GE(r.metrics["gt_check"]["agreement"].get<double>(), 0.99);
  // The extracted mesh is one closed sphere-like surface.
  ASSERT_GT(r.mesh.num_faces(), 0);
  EXPECT_EQ(nf::count_boundary_edges(r.mesh), 0);
  EXPECT_EQ(nf::count_nonmanifold_edges(r.mesh), 0);
  EXPECT_EQ(nf::euler_characteristic(r.mesh), 2);
  EXPECT_GT(nf::signed_volume(r.mesh), 0);
  for (const char* f : {"mesh.ply", "mesh.obj", "slices.png", "results.json", "checkpoint.pt"})
    EXPECT_TRUE(std::filesystem::exists(dir / f)) << f;

  // export-mesh from the checkpoint: the same mesh as the in-process extraction.
  std::string mode;
  auto exported = nf::occupancy_mesh_from_checkpoint(dir / "checkpoint.pt", 32, 0.5, 16, at::kCPU, &mode);
  EXPECT_EQ(mode.rfind("frozen", 0), 0u) << mode;
  expect_same_mesh(r.mesh, exported);

  // Frozen mode: the mesh does not depend on the evaluation block size.
  auto other_block = nf::occupancy_mesh_from_checkpoint(dir / "checkpoint.pt", 32, 0.5, 5, at::kCPU);
  expect_same_mesh(exported, other_block);
  // In batch mode (no frozen statistics used) the blocks would differ: the test can tell.
  auto field = nf::load_field(dir / "checkpoint.pt");
  field->set_norm_mode(nf::NormMode::Batch);
  auto lo = at::full({3}, -1.0f), hi = at::full({3}, 1.0f);
  nf::FieldFn fn = [&](const at::Tensor& x) { return field->forward(x).select(1, 0); };
  EXPECT_FALSE(at::allclose(nf::sample_grid(fn, 20, lo, hi, 5), nf::sample_grid(fn, 20, lo, hi, 20), 1e-4, 1e-4));

  // A higher threshold gives a smaller surface.
  auto tight = nf::occupancy_mesh_from_checkpoint(dir / "checkpoint.pt", 32, 0.9, 16, at::kCPU);
  EXPECT_LT(nf::signed_volume(tight), nf::signed_volume(exported));
}

TEST(Occupancy, ResumeRepeatsAnUninterruptedRun) {
  auto mesh = icosphere(1);
  auto cfg = nf::method_config("relu+cn", 3, 1, 2, 16);
  auto task_opts = small_task(2000, 256, 8);
  // A 20-step run stopped after 10 steps (checkpoint) and resumed vs one run straight through.
  auto train = [&](const std::filesystem::path& dir, int64_t stop_after, bool resume) {
    torch::manual_seed(1);
    auto field = nf::make_field(cfg);
    nf::OccupancyTask task(mesh, task_opts, "sphere");
    nf::TrainOptions o;
    o.iters = 20;
    o.lr = nf::lr_schedule_from_string("exponential", 5e-3, 5e-4);
    o.progress = false;
    o.out_dir = dir;
    o.resume = resume;
    nf::Trainer t(field, task, o);
    if (stop_after > 0) {
      t.run_steps(stop_after);
      t.save(t.checkpoint_path());
    } else {
      t.run();
    }
    return field;
  };
  auto straight = train(nf_test::scratch("occ_resume_a"), 0, false);
  auto dir = nf_test::scratch("occ_resume_b");
  train(dir, 10, false);
  auto resumed = train(dir, 0, true);
  auto a = straight->parameters(), b = resumed->parameters();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(at::equal(a[i], b[i])) << "parameter " << i;
}

TEST(Occupancy, BadInputsGiveOneLineNamingTheFile) {
  auto dir = nf_test::scratch("occ_bad");
  const std::string missing = "/nonexistent/shape.obj";
  expect_one_line_naming(error_of([&] { nf::load_mesh(missing); }), missing);
  const auto nofaces = (dir / "nofaces.obj").string();
  std::ofstream(nofaces) << "v 0 0 0\nv 1 0 0\nv 0 1 0\n";
  expect_one_line_naming(error_of([&] { nf::load_mesh(nofaces); }), nofaces);
  // Checkpoints: missing, corrupt, not an occupancy one.
  const auto nockpt = (dir / "none.pt").string();
  expect_one_line_naming(error_of([&] { nf::occupancy_mesh_from_checkpoint(nockpt, 8, 0.5); }), nockpt);
  const auto corrupt = (dir / "corrupt.pt").string();
  std::ofstream(corrupt) << "not a checkpoint";
  expect_one_line_naming(error_of([&] { nf::occupancy_mesh_from_checkpoint(corrupt, 8, 0.5); }), corrupt);
  const auto image_ckpt = dir / "image.pt";
  auto field = nf::make_field(nf::method_config("relu", 2, 3, 2, 8));
  nf::save_checkpoint(image_ckpt, *field, nullptr, {0, field->config(), {{"task", "image"}}, {}});
  auto msg = error_of([&] { nf::occupancy_mesh_from_checkpoint(image_ckpt, 8, 0.5); });
  expect_one_line_naming(msg, image_ckpt.string());
  EXPECT_NE(msg.find("occupancy"), std::string::npos) << msg;
  expect_one_line_naming(error_of([&] { nf::occupancy_mesh_from_checkpoint(image_ckpt, 8, 1.5); }), "threshold");

  if (!have_cli()) GTEST_SKIP() << "normfield not built: CLI checks skipped";
  // Each CLI start costs ~1 s (LibTorch, Open3D): the library checks above cover the rest.
  for (const auto& [args, needle] : std::vector<std::pair<std::string, std::string>>{
           {"fit-shape --quiet --mesh " + nofaces + " --out " + (dir / "o").string(), nofaces},
           {"export-mesh --checkpoint " + corrupt, corrupt}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.code, 1) << args << "\n" << r.output;
    EXPECT_NE(r.output.find("normfield: error: "), std::string::npos) << r.output;
    EXPECT_NE(r.output.find(needle), std::string::npos) << r.output;
    EXPECT_LE(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
  }
}

TEST(Occupancy, CliFitShapeThenExportMeshGivesTheSameFile) {
  if (!have_cli()) GTEST_SKIP() << "normfield not built";
  auto dir = nf_test::scratch("occ_cli");
  write_mesh_obj(dir / "sphere.obj", icosphere(1));
  auto fit = run_cli("fit-shape --quiet --mesh " + (dir / "sphere.obj").string() +
                     " --method relu+cn --arch 2x32 --iters 60 --batch 1024 --points 5000 --resolution 24"
                     " --gt-check 0 --out " + (dir / "run").string());
  ASSERT_EQ(fit.code, 0) << fit.output;
  EXPECT_NE(fit.output.find("IoU"), std::string::npos) << fit.output;
  auto exp = run_cli("export-mesh --checkpoint " + (dir / "run" / "checkpoint.pt").string() +
                     " --resolution 24 --out " + (dir / "export.ply").string());
  ASSERT_EQ(exp.code, 0) << exp.output;
  EXPECT_EQ(slurp(dir / "export.ply"), slurp(dir / "run" / "mesh.ply"));
  auto obj = run_cli("export-mesh --checkpoint " + (dir / "run" / "checkpoint.pt").string() +
                     " --resolution 24 --out " + (dir / "export.obj").string());
  ASSERT_EQ(obj.code, 0) << obj.output;
  EXPECT_EQ(slurp(dir / "export.obj"), slurp(dir / "run" / "mesh.obj"));
}
