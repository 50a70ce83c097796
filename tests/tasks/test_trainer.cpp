// Trainer: exact resume from a checkpoint, NaN detection, schedules, metrics log.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <torch/utils.h>

#include <fstream>

#include "datasets/test_images.h"
#include "fields/registry.h"
#include "support/errors.h"
#include "support/test_data.h"
#include "tasks/checkpoint.h"
#include "tasks/image_task.h"
#include "tasks/trainer.h"

namespace {
nf::TrainOptions options(int64_t iters, const std::filesystem::path& out) {
  nf::TrainOptions o;
  o.iters = iters;
  o.lr = nf::LrSchedule{"exponential", 1e-2, 1e-3};
  o.out_dir = out;
  o.progress = false;
  o.log_every = 5;
  return o;
}
nf::Field fresh(const std::string& method) {
  torch::manual_seed(7);
  return nf::make_field(nf::method_config(method, 2, 3, 3, 16));
}
// method's fresh field trained `iters` steps (options(iters, dir)) on the smooth n x n pattern.
struct PatternRun {
  nf::Field f;
  nf::ImageTask task;
  nf::Trainer t;
  PatternRun(const std::string& method, int64_t n, int64_t iters, const std::filesystem::path& dir)
      : f(fresh(method)), task(nf::smooth_pattern(n, n), {}), t(f, task, options(iters, dir)) {
    t.run();
  }
};
}  // namespace

TEST(Trainer, ResumeEqualsUninterruptedRun) {
  auto img = nf::smooth_pattern(16, 16);
  for (const std::string method : {"relu+cn", "pe+bn"}) {
    nf::ImageTaskOptions topts;
    topts.batch = 100;  // random minibatches: resume must reproduce the sampling too
    topts.seed = 3;
    // Uninterrupted: 20 steps.
    auto a = fresh(method);
    nf::ImageTask task_a(img, topts);
    nf::Trainer ta(a, task_a, options(20, nf_test::scratch("resume_a")));
    ta.run();
    // Interrupted: 12 of 20 steps (same schedule), checkpoint, new objects, resume to 20.
    auto dir = nf_test::scratch("resume_b");
    {
      auto b = fresh(method);
      nf::ImageTask task_b(img, topts);
      nf::Trainer tb(b, task_b, options(20, dir));
      tb.run_steps(12);
      tb.save(tb.checkpoint_path());
    }
    torch::manual_seed(12345);  // a different global RNG state must not matter
    auto c = fresh(method);
    nf::ImageTask task_c(img, topts);
    auto opts = options(20, dir);
    opts.resume = true;
    nf::Trainer tc(c, task_c, opts);
    tc.run();
    EXPECT_EQ(tc.step(), 20);
    auto pa = a->named_parameters(), pc = c->named_parameters();
    for (const auto& kv : pa) EXPECT_TRUE(at::equal(kv.value(), pc[kv.key()])) << method << " " << kv.key();
    auto ba = a->named_buffers(), bc = c->named_buffers();
    for (const auto& kv : ba) EXPECT_TRUE(at::allclose(kv.value(), bc[kv.key()], 1e-6, 1e-7)) << method << " " << kv.key();
    EXPECT_DOUBLE_EQ(ta.history().back().loss, tc.history().back().loss) << method;
  }
}

TEST(Trainer, CheckpointHoldsConfigsAndLoadsBack) {
  PatternRun run("pe+cn", 12, 3, nf_test::scratch("ckpt"));
  auto& f = run.f;
  auto& task = run.task;
  auto& t = run.t;
  task.evaluate(*f);  // calibrates the frozen statistics on the full image
  t.save(t.checkpoint_path());
  nf::CheckpointMeta meta;
  auto g = nf::load_field(t.checkpoint_path(), &meta);
  EXPECT_EQ(meta.step, 3);
  EXPECT_EQ(meta.field_config, f->config());
  EXPECT_EQ(meta.task_config["task"], "image");
  EXPECT_FALSE(g->batch_dependent());  // frozen statistics were stored: evaluates in frozen mode
  f->set_norm_mode(nf::NormMode::Batch);
  auto expect = f->forward(task.coords());
  auto got = g->forward(task.coords());
  EXPECT_LT((expect - got).abs().max().item<double>(), 1e-5);
  EXPECT_FALSE(std::filesystem::exists(t.checkpoint_path().string() + ".tmp"));
}

TEST(Trainer, CorruptOrMissingCheckpointIsAClearError) {
  auto dir = nf_test::scratch("ckpt_bad");
  std::ofstream(dir / "bad.pt") << "not a checkpoint";
  const std::string bad = nf_test::runtime_error_of([&] { nf::read_checkpoint_meta(dir / "bad.pt"); });
  EXPECT_NE(bad.find("bad.pt"), std::string::npos) << bad;
  EXPECT_THROW(nf::read_checkpoint_meta(dir / "missing.pt"), std::runtime_error);
}

TEST(Trainer, NanLossIsReportedWithStepAndConfig) {
  auto img = nf::smooth_pattern(8, 8);
  img[0][0][0] = std::numeric_limits<float>::quiet_NaN();
  auto f = fresh("relu+cn");
  nf::ImageTask task(img, {});
  nf::Trainer t(f, task, options(5, {}));
  try {
    t.run();
    FAIL() << "no error";
  } catch (const nf::TrainingDiverged& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("step 1"), std::string::npos) << m;
    EXPECT_NE(m.find("\"norm\":\"cn\""), std::string::npos) << m;
  }
}

TEST(Trainer, MetricsLogHasOneLinePerLogInterval) {
  const auto dir = nf_test::scratch("metrics");
  PatternRun run("relu", 8, 20, dir);
  std::ifstream in(dir / "metrics.jsonl");
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["step"].get<int>(), 5 * (n + 1));
    EXPECT_TRUE(j.contains("psnr"));
    ++n;
  }
  EXPECT_EQ(n, 4);
}

TEST(Trainer, SetLrRescalesTheScheduleFromTheNextStep) {
  auto f = fresh("relu");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  auto o = options(10, {});
  nf::Trainer t(f, task, o);
  t.run_steps(4);
  const double before = t.history().back().lr;
  EXPECT_NEAR(before, o.lr.at(3, 10), 1e-12);
  t.set_lr(5e-2);
  t.run_steps(1);
  const double after = t.history().back().lr;
  const nf::LrSchedule raised{"exponential", 5e-2, 1e-3};
  EXPECT_NEAR(after, raised.at(4, 10), 1e-12);
  EXPECT_GT(after, before);
  for (const auto& g : t.optimizer().param_groups())
    EXPECT_NEAR(static_cast<const torch::optim::AdamOptions&>(g.options()).lr(), after, 1e-12);
  EXPECT_THROW(t.set_lr(0.0), std::invalid_argument);
  EXPECT_THROW(t.set_lr(-1.0), std::invalid_argument);
}

TEST(LrSchedule, EndpointsAndShapes) {
  nf::LrSchedule e{"exponential", 1e-2, 1e-4};
  EXPECT_DOUBLE_EQ(e.at(0, 101), 1e-2);
  EXPECT_NEAR(e.at(100, 101), 1e-4, 1e-12);
  EXPECT_NEAR(e.at(50, 101), 1e-3, 1e-12);
  nf::LrSchedule c{"cosine", 1.0, 0.0};
  EXPECT_NEAR(c.at(50, 101), 0.5, 1e-12);
  EXPECT_THROW(nf::lr_schedule_from_string("linear", 1, 0), std::invalid_argument);
}
