// mip-NeRF field and NeRF task: config round trip, exact per-pass calibration, chunk-invariant frozen
// rendering, training lowers the loss, exact resume, CLI errors. A tiny synthetic Blender scene (an
// analytically rendered coloured sphere, 16x16 pixels) is written to a scratch folder.
#include <gtest/gtest.h>

#include <ATen/ATen.h>
#include <c10/core/GradMode.h>
#include <torch/utils.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "datasets/image_io.h"
#include "fields/config.h"
#include "fields/mipnerf.h"
#include "fields/registry.h"
#include "render/ipe.h"
#include "support/cli.h"
#include "support/errors.h"
#include "support/resume_check.h"
#include "support/scene_tasks.h"
#include "support/test_data.h"
#include "tasks/nerf_task.h"
#include "tasks/trainer.h"

namespace {

constexpr int kRes = 16;  // the sphere scene's images: kRes x kRes

std::filesystem::path sphere_scene() {
  static std::filesystem::path dir;
  if (dir.empty()) {
    dir = nf_test::scratch("nerf_sphere");
    nf_test::write_sphere_split(dir, "train", 6, 0.0, kRes);
    nf_test::write_sphere_split(dir, "test", 2, 37.0, kRes);
  }
  return dir;
}

nf::NerfOptions small_options() {
  auto o = nf_test::nerf_options(sphere_scene().string(), /*samples=*/8, /*batch=*/128, /*seed=*/5);
  o.chunk = 4096;
  return o;
}

nf::Field fresh(const std::string& norm, int64_t width = 32) { return nf_test::tiny_mipnerf(norm, width); }

nf::TrainOptions train_opts(int64_t iters, const std::filesystem::path& dir, double lr = 5e-3) {
  return nf_test::quiet_train_options(iters, dir, lr);
}

}  // namespace

TEST(MipNeRF, ConfigRoundTripAndShapes) {
  for (const std::string norm : {"none", "bn", "ln", "gn", "cn"}) {
    auto f = nf::make_field(nf::mipnerf_config("small", norm));
    auto cfg = f->config();
    EXPECT_EQ(cfg["type"], "mipnerf");
    EXPECT_EQ(cfg["norm"], norm);
    auto g = nf::make_field(cfg);
    EXPECT_EQ(g->config(), cfg) << norm;
    EXPECT_EQ(f->in_dim(), nf::ipe_dim(0, 16) + nf::pos_enc_dim(3, 0, 4, true));  // 96 + 27
    EXPECT_EQ(f->out_dim(), 4);
    EXPECT_EQ(f->num_parameters(), g->num_parameters());
    EXPECT_EQ(static_cast<int64_t>(f->norm_layers().size()), norm == "none" ? 0 : 4);
    auto y = f->forward(at::randn({10, f->in_dim()}));
    ASSERT_EQ(y.sizes(), (at::IntArrayRef{10, 4}));
    EXPECT_TRUE((y.select(1, 3) >= 0).all().item<bool>());                      // density >= 0
    EXPECT_TRUE((y.slice(1, 0, 3) >= -0.001).all().item<bool>() && (y.slice(1, 0, 3) <= 1.001).all().item<bool>());
  }
  // Full preset: 8 x 256, skip after layer 4 (layer 5 takes 256 + 96 inputs), view branch 128.
  auto full = std::dynamic_pointer_cast<nf::MipNeRFImpl>(nf::make_field({{"type", "mipnerf"}, {"preset", "full"}}));
  ASSERT_TRUE(full);
  ASSERT_EQ(full->trunk.size(), 8u);
  EXPECT_EQ(full->trunk[4]->weight.size(1), 256);
  EXPECT_EQ(full->trunk[5]->weight.size(1), 256 + 96);
  EXPECT_EQ(full->density_head->weight.size(1), 256);
  EXPECT_EQ(full->view_layers[0]->weight.sizes(), (at::IntArrayRef{128, 256 + 27}));
  // Explicit keys override the preset; unknown keys / bad norms name the key.
  auto f2 = nf::make_field({{"type", "mipnerf"}, {"preset", "small"}, {"width", 48}});
  EXPECT_EQ(f2->config()["width"], 48);
  EXPECT_EQ(f2->config()["depth"], 4);
  EXPECT_THROW(nf::make_field({{"type", "mipnerf"}, {"widht", 3}}), nf::ConfigError);
  try {
    nf::make_field({{"type", "mipnerf"}, {"norm", "xn"}});
    FAIL();
  } catch (const nf::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("'norm'"), std::string::npos) << e.what();
  }
}

TEST(MipNeRF, PerPassCalibrationReproducesBatchMode) {
  auto field = fresh("cn");
  auto& m = nf::as_mipnerf(*field);
  const int64_t D = m.ipe_dim(), V = m.view_dim();
  auto xc = at::randn({300, D}), vc = at::randn({300, V});
  auto xf = at::randn({300, D}) * 0.3 + 1.0, vf = at::randn({300, V});  // other statistics
  c10::NoGradGuard ng;
  auto [dc, rc] = m.forward_nerf(xc, vc, nf::NerfPass::Coarse);  // batch mode
  auto [df, rf] = m.forward_nerf(xf, vf, nf::NerfPass::Fine);
  m.calibrate_nerf([&] { m.forward_nerf(xc, vc, nf::NerfPass::Coarse); },
                   [&] { m.forward_nerf(xf, vf, nf::NerfPass::Fine); });
  ASSERT_TRUE(m.has_pass_stats());
  EXPECT_FALSE(m.batch_dependent());
  auto [dc2, rc2] = m.forward_nerf(xc, vc, nf::NerfPass::Coarse);  // frozen, coarse statistics
  auto [df2, rf2] = m.forward_nerf(xf, vf, nf::NerfPass::Fine);    // frozen, fine statistics
  EXPECT_TRUE(at::allclose(dc, dc2, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(rc, rc2, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(df, df2, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(rf, rf2, 1e-4, 1e-5));
  // The passes really have different statistics: the fine ones on the coarse batch are wrong.
  auto [dx, rx] = m.forward_nerf(xc, vc, nf::NerfPass::Fine);
  EXPECT_FALSE(at::allclose(rc, rx, 1e-3, 1e-4));
  // Frozen output of a row does not depend on the other rows.
  auto [d1, r1] = m.forward_nerf(xc.slice(0, 0, 7), vc.slice(0, 0, 7), nf::NerfPass::Coarse);
  EXPECT_TRUE(at::allclose(r1, rc2.slice(0, 0, 7), 1e-5, 1e-6));
}

TEST(NerfTask, FrozenRenderIndependentOfChunk) {
  auto field = fresh("cn");
  nf::NerfTask task(small_options(), c10::Device(c10::kCPU));
  ASSERT_EQ(task.camera().H, kRes);
  nf::Trainer t(field, task, train_opts(3, {}));
  t.run();
  auto& m = nf::as_mipnerf(*field);
  auto pose = nf::orbit_poses(3, 4.0, 30.0)[1];
  // Batch mode: chunking changes the image (the reason for frozen mode).
  auto o = task.options();
  o.chunk = 7;
  auto b7 = nf::render_view(m, task.camera(), pose, o, c10::kCPU).rgb;
  o.chunk = kRes * kRes;
  auto ball = nf::render_view(m, task.camera(), pose, o, c10::kCPU).rgb;
  EXPECT_GT((b7 - ball).abs().max().item<double>(), 1e-4);
  // Frozen mode (calibrated per pass on a training batch): identical for any chunk size.
  const auto mode = task.calibrate(*field);
  EXPECT_NE(mode.find("frozen"), std::string::npos) << mode;
  std::vector<at::Tensor> imgs;
  for (int64_t chunk : {int64_t{7}, int64_t{64}, int64_t{kRes * kRes}}) {
    o.chunk = chunk;
    imgs.push_back(nf::render_view(m, task.camera(), pose, o, c10::kCPU).rgb);
  }
  EXPECT_LT((imgs[0] - imgs[2]).abs().max().item<double>(), 1e-5);
  EXPECT_LT((imgs[1] - imgs[2]).abs().max().item<double>(), 1e-5);
  // evaluate(): per-view metrics plus their means, and the mode it used.
  auto r = task.evaluate(*field);
  ASSERT_EQ(r["views"].size(), 2u);
  EXPECT_NEAR(r["psnr"].get<double>(),
              0.5 * (r["views"][0]["psnr"].get<double>() + r["views"][1]["psnr"].get<double>()), 1e-9);
  EXPECT_NE(r["norm_mode"].get<std::string>().find("frozen"), std::string::npos);
  auto out = nf_test::scratch("nerf_outputs");
  task.write_outputs(*field, out.string());
  EXPECT_TRUE(std::filesystem::exists(out / "compare_001.png"));
  EXPECT_TRUE(std::filesystem::exists(out / "depth_000.png"));
}

TEST(NerfTask, CalibrationUsesTheSamplesTrainingSees) {
  // Calibrating on the batch of step s makes frozen mode reproduce batch mode on that step exactly
  // (rays, coarse jitter, fine samples from the coarse weights), for both passes.
  auto field = fresh("cn");
  nf::NerfTask task(small_options(), c10::kCPU);
  nf::Trainer t(field, task, train_opts(2, {}));
  t.run();
  c10::NoGradGuard ng;
  auto batch = task.render_step(*field, 7);
  task.calibrate(*field, 7);
  auto frozen = task.render_step(*field, 7);
  EXPECT_TRUE(at::equal(batch.t_fine, frozen.t_fine) || at::allclose(batch.t_fine, frozen.t_fine, 1e-5, 1e-6));
  EXPECT_TRUE(at::allclose(batch.coarse.rgb, frozen.coarse.rgb, 1e-4, 1e-5));
  EXPECT_TRUE(at::allclose(batch.fine.rgb, frozen.fine.rgb, 1e-4, 1e-5));
  // Another step's batch is not reproduced exactly (its statistics differ).
  auto b8 = task.render_step(*field, 8);
  field->set_norm_mode(nf::NormMode::Batch);
  auto b8b = task.render_step(*field, 8);
  EXPECT_FALSE(at::allclose(b8.fine.rgb, b8b.fine.rgb, 1e-6, 1e-7));
}

TEST(NerfTask, TrainingLowersTheLoss) {
  for (const std::string norm : {"none", "cn"}) {
    auto field = fresh(norm);
    nf::NerfTask task(small_options(), c10::Device(c10::kCPU));
    auto before = task.evaluate(*field)["psnr"].get<double>();
    nf::Trainer t(field, task, train_opts(40, {}, 5e-3));
    t.run();
    const auto [first, last] = nf_test::first_and_last_5_losses(t.history());
    EXPECT_LT(last, 0.7 * first) << norm;
    auto after = task.evaluate(*field)["psnr"].get<double>();
    EXPECT_GT(after, before + 1.0) << norm;
  }
}

TEST(NerfTask, ResumeEqualsUninterruptedRun) {
  ASSERT_NO_FATAL_FAILURE((nf_test::expect_resume_equals_uninterrupted<nf::NerfTask>(
      small_options(), [] { return fresh("cn"); }, [](int64_t n, const std::filesystem::path& d) { return train_opts(n, d); },
      6, "nerf", 4, 5)));
}

TEST(NerfTask, PosesAndErrors) {
  // Orbit cameras look at the origin from the given radius/elevation.
  auto p = nf::orbit_poses(4, 4.0, 30.0);
  for (int k = 0; k < 4; ++k) {
    auto pos = p[k].slice(0, 0, 3).select(1, 3);
    EXPECT_NEAR(pos.norm().item<double>(), 4.0, 1e-5);
    EXPECT_NEAR(pos[2].item<double>(), 2.0, 1e-5);
    auto look = -p[k].slice(0, 0, 3).select(1, 2);
    EXPECT_NEAR((look + pos / 4.0).abs().max().item<double>(), 0.0, 1e-5);
  }
  auto dir = nf_test::scratch("nerf_poses");
  std::ofstream(dir / "bad.json") << "[[1, 2], 3]";
  const std::string bad = nf_test::error_of([&] { nf::load_pose_list(dir / "bad.json"); });
  EXPECT_NE(bad.find("bad.json: entry 0"), std::string::npos) << bad;
  auto o = small_options();
  o.scene = (dir / "missing").string();
  EXPECT_THROW({ nf::NerfTask t(o, c10::kCPU); }, std::runtime_error);
  struct Plain : nf::FieldImpl {
    torch::Tensor forward(torch::Tensor x) override { return x; }
    nlohmann::json config() const override { return {{"type", "plain"}}; }
    int64_t in_dim() const override { return 3; }
    int64_t out_dim() const override { return 3; }
  } plain;
  EXPECT_THROW(nf::as_mipnerf(plain), std::runtime_error);
}

using nf_test::CliRun;
using nf_test::normfield_exe;
using nf_test::run_cli;

TEST(NerfCli, OneLineErrors) {
  if (!std::filesystem::exists(normfield_exe())) GTEST_SKIP() << "normfield not built";
  auto dir = nf_test::scratch("nerf_cli");
  auto expect_error = [](const CliRun& r, const std::string& needle) { EXPECT_TRUE(nf_test::is_one_line_error(r, needle)); };
  expect_error(run_cli("nerf train --scene /nonexistent/lego --quiet --out " + dir.string()), "/nonexistent/lego");
  expect_error(run_cli("nerf train --scene " + dir.string() + " --config no_such_cfg --quiet"), "no_such_cfg");
  expect_error(run_cli("nerf eval --checkpoint /nonexistent/c.pt --out " + dir.string()), "/nonexistent/c.pt");
}

TEST(NerfCli, TrainEvalRenderSmoke) {
  if (!std::filesystem::exists(normfield_exe())) GTEST_SKIP() << "normfield not built";
  auto out = nf_test::scratch("nerf_cli_run");
  auto r = run_cli("nerf train --scene " + sphere_scene().string() +
                   " --config mipnerf_small_cn --iters 3 --batch 64 --n-coarse 8 --n-fine 8 --quiet --out " +
                   out.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_TRUE(std::filesystem::exists(out / "results.json"));
  EXPECT_TRUE(std::filesystem::exists(out / "compare_000.png"));
  auto ev = run_cli("nerf eval --checkpoint " + (out / "checkpoint.pt").string() + " --max-views 1 --out " +
                    (out / "eval").string());
  ASSERT_EQ(ev.code, 0) << ev.output;
  EXPECT_NE(ev.output.find("stored in the checkpoint"), std::string::npos) << ev.output;
  auto rd = run_cli("nerf render --checkpoint " + (out / "checkpoint.pt").string() + " --frames 2 --out " +
                    (out / "orbit").string());
  ASSERT_EQ(rd.code, 0) << rd.output;
  EXPECT_TRUE(std::filesystem::exists(out / "orbit" / "frame_001.png"));
}

TEST(NerfCli, BatchEvalTableResumeAndErrors) {
  if (!std::filesystem::exists(normfield_exe())) GTEST_SKIP() << "normfield not built";
  const auto out = nf_test::scratch("nerf_batch");
  const std::string args = "nerf batch-eval --scenes " + sphere_scene().string() +
                           " --configs mipnerf_small,mipnerf_small_cn --iters 2 --batch 32 --n-coarse 4 --n-fine 4"
                           " --max-views 1 --quiet --out " + out.string();
  auto r = run_cli(args);
  ASSERT_EQ(r.code, 0) << r.output;
  auto count_lines = [](const std::filesystem::path& p) {
    std::ifstream in(p);
    std::string l;
    int n = 0;
    while (std::getline(in, l)) n += !l.empty();
    return n;
  };
  EXPECT_EQ(count_lines(out / "results.jsonl"), 2);
  std::ifstream in(out / "table.md");
  std::stringstream md;
  md << in.rdbuf();
  EXPECT_NE(md.str().find("| ours: mipnerf_small (16x16) | 1 |"), std::string::npos) << md.str();
  EXPECT_NE(md.str().find("| ours: mipnerf_small_cn (16x16) | 1 |"), std::string::npos) << md.str();
  EXPECT_NE(md.str().find("CN − none"), std::string::npos) << md.str();
  EXPECT_NE(md.str().find("*paper: MipNeRF+CN*"), std::string::npos) << md.str();
  EXPECT_TRUE(std::filesystem::exists(out / "table.csv"));
  // A second invocation finds both runs in the store and trains nothing.
  auto again = run_cli(args);
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_NE(again.output.find("2 already in"), std::string::npos) << again.output;
  EXPECT_EQ(count_lines(out / "results.jsonl"), 2);
  // Bad input: one-line errors naming the folder / config, and the store is left as it was.
  auto bad_scene = run_cli("nerf batch-eval --scenes /nonexistent/scenes --quiet --out " + out.string());
  EXPECT_EQ(bad_scene.code, 1);
  EXPECT_NE(bad_scene.output.find("normfield: error: --scenes /nonexistent/scenes"), std::string::npos) << bad_scene.output;
  auto bad_cfg = run_cli("nerf batch-eval --scenes " + sphere_scene().string() + " --configs mipnerf_nope --out " + out.string());
  EXPECT_EQ(bad_cfg.code, 1);
  EXPECT_NE(bad_cfg.output.find("mipnerf_nope"), std::string::npos) << bad_cfg.output;
  EXPECT_EQ(count_lines(out / "results.jsonl"), 2);
}
