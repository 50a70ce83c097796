// NeuS task (tasks/neus_task.h): chunk-invariant meshes in the world frame, training lowers the loss
// and gives a closed mesh, exact resume, one-line loader / config / CLI errors. A tiny DTU-style scene
// (make-scene of an octahedron-subdivided sphere, 8 views of 32x24) is written to a scratch folder.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/utils.h>

#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <array>

#include "datasets/make_scene.h"
#include "fields/config.h"
#include "fields/neus.h"
#include "fields/registry.h"
#include "support/cli.h"
#include "support/resume_check.h"
#include "support/scene_tasks.h"
#include "support/test_data.h"
#include "tasks/neus_task.h"
#include "tasks/trainer.h"

namespace {

// A sphere of radius 0.6 centred at (0.1, 0.2, 0.3): a subdivided octahedron, written as OBJ.
void write_sphere_obj(const std::filesystem::path& path, int subdiv = 3) {
  std::vector<std::array<double, 3>> v{{1, 0, 0}, {-1, 0, 0}, {0, 1, 0}, {0, -1, 0}, {0, 0, 1}, {0, 0, -1}};
  std::vector<std::array<int, 3>> f{{0, 2, 4}, {2, 1, 4}, {1, 3, 4}, {3, 0, 4}, {2, 0, 5}, {1, 2, 5}, {3, 1, 5}, {0, 3, 5}};
  for (int s = 0; s < subdiv; ++s) {
    std::map<std::pair<int, int>, int> mid;
    auto midpoint = [&](int a, int b) {
      auto key = std::minmax(a, b);
      auto it = mid.find(key);
      if (it != mid.end()) return it->second;
      std::array<double, 3> m{};
      double n = 0;
      for (int k = 0; k < 3; ++k) m[k] = v[a][k] + v[b][k], n += m[k] * m[k];
      for (int k = 0; k < 3; ++k) m[k] /= std::sqrt(n);
      v.push_back(m);
      return mid[key] = static_cast<int>(v.size()) - 1;
    };
    std::vector<std::array<int, 3>> g;
    for (auto t : f) {
      int a = midpoint(t[0], t[1]), b = midpoint(t[1], t[2]), c = midpoint(t[2], t[0]);
      g.push_back({t[0], a, c});
      g.push_back({t[1], b, a});
      g.push_back({t[2], c, b});
      g.push_back({a, b, c});
    }
    f = g;
  }
  std::ofstream out(path);
  for (auto p : v) out << "v " << 0.6 * p[0] + 0.1 << " " << 0.6 * p[1] + 0.2 << " " << 0.6 * p[2] + 0.3 << "\n";
  for (auto t : f) out << "f " << t[0] + 1 << " " << t[1] + 1 << " " << t[2] + 1 << "\n";
}

std::filesystem::path sphere_scene() {
  static std::filesystem::path dir;
  if (dir.empty()) {
    auto base = nf_test::scratch("neus_sphere");
    write_sphere_obj(base / "sphere.obj");
    dir = base / "scene";
    nf_test::make_tiny_dtu_scene(base / "sphere.obj", dir);
  }
  return dir;
}

nf::NeusOptions small_options() {
  nf::NeusOptions o;
  o.scene = sphere_scene().string();
  o.batch = 64;
  o.n_samples = 16;
  o.n_importance = 16;
  o.up_sample_steps = 2;
  o.holdout = 4;
  o.chunk = 512;
  o.mesh_resolution = 32;
  o.mesh_block = 16;
  o.seed = 5;
  return o;
}

nf::Field fresh(const std::string& norm) {
  torch::manual_seed(0);
  return nf::make_field(nf_test::tiny_neus_config(norm));
}

nf::TrainOptions train_opts(int64_t iters, const std::filesystem::path& dir, double lr = 5e-3) {
  return nf_test::quiet_train_options(iters, dir, lr);
}

// Every edge of a closed (watertight, edge-manifold) triangle mesh is shared by exactly two faces.
bool closed(const nf::Mesh& m) {
  std::map<std::pair<int64_t, int64_t>, int> edges;
  auto f = m.faces.to(at::kCPU).contiguous();
  auto a = f.accessor<int64_t, 2>();
  for (int64_t i = 0; i < f.size(0); ++i)
    for (int k = 0; k < 3; ++k) edges[std::minmax(a[i][k], a[i][(k + 1) % 3])]++;
  for (const auto& [e, n] : edges)
    if (n != 2) return false;
  return !edges.empty();
}

}  // namespace

TEST(NeusMesh, ChunkInvariantFrozenAndMappedToWorld) {
  for (const std::string norm : {"none", "cn", "bn"}) {
    auto f = fresh(norm);
    auto& m = nf::as_neus(*f);
    at::manual_seed(1);
    auto x = at::rand({2000, 3}) * 2 - 1;
    m.calibrate(x);  // frozen mode
    if (norm != "none") {  // a surface inside the ball: 30% of the points inside (refit init is ~constant)
      c10::NoGradGuard ng;
      auto s = std::get<0>(m.sdf(x * 0.5).sort());
      m.sdf_layers.back()->b[0].sub_(s[600].item<double>());
    }
    auto S = at::eye(4, at::kDouble);
    S.slice(0, 0, 3).slice(1, 0, 3).mul_(2.0);
    S[0][3] = 1.0, S[1][3] = 2.0, S[2][3] = 3.0;
    auto a = nf::neus_mesh(m, 24, 5, S, c10::kCPU);
    auto b = nf::neus_mesh(m, 24, 11, S, c10::kCPU);
    ASSERT_GT(a.num_faces(), 0) << norm;
    EXPECT_TRUE(at::equal(a.faces, b.faces)) << norm;  // same topology
    EXPECT_TRUE(at::allclose(a.vertices, b.vertices, 0, 1e-5)) << norm;  // BLAS rounding per block size only
    EXPECT_TRUE(closed(a)) << norm;
    auto plain = nf::neus_mesh(m, 24, 5, at::Tensor(), c10::kCPU);
    EXPECT_TRUE(at::allclose(a.vertices, plain.vertices * 2 + at::tensor({1.0f, 2.0f, 3.0f}), 1e-5, 1e-5)) << norm;
    if (norm == "none") {  // geometric init: the sphere of radius 0.5 -> radius 1 about (1, 2, 3) in the world
      auto r = (a.vertices - at::tensor({1.0f, 2.0f, 3.0f})).norm(2, {1});
      EXPECT_NEAR(r.mean().item<double>(), 1.0, 0.25);  // tiny 3 x 32 network: a rough sphere
    }
  }
}

TEST(NeusTask, TrainingLowersTheLossAndGivesAClosedMesh) {
  for (const std::string norm : {"none", "cn"}) {
    auto field = fresh(norm);
    auto opts = small_options();
    nf::NeusTask task(opts, c10::kCPU);
    EXPECT_EQ(task.train_views().size(), 6u);
    EXPECT_EQ(task.eval_views().size(), 2u);
    nf::Trainer t(field, task, train_opts(40, {}, 5e-3));
    t.run();
    const auto [first, last] = nf_test::first_and_last_5_losses(t.history());
    EXPECT_LT(last, 0.8 * first) << norm;
    auto ev = task.evaluate(*field);
    EXPECT_GT(ev["psnr"].get<double>(), 10.0) << norm;
    auto dir = nf_test::scratch("neus_train_" + norm);
    task.write_outputs(*field, dir.string());
    EXPECT_TRUE(std::filesystem::exists(dir / "mesh.ply"));
    EXPECT_TRUE(std::filesystem::exists(dir / "normal_000.png"));
    auto mesh = nf::neus_mesh(nf::as_neus(*field), 32, 16, task.scene().scale_mat, c10::kCPU);
    EXPECT_TRUE(closed(mesh)) << norm;
    // The scene's ground truth is found: chamfer reported, in world units of the r = 0.6 sphere.
    auto summary = task.outputs_summary();
    ASSERT_TRUE(summary.contains("chamfer")) << summary.dump();
    EXPECT_LT(summary["chamfer"]["overall"].get<double>(), 0.3) << norm;
  }
}

TEST(NeusTask, ResumeEqualsUninterruptedRun) {
  ASSERT_NO_FATAL_FAILURE((nf_test::expect_resume_equals_uninterrupted<nf::NeusTask>(
      small_options(), [] { return fresh("cn"); }, [](int64_t n, const std::filesystem::path& d) { return train_opts(n, d); },
      4, "neus", 3, 2)));
}

// norm_stats "uniform": the frozen statistics come from the uniform samples of a training batch (the
// field every pass of a training step evaluates), T = rays x n_samples; "final": the final pass's.
TEST(NeusTask, FrozenStatisticsComeFromTheSamplesThatDefineTheTrainingField) {
  for (const std::string stats : {"uniform", "final"}) {
    auto field = fresh("cn");
    auto opts = small_options();
    opts.norm_stats = stats;
    nf::NeusTask task(opts, c10::kCPU);
    const auto mode = task.calibrate(*field);
    EXPECT_NE(mode.find(stats == "uniform" ? "uniform samples" : "final-pass samples"), std::string::npos) << mode;
    const double T = static_cast<double>(opts.batch * (stats == "uniform" ? opts.n_samples
                                                                          : opts.n_samples + opts.n_importance));
    for (auto& n : field->norm_layers()) {
      EXPECT_EQ(n->mode(), nf::NormMode::Frozen);
      EXPECT_EQ(n->frozen_count.item<double>(), T) << stats;
    }
    EXPECT_EQ(nf::NeusOptions::from_json(opts.to_json(), "cfg", {}, true).norm_stats, stats);
  }
}

TEST(NeusTask, OptionsAndLoaderErrorsAreOneLine) {
  auto err = [](const std::function<void()>& f) {
    try {
      f();
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  auto e1 = err([] { nf::NeusOptions::from_json({{"n_sampels", 3}}, "cfg.json", {}, true); });
  EXPECT_NE(e1.find("cfg.json"), std::string::npos);
  EXPECT_NE(e1.find("n_sampels"), std::string::npos);
  auto e2 = err([] { nf::NeusOptions::from_json({{"n_importance", 30}, {"up_sample_steps", 4}}, "cfg.json", {}, true); });
  EXPECT_NE(e2.find("up_sample_steps"), std::string::npos);
  auto e6 = err([] { nf::NeusOptions::from_json({{"norm_stats", "both"}}, "cfg.json", {}, true); });
  EXPECT_NE(e6.find("cfg.json"), std::string::npos);
  EXPECT_NE(e6.find("norm_stats"), std::string::npos);
  EXPECT_EQ(e6.find('\n'), std::string::npos);
  auto o = small_options();
  o.scene = "/nonexistent/scan65";
  auto e3 = err([&] { nf::NeusTask t(o, c10::kCPU); });
  EXPECT_NE(e3.find("/nonexistent/scan65"), std::string::npos);
  // A scene without masks and mask_weight > 0.
  auto dir = nf_test::scratch("neus_nomask");
  std::filesystem::copy(sphere_scene(), dir / "s", std::filesystem::copy_options::recursive);
  std::filesystem::remove_all(dir / "s" / "mask");
  o.scene = (dir / "s").string();
  auto e4 = err([&] { nf::NeusTask t(o, c10::kCPU); });
  EXPECT_NE(e4.find("mask_weight"), std::string::npos) << e4;
  o.mask_weight = 0;
  EXPECT_NO_THROW({ nf::NeusTask t(o, c10::kCPU); });
  for (const auto& e : {e1, e2, e3, e4}) EXPECT_EQ(e.find('\n'), std::string::npos) << e;
  auto mlp = nf::make_field(nf::method_config("pe", 3, 1, 2, 8));
  auto e5 = err([&] { nf::NeusTask(small_options(), c10::kCPU).check_field(*mlp); });
  EXPECT_NE(e5.find("neus"), std::string::npos);
}

using nf_test::normfield_exe;
using nf_test::run_cli;

TEST(NeusCli, TrainEvalExportAndErrors) {
  if (!std::filesystem::exists(normfield_exe())) GTEST_SKIP() << "normfield not built";
  auto out = nf_test::scratch("neus_cli");
  auto one_line = [](const nf_test::CliRun& r, const std::string& needle) {
    EXPECT_TRUE(nf_test::is_one_line_error(r, needle));
  };
  one_line(run_cli("neus train --scene /nonexistent/scan --quiet --out " + out.string()), "/nonexistent/scan");
  one_line(run_cli("neus train --scene " + sphere_scene().string() + " --config no_such_cfg --quiet"), "no_such_cfg");
  one_line(run_cli("neus eval --checkpoint /nonexistent/c.pt --out " + out.string()), "/nonexistent/c.pt");
  auto r = run_cli("neus train --scene " + sphere_scene().string() +
                   " --config neus_small --iters 3 --batch 32 --mesh-resolution 24 --max-views 1 --quiet --out " +
                   (out / "run").string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out / "run" / "mesh.ply"));
  EXPECT_TRUE(std::filesystem::exists(out / "run" / "results.json"));
  auto ev = run_cli("neus eval --checkpoint " + (out / "run" / "checkpoint.pt").string() +
                    " --max-views 1 --mesh-resolution 24 --out " + (out / "eval").string());
  ASSERT_EQ(ev.code, 0) << ev.output;
  EXPECT_NE(ev.output.find("chamfer"), std::string::npos) << ev.output;  // the scene's gt_mesh.obj
  // --norm overrides the config's norm; the checkpoint's statistics then serve export-mesh.
  auto rc = run_cli("neus train --scene " + sphere_scene().string() +
                    " --config neus_small --norm cn --iters 2 --batch 32 --mesh-resolution 16 --max-views 0 --quiet --out " +
                    (out / "cn").string());
  ASSERT_EQ(rc.code, 0) << rc.output;
  auto exc = run_cli("export-mesh --checkpoint " + (out / "cn" / "checkpoint.pt").string() + " --resolution 16 --out " +
                     (out / "cn.ply").string());
  ASSERT_EQ(exc.code, 0) << exc.output;
  EXPECT_NE(exc.output.find("frozen (statistics from the checkpoint)"), std::string::npos) << exc.output;
  auto ex = run_cli("export-mesh --checkpoint " + (out / "run" / "checkpoint.pt").string() +
                    " --resolution 24 --out " + (out / "m.ply").string());
  ASSERT_EQ(ex.code, 0) << ex.output;
  EXPECT_NE(ex.output.find("faces"), std::string::npos) << ex.output;
  EXPECT_TRUE(std::filesystem::exists(out / "m.ply"));
}

namespace {

// The vertex colours of a binary little-endian PLY written by nf::write_ply (float x y z [nx ny nz],
// uchar red green blue), as [V][3] in [0, 1]; empty when the file has no colour properties.
std::vector<std::array<double, 3>> ply_vertex_colors(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  int64_t n_vertices = 0;
  std::vector<std::pair<std::string, std::string>> props;  // (type, name) of the vertex element
  bool in_vertex = false;
  while (std::getline(in, line) && line != "end_header") {
    std::istringstream ls(line);
    std::string w;
    ls >> w;
    if (w == "element") {
      std::string name;
      ls >> name;
      in_vertex = name == "vertex";
      if (in_vertex) ls >> n_vertices;
    } else if (w == "property" && in_vertex) {
      std::string type, name;
      ls >> type >> name;
      props.push_back({type, name});
    }
  }
  int red = -1;
  size_t stride = 0;
  std::vector<size_t> offset;
  for (size_t i = 0; i < props.size(); ++i) {
    offset.push_back(stride);
    stride += props[i].first == "uchar" ? 1 : 4;
    if (props[i].second == "red") red = static_cast<int>(i);
  }
  std::vector<std::array<double, 3>> out;
  if (red < 0) return out;
  std::vector<unsigned char> rec(stride);
  for (int64_t v = 0; v < n_vertices && in.read(reinterpret_cast<char*>(rec.data()), static_cast<std::streamsize>(stride)); ++v)
    out.push_back({rec[offset[red]] / 255.0, rec[offset[red + 1]] / 255.0, rec[offset[red + 2]] / 255.0});
  return out;
}

}  // namespace

// export-mesh --colors: the PLY of a NeuS checkpoint has one colour per vertex, in [0, 1], not all
// equal (the colour network sees each vertex's position, normal and feature); without --colors none.
TEST(NeusCli, ExportMeshVertexColors) {
  if (!std::filesystem::exists(normfield_exe())) GTEST_SKIP() << "normfield not built";
  auto out = nf_test::scratch("neus_colors");
  auto r = run_cli("neus train --scene " + sphere_scene().string() +
                   " --config neus_small --iters 3 --batch 32 --mesh-resolution 16 --max-views 0 --quiet --out " +
                   (out / "run").string());
  ASSERT_EQ(r.code, 0) << r.output;
  const auto ckpt = (out / "run" / "checkpoint.pt").string();
  auto ex = run_cli("export-mesh --checkpoint " + ckpt + " --resolution 24 --colors --out " + (out / "c.ply").string());
  ASSERT_EQ(ex.code, 0) << ex.output;
  EXPECT_NE(ex.output.find("vertex colours"), std::string::npos) << ex.output;
  const auto colors = ply_vertex_colors(out / "c.ply");
  ASSERT_GT(colors.size(), 10u) << ex.output;
  std::set<std::array<double, 3>> distinct;
  for (const auto& c : colors) {
    for (double x : c) {
      EXPECT_GE(x, 0.0);
      EXPECT_LE(x, 1.0);
    }
    distinct.insert(c);
  }
  EXPECT_GT(distinct.size(), 1u) << "every vertex has the same colour";
  auto plain = run_cli("export-mesh --checkpoint " + ckpt + " --resolution 24 --out " + (out / "p.ply").string());
  ASSERT_EQ(plain.code, 0) << plain.output;
  EXPECT_TRUE(ply_vertex_colors(out / "p.ply").empty());
}
