// CT and MRI tasks: the forward models are consistent (loss of the ground truth is zero), short
// fits improve clearly on the initial field, outputs are written, bad inputs name the file.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <filesystem>
#include <functional>

#include "datasets/ct_data.h"
#include "datasets/image_metrics.h"
#include "datasets/mri_data.h"
#include "fields/registry.h"
#include "support/shipped_data.h"
#include "support/test_data.h"
#include "tasks/ct_task.h"
#include "tasks/fit.h"
#include "tasks/mri_task.h"

namespace {

// These fits are tiny (1k-4k points): one thread avoids OpenMP barrier stalls when the two cores
// are shared with other jobs (measured: 70x slower with 2 threads on a loaded machine).
class OneThread : public ::testing::Environment {
 public:
  void SetUp() override { torch::set_num_threads(1); }
};
const auto* const kOneThread = ::testing::AddGlobalTestEnvironment(new OneThread);

nf::TrainOptions quick(int64_t iters, double lr, const std::string& schedule = "constant") {
  nf::TrainOptions o;
  o.iters = iters;
  o.lr = nf::lr_schedule_from_string(schedule, lr, lr / 10);
  o.progress = false;
  return o;
}

nf::FitResult fit_ct(nf::CtTask& task, const std::string& method, int64_t iters,
                            const std::filesystem::path& out = {}) {
  torch::manual_seed(0);
  auto o = quick(iters, 5e-3, "exponential");
  o.out_dir = out;
  return nf::fit_task(task, nf::method_config(method, 2, 1, 2, 64), o, at::kCPU,
                         [&](nf::FieldImpl& f) { return task.reconstruct(f); });
}

// A smooth ball with a brighter off-centre blob: [n, n, n] in [0, 1].
at::Tensor blurred_ball(int64_t n) {
  auto c = nf::volume_coordinates(n, n, n);  // [n^3, 3]
  auto r = c.norm(2, 1);
  auto blob = (c - at::tensor({0.25f, -0.2f, 0.1f})).norm(2, 1);
  auto v = 0.6 * at::sigmoid((0.7 - r) / 0.04) + 0.35 * at::sigmoid((0.3 - blob) / 0.03);
  return v.reshape({n, n, n}).clamp(0, 1).contiguous();
}

nf::FitResult fit_mri(nf::MriTask& task, const std::string& method, int64_t iters,
                             const std::filesystem::path& out = {}) {
  torch::manual_seed(0);
  auto o = quick(iters, method == "relu" ? 2e-3 : 5e-3);
  o.out_dir = out;
  return nf::fit_task(task, nf::method_config(method, 3, 1, 2, 64), o, at::kCPU,
                         [&](nf::FieldImpl& f) { return task.reconstruct(f); });
}

}  // namespace

TEST(CtTask, LossOfTheGroundTruthIsZero) {
  nf::CtTask task(nf::load_ct_image("shepp_logan", 32), {30}, "shepp_logan");
  EXPECT_LT(task.loss_of(task.problem().image).item<double>(), 1e-10);
  EXPECT_GT(task.loss_of(task.problem().image * 0.9).item<double>(), 1e-3);
  EXPECT_EQ(task.problem().sinogram.sizes(), (std::vector<int64_t>{30, 32}));
}

TEST(CtTask, ShortFitImprovesOnTheInitialField) {
  nf::CtTask task(nf::load_ct_image("shepp_logan", 32), {30}, "shepp_logan");
  const auto before = fit_ct(task, "pe+cn", 0).metrics;
  const auto out = nf_test::scratch("ct-fit");
  auto r = fit_ct(task, "pe+cn", 300, out);
  const double p0 = before["psnr"], p1 = r.metrics["psnr"];
  std::printf("CT 32^2 30 angles pe+cn 2x64: PSNR %.2f -> %.2f (FBP %.2f), SSIM %.3f, loss %.4g -> %.4g\n", p0, p1,
              r.metrics["fbp_psnr"].get<double>(), r.metrics["ssim"].get<double>(),
              r.history.front().loss, r.history.back().loss);
  EXPECT_GT(p1, p0 + 5.0);
  EXPECT_GT(p1, 19.0);
  EXPECT_LT(r.history.back().loss, 0.05 * r.history.front().loss);
  EXPECT_GT(r.metrics["ssim"].get<double>(), before["ssim"].get<double>());
  EXPECT_GT(r.metrics["fbp_psnr"].get<double>(), 10.0);
  for (const char* f : {"comparison.png", "reconstruction.png", "sinogram.png", "results.json", "checkpoint.pt"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  EXPECT_EQ(r.metrics["task"]["angles"], 30);
}

TEST(MriTask, LossOfTheGroundTruthIsZero) {
  auto vol = blurred_ball(16);
  nf::MriTask task(vol, {"gaussian", 0.5, 0}, "ball");
  EXPECT_LT(task.loss_of(vol).item<double>(), 1e-12);
  EXPECT_GT(task.loss_of(vol * 0.9).item<double>(), 1e-5);
  // Unsampled frequencies do not count: a change there leaves the loss at zero.
  auto hidden = nf::mri_inverse(nf::mri_forward(vol) * (1 - task.problem().mask));  // complex
  EXPECT_GT(at::abs(hidden).max().item<double>(), 1e-3);
  EXPECT_LT(task.loss_of(vol + hidden).item<double>(), 1e-12);
  EXPECT_NEAR(task.problem().mask.mean().item<double>(), 0.5, 0.01);
}

TEST(MriTask, ShortFitImprovesOnTheInitialField) {
  auto vol = blurred_ball(16);
  nf::MriTask task(vol, {"gaussian", 0.5, 0}, "ball");
  const auto before = fit_mri(task, "relu+cn", 0).metrics;
  const auto out = nf_test::scratch("mri-fit");
  auto r = fit_mri(task, "relu+cn", 150, out);
  const double p0 = before["psnr"], p1 = r.metrics["psnr"];
  std::printf("MRI 16^3 50%% gaussian relu+cn 2x64: PSNR %.2f -> %.2f (zero-filled %.2f), SSIM %.3f\n", p0, p1,
              r.metrics["zf_psnr"].get<double>(), r.metrics["ssim"].get<double>());
  EXPECT_GT(p1, p0 + 8.0);
  EXPECT_LT(r.history.back().loss, 0.05 * r.history.front().loss);
  EXPECT_EQ(r.metrics["task"]["mask"], "gaussian");
  EXPECT_EQ(r.metrics["task"]["rate"], 0.5);
  EXPECT_EQ(r.metrics["task"]["mask_seed"], 0);
  for (const char* f : {"comparison.png", "reconstruction.png", "mask.png", "mask.npy", "results.json"})
    EXPECT_TRUE(std::filesystem::exists(out / f)) << f;
  // The saved mask is the task's mask.
  auto saved = nf::load_npy(out / "mask.npy");
  EXPECT_TRUE(saved.to(at::kFloat).equal(task.problem().mask));
}

// The whole-grid base (tasks/grid_inverse_task.h): each task's names in evaluate's JSON and config,
// metrics computed in the calibrated frozen mode equal to those of the batch-mode pass, the baseline's
// metrics against the truth, and previews of the image as it is and of a volume as its middle slices.
TEST(GridInverseTask, EvaluateNamesTheTasksNumbersAndCalibratesExactly) {
  nf::CtTask ct(nf::load_ct_image("shepp_logan", 32), {30}, "shepp_logan");
  nf::MriTask mri(blurred_ball(16), {"gaussian", 0.5, 0}, "ball");
  struct Case {
    nf::GridInverseTask* task;
    int64_t in_dim;
    const char *loss, *baseline, *note, *extra;
  };
  for (const Case& c : {Case{&ct, 2, "sinogram_mse", "fbp", "batch (full grid; frozen statistics calibrated on it)",
                             "metric_notes"},
                        Case{&mri, 3, "kspace_mse", "zf", "batch (whole grid; frozen statistics calibrated on it)",
                             "sampled_fraction"}}) {
    SCOPED_TRACE(c.task->name());
    torch::manual_seed(0);
    auto field = nf::make_field(nf::method_config("pe+cn", c.in_dim, 1, 2, 32));
    field->set_norm_mode(nf::NormMode::Batch);
    const auto batch = c.task->reconstruct(*field);  // the whole-grid batch output
    const auto m = c.task->evaluate(*field);
    // Frozen statistics calibrated on the grid reproduce the batch output, and the loss is of it.
    EXPECT_TRUE(at::allclose(c.task->reconstruct(*field), batch, 1e-5, 1e-6));
    EXPECT_NEAR(m.at(c.loss).get<double>(), c.task->loss_of(batch).item<double>(), 1e-6);
    EXPECT_EQ(m.at("norm_mode"), c.note);
    EXPECT_TRUE(m.contains(c.extra));
    const auto truth = c.task->truth().to(at::kCPU);
    EXPECT_NEAR(m.at(std::string(c.baseline) + "_psnr").get<double>(), nf::psnr_float(c.task->baseline(), truth),
                1e-9);
    EXPECT_NEAR(m.at("psnr").get<double>(), nf::psnr_float(batch.clamp(0, 1), truth), 1e-3);
    EXPECT_EQ(m.at("params").get<int64_t>(), field->num_parameters());
    const auto cfg = c.task->config();
    EXPECT_EQ(cfg.at("task").get<std::string>(), c.task->name());
    EXPECT_TRUE(cfg.contains("source"));
    EXPECT_EQ(c.task->points_per_step(), truth.numel());
  }
  auto siren = nf::make_field(nf::method_config("siren", 2, 1, 2, 32));
  EXPECT_EQ(ct.evaluate(*siren).at("norm_mode"), "none");
  // Previews: the CT image as it is; the MRI volume as three middle slices side by side (2-pixel gaps).
  auto f2 = nf::make_field(nf::method_config("relu", 2, 1, 2, 32));
  auto f3 = nf::make_field(nf::method_config("relu", 3, 1, 2, 32));
  const auto pc = ct.preview(*f2, {}), pm = mri.preview(*f3, {});
  ASSERT_EQ(pc.images.size(), 3u);
  EXPECT_EQ(pc.images[0].second.pixels.sizes(), (std::vector<int64_t>{32, 32}));
  EXPECT_EQ(pm.images[1].second.pixels.sizes(), (std::vector<int64_t>{16, 3 * 16 + 4}));
  EXPECT_TRUE(pc.scalars.count("psnr") && pm.scalars.count("psnr"));
}

TEST(MriTask, CoordinatesAreXYZOverWHDInMinusOneToOne) {
  auto c = nf::volume_coordinates(2, 3, 5);
  ASSERT_EQ(c.sizes(), (std::vector<int64_t>{30, 3}));
  EXPECT_FLOAT_EQ(c[0][0].item<float>(), -1.f);
  EXPECT_FLOAT_EQ(c[1][0].item<float>(), -0.5f);  // next voxel along W moves x
  EXPECT_FLOAT_EQ(c[5][1].item<float>(), 0.f);    // (d 0, h 1, w 0)
  EXPECT_FLOAT_EQ(c[15][2].item<float>(), 1.f);   // (d 1, h 0, w 0)
  EXPECT_FLOAT_EQ(c.max().item<float>(), 1.f);
}

TEST(CtMriInputs, MissingFilesGiveOneLineErrorsNamingTheFile) {
  auto expect_names = [](const std::function<void()>& f, const std::string& path) {
    try {
      f();
      ADD_FAILURE() << "no error for " << path;
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find(path), std::string::npos) << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  };
  expect_names([] { nf::load_mri("/no/such/volume.npy"); }, "/no/such/volume.npy");
  expect_names([] { nf::load_ct_image("/no/such/slice.png", 32); }, "/no/such/slice.png");
  EXPECT_THROW(nf::MriTask(blurred_ball(8), {"spiral", 0.5, 0}), std::runtime_error);
}

TEST(CtMriData, RealCtAndMriInputsLoad) {
  const auto dir = nf_test::shipped_data();
  nf::CtTask ct(nf::load_ct_image(dir / "ct" / "chest_wire.png", 64), {20}, "chest");
  EXPECT_LT(ct.loss_of(ct.problem().image).item<double>(), 1e-8);
  auto vol = nf::load_mri(dir / "mri" / "ch2_48cube_uint8.npy");
  ASSERT_EQ(vol.sizes(), (std::vector<int64_t>{48, 48, 48}));
  EXPECT_LE(vol.max().item<double>(), 1.0);
}
