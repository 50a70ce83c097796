// Issue 16, "never lose training": checkpoints with finite weights only, divergence keeps the last
// good one, SIGINT/SIGTERM and elapsed time save, a full disk is one line and keeps the previous
// checkpoint, results stores repair a torn tail and share work between processes.
#include <ATen/ATen.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <torch/utils.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <limits>

#include "datasets/test_images.h"
#include "fields/file_io.h"
#include "fields/registry.h"
#include "support/cli.h"
#include "support/errors.h"
#include "support/test_data.h"
#include "tasks/checkpoint.h"
#include "tasks/image_task.h"
#include "report/results_store.h"
#include "tasks/trainer.h"

namespace {
nf::TrainOptions options(int64_t iters, const std::filesystem::path& out, double lr = 1e-2) {
  nf::TrainOptions o;
  o.iters = iters;
  o.lr = nf::LrSchedule{"constant", lr, lr};
  o.out_dir = out;
  o.progress = false;
  o.log_every = 1;
  return o;
}
nf::Field fresh() {
  torch::manual_seed(7);
  return nf::make_field(nf::method_config("relu", 2, 3, 2, 16));
}
// o with a checkpoint every `steps` steps.
nf::TrainOptions checkpoint_every(nf::TrainOptions o, int64_t steps) {
  o.checkpoint_every = steps;
  return o;
}
// The message of the std::runtime_error that a fresh field's run on task with options o, resumed,
// throws ("(no error)" when it runs).
std::string resume_error(nf::Task& task, nf::TrainOptions o) {
  o.resume = true;
  nf::Trainer t(fresh(), task, o);
  return nf_test::runtime_error_of([&] { t.run(); });
}
bool finite_weights(nf::FieldImpl& f) {
  for (const auto& p : f.parameters())
    if (!at::isfinite(p).all().item<bool>()) return false;
  return true;
}
}  // namespace

// A loss that grows by orders of magnitude without NaN (lr 1e3) is divergence; the checkpoint left
// on disk has finite weights and a step before the divergence.
TEST(NeverLoseTraining, ExplodingLossStopsAndKeepsAFiniteCheckpoint) {
  const auto dir = nf_test::scratch("explode_ckpt");
  nf::ImageTask task(nf::smooth_pattern(12, 12), {});
  nf::Trainer t(fresh(), task, checkpoint_every(options(50, dir, 1e3), 1));
  try {
    t.run();
    FAIL() << "lr 1e3 trained 50 steps without being stopped";
  } catch (const nf::TrainingDiverged& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("training diverged at step"), std::string::npos) << m;
    EXPECT_TRUE(m.find("kept the last good checkpoint") != std::string::npos ||
                m.find("no good checkpoint yet") != std::string::npos) << m;
  }
  if (!std::filesystem::exists(t.checkpoint_path())) {  // diverged right after the first checkpoint
    EXPECT_TRUE(std::filesystem::exists(t.checkpoint_path().string() + ".diverged"));
    return;
  }
  nf::CheckpointMeta meta;
  auto f = nf::load_field(t.checkpoint_path(), &meta);
  EXPECT_TRUE(finite_weights(*f));
  EXPECT_LT(meta.step, t.step());
  // Resuming that checkpoint must not diverge at its first step (its weights gave a finite loss).
  nf::Trainer again(fresh(), task, options(meta.step + 1, dir, 1e-6));
  again.load(t.checkpoint_path());
  EXPECT_NO_THROW(again.run_steps(1));
}

// Weights that are finite when saved but give an infinite loss at the next step: the checkpoint
// before them is put back.
TEST(NeverLoseTraining, DivergenceRestoresTheCheckpointBeforeTheBadWeights) {
  const auto dir = nf_test::scratch("restore_prev");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  nf::Trainer t(fresh(), task, checkpoint_every(options(10, dir), 1));
  t.on_step = [&t](const nf::LogRecord& r) {
    if (r.step != 3) return;
    at::NoGradGuard g;
    for (auto& p : t.field()->parameters()) p.fill_(1e30f);  // finite, but the forward overflows
  };
  try {
    t.run();
    FAIL() << "no divergence";
  } catch (const nf::TrainingDiverged& e) {
    EXPECT_NE(std::string(e.what()).find("training diverged at step 4"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("kept the last good checkpoint"), std::string::npos) << e.what();
  }
  EXPECT_EQ(nf::read_checkpoint_meta(t.checkpoint_path()).step, 2);
}

TEST(NeverLoseTraining, NanWeightsAreNeverSaved) {
  const auto dir = nf_test::scratch("nan_weights");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  nf::Trainer t(fresh(), task, options(2, dir));
  t.run();  // a good checkpoint at step 2
  {
    at::NoGradGuard g;
    t.field()->parameters().front().fill_(std::numeric_limits<float>::quiet_NaN());
  }
  EXPECT_THROW(t.save(t.checkpoint_path()), nf::TrainingDiverged);
  nf::CheckpointMeta meta;
  auto f = nf::load_field(t.checkpoint_path(), &meta);
  EXPECT_EQ(meta.step, 2);
  EXPECT_TRUE(finite_weights(*f));
}

TEST(NeverLoseTraining, SigintSavesACheckpointAndStops) {
  const auto dir = nf_test::scratch("sigint");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  nf::Trainer t(fresh(), task, options(100, dir));
  t.on_step = [](const nf::LogRecord& r) {
    if (r.step == 3) std::raise(SIGINT);
  };
  EXPECT_THROW(t.run(), nf::TrainingInterrupted);
  EXPECT_EQ(t.step(), 3);
  EXPECT_EQ(nf::read_checkpoint_meta(t.checkpoint_path()).step, 3);
  // The default handler is back after run(): the test process would die on a SIGINT now, so only
  // check that it is not ours.
  struct sigaction sa {};
  sigaction(SIGINT, nullptr, &sa);
  EXPECT_EQ(sa.sa_handler, SIG_DFL);
}

TEST(NeverLoseTraining, CheckpointsByElapsedTime) {
  const auto dir = nf_test::scratch("by_time");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  auto o = options(5, dir);
  o.checkpoint_minutes = 1e-9;  // every step
  nf::Trainer t(fresh(), task, o);
  int64_t seen = -1;
  t.on_step = [&](const nf::LogRecord& r) {
    if (r.step == 3) seen = nf::read_checkpoint_meta(t.checkpoint_path()).step;  // saved after step 2
  };
  t.run();
  EXPECT_EQ(seen, 2);
}

TEST(NeverLoseTraining, ResumeRefusesChangedSettingsAndKeepsFirstLoss) {
  const auto dir = nf_test::scratch("resume_settings");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  double first = 0;
  {
    nf::Trainer t(fresh(), task, options(3, dir));
    t.run();
    first = t.first_loss();
  }
  auto o = options(6, dir);
  o.resume = true;
  nf::Trainer r(fresh(), task, o);
  r.run();
  EXPECT_EQ(r.step(), 6);
  EXPECT_DOUBLE_EQ(r.first_loss(), first);
  // A resume with another learning rate or another task setting is refused.
  const std::string lr = resume_error(task, options(9, dir, 5e-2));
  EXPECT_NE(lr.find("training setting 'lr' differs"), std::string::npos) << lr;
  nf::ImageTaskOptions other;
  other.batch = 7;
  nf::ImageTask task2(nf::smooth_pattern(8, 8), other);
  const std::string batch = resume_error(task2, options(9, dir));
  EXPECT_NE(batch.find("task setting 'batch' differs"), std::string::npos) << batch;
}

TEST(NeverLoseTraining, MetricsHaveNoRepeatedStepsAfterResume) {
  const auto dir = nf_test::scratch("metrics_resume");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  {
    nf::Trainer t(fresh(), task, checkpoint_every(options(8, dir), 4));
    t.on_step = [](const nf::LogRecord& r) {
      if (r.step == 6) throw std::runtime_error("crash after step 6");  // metrics has 1..6, checkpoint 4
    };
    EXPECT_THROW(t.run(), std::runtime_error);
  }
  auto o = options(8, dir);
  o.resume = true;
  nf::Trainer r(fresh(), task, o);
  r.run();
  std::ifstream in(dir / "metrics.jsonl");
  std::vector<int64_t> steps;
  for (std::string l; std::getline(in, l);) steps.push_back(nlohmann::json::parse(l)["step"].get<int64_t>());
  const std::vector<int64_t> want{1, 2, 3, 4, 5, 6, 7, 8};
  EXPECT_EQ(steps, want);
}

// A full disk: write_file_atomic reports "disk full writing <path>", removes the temporary and
// leaves the previous file. The ENOSPC comes from /dev/full (the temporary is a symlink to it),
// which covers the error path of write(2) without root; a real tmpfs run follows when mounting works.
TEST(NeverLoseTraining, DiskFullKeepsThePreviousCheckpoint) {
  const auto dir = nf_test::scratch("disk_full");
  nf::ImageTask task(nf::smooth_pattern(8, 8), {});
  nf::Trainer t(fresh(), task, options(2, dir));
  t.run();
  const auto ck = t.checkpoint_path();
  std::filesystem::create_symlink("/dev/full", ck.string() + ".tmp");
  t.run_steps(1);
  try {
    t.save(ck);
    FAIL() << "no error on a full disk";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "disk full writing " + ck.string());
  }
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::symlink_status(ck.string() + ".tmp")));
  EXPECT_EQ(nf::read_checkpoint_meta(ck).step, 2);
}

TEST(NeverLoseTraining, DiskFullOnARealTmpfs) {
  const auto dir = nf_test::scratch("tmpfs");
  if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k") != 0) GTEST_SKIP() << "cannot mount a tmpfs here (not root)";
  struct Unmount {
    std::string d;
    ~Unmount() { ::umount(d.c_str()); }
  } unmount{dir.string()};
  const auto path = dir / "big.bin";
  nf::write_file_atomic(path, std::string(16 * 1024, 'a'));
  try {
    nf::write_file_atomic(path, std::string(200 * 1024, 'b'));
    FAIL() << "200 KB fit into a 64 KB tmpfs";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()), "disk full writing " + path.string());
  }
  EXPECT_EQ(std::filesystem::file_size(path), 16u * 1024);
  EXPECT_FALSE(std::filesystem::exists(path.string() + ".tmp"));
}

TEST(ResultsStore, TornLastLineIsRepairedNotGluedToTheNextRecord) {
  const auto dir = nf_test::scratch("store_torn");
  const auto p = dir / "results.jsonl";
  std::ofstream(p) << R"({"key": "a", "v": 1})" << "\n" << R"({"key": "b", "v")";
  {
    nf::ResultsStore s(p);
    EXPECT_TRUE(s.has("a"));
    EXPECT_FALSE(s.has("b"));
    s.append({{"key", "c"}, {"v", 3}});
  }
  nf::ResultsStore again(p);
  EXPECT_TRUE(again.has("a"));
  EXPECT_TRUE(again.has("c")) << nf_test::slurp(p);
  EXPECT_EQ(again.records().size(), 2u);
}

TEST(ResultsStore, ClaimsShareWorkBetweenProcesses) {
  const auto dir = nf_test::scratch("store_claim");
  const auto p = dir / "results.jsonl";
  nf::ResultsStore a(p);
  // Another live process (our parent) holds the claim of "x": skip it.
  const pid_t child = fork();
  if (child == 0) {
    nf::ResultsStore c(p);
    _exit(c.claim("x") && c.claim("dead") ? 0 : 1);
  }
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  // The child exited: its claims are stale and taken over.
  EXPECT_TRUE(a.claim("x"));
  // A claim by a live process on this host is respected.
  char host[256] = {0};
  gethostname(host, sizeof host - 1);
  const pid_t sleeper = fork();
  if (sleeper == 0) {
    ::pause();
    _exit(0);
  }
  {
    nf::ResultsStore b(p);
    // Write the sleeper's claim of "y" the way claim() does: find the file name via a claim of ours.
    ASSERT_TRUE(b.claim("y"));
  }
  for (const auto& e : std::filesystem::directory_iterator(p.string() + ".claims")) {
    std::ifstream in(e.path());
    std::string h, pid, key;
    in >> h >> pid >> key;
    if (key == "y") std::ofstream(e.path()) << host << " " << sleeper << "\ny\n";
  }
  nf::ResultsStore d(p);
  EXPECT_FALSE(d.claim("y")) << "a live process's claim was taken";
  kill(sleeper, SIGKILL);
  waitpid(sleeper, &status, 0);
  EXPECT_TRUE(d.claim("y")) << "a dead process's claim was not taken over";
  // A stored key is never claimed again.
  d.append({{"key", "y"}});
  nf::ResultsStore e(p);
  EXPECT_FALSE(e.claim("y"));
}

TEST(ResultsStore, ShardMustBeExactlyKOverN) {
  EXPECT_EQ(nf::parse_shard("3/8"), std::make_pair(3, 8));
  for (const char* bad : {"1/2/3", "1.5/2", "1/2x", "0/2", "3/2", "-1/2", "/", "a/b", " 1/2"})
    EXPECT_THROW(nf::parse_shard(bad), std::runtime_error) << bad;
}
