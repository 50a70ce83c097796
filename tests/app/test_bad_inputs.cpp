// Issue 16: bad values never become plausible results and bad files never crash. Each input below
// must give exit code 1 and ONE "normfield: error: ..." line naming the flag / file / key, before
// any training (the runs would take seconds; these fail in the parser or before the first step).
// The command lines of a test run in one normfield process (nf_test::run_cli_batch: the executable's
// code, ~1.5 s of library loading once instead of per case); TheExecutable... runs it directly.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <limits>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "datasets/image_io.h"
#include "support/cli.h"
#include "support/cli_batch.h"
#include "support/test_data.h"
#include "tasks/mri_task.h"

namespace {
using Run = nf_test::CliRun;
// One normfield process per command line (the executable's own start and exit code).
Run run(const std::string& args) { return nf_test::run_cli(args); }

// Command lines collected by a test and run in one normfield process when the Batch goes out of
// scope (in order: a later line may use what an earlier one wrote).
class Batch {
 public:
  // Expects exit code 1, ONE "normfield: error: ..." line containing needle and no training.
  void error(const std::string& args, const std::string& needle) { cases_.push_back({args, needle, nullptr}); }
  // Runs check on the result.
  void then(const std::string& args, std::function<void(const Run&)> check) {
    cases_.push_back({args, "", std::move(check)});
  }
  ~Batch() {
    std::vector<std::string> lines;
    for (const auto& c : cases_) lines.push_back(c.args);
    const auto runs = nf_test::run_cli_batch(lines);
    for (size_t i = 0; i < cases_.size(); ++i) {
      const auto& c = cases_[i];
      if (c.check) {
        c.check(runs[i]);
        continue;
      }
      EXPECT_TRUE(nf_test::is_one_line_error(runs[i], c.needle)) << "normfield " << c.args;
      EXPECT_EQ(runs[i].output.find("PSNR"), std::string::npos) << "trained anyway: normfield " << c.args;
    }
  }

 private:
  struct Case {
    std::string args, needle;
    std::function<void(const Run&)> check;
  };
  std::vector<Case> cases_;
};

// A 16x16 RGB PNG in a scratch folder.
std::string small_png(const std::filesystem::path& dir, int64_t side = 16) {
  const auto p = dir / ("img" + std::to_string(side) + ".png");
  nf::write_png(p, at::rand({side, side, 3}));
  return p.string();
}
}  // namespace

TEST(BadInputs, FlagValuesAreRefusedNamingTheFlag) {
  const auto dir = nf_test::scratch("bad_flags");
  const std::string img = small_png(dir);
  const std::string fit = "fit-image --image " + img + " --iters 2 --arch 2x8 --quiet --out " + (dir / "o").string();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {fit + " --lr 0", "--lr"},          {fit + " --lr -1", "--lr"},       {fit + " --lr nan", "--lr"},
      {fit + " --lr 1e-400", "--lr"},     {fit + " --lr 1e300", "--lr"},    {fit + " --lr-final 0", "--lr-final"},
      {fit + " --iters -1", "--iters"},   {fit + " --iters 0", "--iters"},  {fit + " --seed -1", "--seed"},
      {fit + " --threads 100000", "--threads"}, {fit + " --batch -5", "--batch"},
      {fit + " --log-every 0", "--log-every"},
      {"fit-shape --mesh x.obj --epochs -1", "--epochs"}, {"fit-shape --mesh x.obj --epochs 0", "--epochs"},
      {"fit-shape --mesh x.obj --epochs nan", "--epochs"}, {"fit-shape --mesh x.obj --noise nan", "--noise"},
      {"fit-shape --mesh x.obj --noise -1", "--noise"},   {"fit-shape --mesh x.obj --threshold 1", "--threshold"},
      {"fit-ct --noise nan", "--noise"},  {"fit-ct --noise -1", "--noise"}, {"fit-ct --size 1", "--size"},
      {"fit-ct --angles 0", "--angles"},  {"fit-ct --angles 1e8", "--angles"},
      {"fit-mri --volume x.npy --downsample 0", "--downsample"}, {"fit-mri --volume x.npy --rate 0", "--rate"},
      {"nerf train --scene x --batch 0", "--batch"},    {"nerf train --scene x --n-coarse 0", "--n-coarse"},
      {"nerf train --scene x --downscale 0", "--downscale"},
      {"eval-image --shard 1/2/3 --table-only --out " + (dir / "e").string(), "--shard"},
      {"eval-image --shard 3/2 --table-only --out " + (dir / "e").string(), "--shard"},
      {"batch-eval --command fit-ct --inputs shepp_logan --shard 0/2 --out " + (dir / "b").string(), "--shard"},
  };
  Batch b;
  for (const auto& [args, needle] : cases) b.error(args, needle);
  // A 300-digit bound is never printed (CLI::PositiveNumber did that for --downsample 0).
  b.then("fit-mri --volume x.npy --downsample 0", [](const nf_test::CliRun& r) { EXPECT_LT(r.output.size(), 300u) << r.output; });
}

TEST(BadInputs, UnboundedSizesAreRefusedWithTheNumber) {
  const auto dir = nf_test::scratch("bad_sizes");
  Batch b;
  const std::string img = small_png(dir);
  const std::string fit = "fit-image --image " + img + " --iters 2 --quiet --out " + (dir / "o").string();
  b.error(fit + " --arch 99999999999x2", "hidden_layers 99999999999 is more than 1000 layers");
  b.error(fit + " --arch 1000000x1", "hidden_layers 1000000");
  b.error(fit + " --arch 2x1000000000", "of memory, more than this machine's");
  b.error("fit-ct --angles 100000000 --iters 1 --quiet --out " + (dir / "c").string(), "needs about");
  b.error("fit-ct --size 100000 --iters 1 --quiet --out " + (dir / "c").string(), "needs about");
  std::ofstream(dir / "wide.json") << R"({"field": {"type": "mlp", "in_dim": 2, "out_dim": 3, "hidden_layers": 2,
                                          "width": 1e9}})";
  b.error(fit + " --config " + (dir / "wide.json").string(), "needs about");
}

TEST(BadInputs, ConfigKeysAndIntegers) {
  const auto dir = nf_test::scratch("bad_config");
  Batch b;
  const std::string img = small_png(dir);
  const std::string fit = "fit-image --image " + img + " --quiet --out " + (dir / "o").string() + " --config ";
  std::ofstream(dir / "typo.json") << R"({"itres": 5})";
  b.error(fit + (dir / "typo.json").string(), "unknown key 'itres'");
  std::ofstream(dir / "frac.json") << R"({"field": {"type": "mlp", "in_dim": 2, "out_dim": 3, "hidden_layers": 2,
                                          "width": 16.7}, "iters": 2})";
  b.error(fit + (dir / "frac.json").string(), "key 'width' must be an integer");
  std::ofstream(dir / "iters.json") << R"({"iters": 2.5})";
  b.error(fit + (dir / "iters.json").string(), "key 'iters' must be an integer");
  std::ofstream(dir / "lr.json") << R"({"lr": 0, "iters": 2})";
  b.error(fit + (dir / "lr.json").string(), "key 'lr'");
  std::ofstream(dir / "junk.json") << "{\"a\": tru\x01\x02}";
  b.then(fit + (dir / "junk.json").string(), [](const nf_test::CliRun& r) {
    EXPECT_TRUE(nf_test::is_one_line_error(r, "junk.json")) << r.output;
    EXPECT_EQ(r.output.find('\x01'), std::string::npos) << "raw file bytes echoed";
  });
}

TEST(BadInputs, DataFilesAreCheckedBeforeTraining) {
  const auto dir = nf_test::scratch("bad_data");
  Batch b;
  const std::string out = " --iters 2 --arch 2x8 --quiet --out " + (dir / "o").string();
  // Images: too small for SSIM, a folder.
  b.error("fit-image --image " + small_png(dir, 5) + out, "at least 7x7");
  b.error("fit-image --image " + dir.string() + out, "is a directory");
  // OBJ with a NaN / Inf vertex (tinyobjloader read them as 0).
  std::ofstream(dir / "nan.obj") << "v nan 0 0\nv 1 0 0\nv 0 1 0\nv 0 0 1\nf 1 2 3\nf 1 3 4\nf 1 2 4\nf 2 3 4\n";
  b.error("fit-shape --mesh " + (dir / "nan.obj").string() + out, "line 1: non-finite vertex");
  std::ofstream(dir / "inf.obj") << "v 0 0 0\nv inf 0 0\nv 0 1 0\nf 1 2 3\n";
  b.error("fit-shape --mesh " + (dir / "inf.obj").string() + out, "line 2: non-finite vertex");
  // PLY: a face index out of range, counts that do not match the body, 2e9 vertices (Open3D segfaulted).
  const std::string head = "ply\nformat ascii 1.0\nelement vertex 4\nproperty float x\nproperty float y\n"
                           "property float z\nelement face 1\nproperty list uchar int vertex_indices\nend_header\n";
  std::ofstream(dir / "range.ply") << head << "0 0 0\n1 0 0\n0 1 0\n0 0 1\n4 0 1 2 70000\n";
  b.error("fit-shape --mesh " + (dir / "range.ply").string() + out, "face index 70000 out of range");
  std::ofstream(dir / "short.ply") << head << "0 0 0\n1 0 0\n";
  b.error("fit-shape --mesh " + (dir / "short.ply").string() + out, "short.ply");
  std::ofstream(dir / "huge.ply") << "ply\nformat binary_little_endian 1.0\nelement vertex 2000000000\n"
                                     "property float x\nproperty float y\nproperty float z\nend_header\n0000";
  b.error("fit-shape --mesh " + (dir / "huge.ply").string() + out, "declares more data than the file holds");
  // .npy volume with one NaN voxel (became an all-zero target with PSNR 31).
  auto vol = at::rand({8, 8, 8});
  vol[3][4][5] = std::numeric_limits<float>::quiet_NaN();
  nf::save_npy(dir / "nan.npy", vol);
  b.error("fit-mri --volume " + (dir / "nan.npy").string() + out, "nan.npy: 1 non-finite voxels");
  nf::save_npy(dir / "tiny.npy", at::rand({4, 4, 4}));
  b.error("fit-mri --volume " + (dir / "tiny.npy").string() + out, "at least 7x7");
  // NeRF: an all-zero camera matrix, named by frame.
  const auto scene = dir / "scene";
  std::filesystem::create_directories(scene);
  std::ofstream(scene / "transforms_train.json")
      << R"({"camera_angle_x": 0.69, "frames": [{"file_path": "./train/r_0", "transform_matrix":
            [[0,0,0,0],[0,0,0,0],[0,0,0,0],[0,0,0,1]]}]})";
  b.error("nerf train --scene " + scene.string() + out, "frame 0: 'transform_matrix' rotation part is not orthonormal");
}

TEST(BadInputs, OutFolderIsCheckedBeforeTraining) {
  const auto dir = nf_test::scratch("bad_out");
  Batch b;
  const std::string img = small_png(dir);
  std::ofstream(dir / "file") << "x";
  b.error("fit-image --image " + img + " --iters 2 --arch 2x8 --quiet --out " + (dir / "file").string(),
               "exists and is not a folder");
  b.error("fit-image --image " + img + " --iters 2 --arch 2x8 --quiet --out " + (dir / "file" / "sub").string(),
               "--out");
}

TEST(BadInputs, OpenOrFlatMeshIsNotSilentlyZeroIou) {
  const auto dir = nf_test::scratch("bad_mesh");
  Batch b;
  const std::string out = " --iters 2 --arch 2x8 --points 2000 --batch 500 --resolution 8 --gt-check 0 --quiet --out " +
                          (dir / "o").string();
  std::ofstream(dir / "flat.obj") << "v 0 0 0\nv 1 0 0\nv 0 1 0\nf 1 2 3\n";
  b.error("fit-shape --mesh " + (dir / "flat.obj").string() + out, "mesh is flat (zero extent along z)");
  // An open box (no top): warns naming the test, then refuses or trains, never silently.
  std::ofstream(dir / "open.obj") << "v 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nv 0 0 1\nv 1 0 1\nv 1 1 1\nv 0 1 1\n"
                                     "f 1 3 2\nf 1 4 3\nf 1 2 6\nf 1 6 5\nf 2 3 7\nf 2 7 6\nf 3 4 8\nf 3 8 7\n"
                                     "f 4 1 5\nf 4 5 8\n";
  b.then("fit-shape --mesh " + (dir / "open.obj").string() + out, [](const nf_test::CliRun& r) {
    EXPECT_NE(r.output.find("open surface (4 boundary edges"), std::string::npos) << r.output;
  });
}

// Also the check that the executable itself (not the batch mode) gives one line and exit code 1.
TEST(BadInputs, DivergenceByExplodingLossStopsTraining) {
  const auto dir = nf_test::scratch("explode");
  const std::string img = small_png(dir);
  const auto r = run("fit-image --image " + img + " --arch 2x16 --iters 200 --lr 1e3 --quiet --out " +
                     (dir / "o").string());
  EXPECT_TRUE(nf_test::is_one_line_error(r, "training diverged at step")) << r.output;
  EXPECT_FALSE(std::filesystem::exists(dir / "o" / "results.json")) << "a diverged run wrote results";
}

TEST(BadInputs, ResumeSaysWhatItDoesAndRefusesChangedSettings) {
  const auto dir = nf_test::scratch("resume_cli");
  const std::string img = small_png(dir);
  const std::string base = "fit-image --image " + img + " --arch 2x8 --quiet --resume --out " + (dir / "o").string();
  auto a = run(base + " --iters 3");
  ASSERT_EQ(a.code, 0) << a.output;
  EXPECT_NE(a.output.find("no checkpoint at"), std::string::npos) << a.output;
  EXPECT_NE(a.output.find("starting fresh"), std::string::npos) << a.output;
  const auto first = nlohmann::json::parse(nf_test::slurp(dir / "o" / "results.json"));
  Batch batch;  // the refused resumes write nothing: the checks below see the second run's files
  batch.then(base + " --iters 6", [&](const nf_test::CliRun& b) {
    ASSERT_EQ(b.code, 0) << b.output;
    EXPECT_NE(b.output.find("resumed from"), std::string::npos) << b.output;
    const auto second = nlohmann::json::parse(nf_test::slurp(dir / "o" / "results.json"));
    EXPECT_EQ(second["iters"], 6);
    EXPECT_DOUBLE_EQ(second["first_loss"].get<double>(), first["first_loss"].get<double>()) << "first_loss of the resumed part";
    // metrics.jsonl: every step once.
    std::ifstream in(dir / "o" / "metrics.jsonl");
    std::set<int64_t> steps;
    for (std::string l; std::getline(in, l);) EXPECT_TRUE(steps.insert(nlohmann::json::parse(l)["step"].get<int64_t>()).second) << l;
  });
  batch.error(base + " --iters 9 --lr 0.5", "training setting 'lr' differs");
  batch.error(base + " --iters 9 --batch 10", "task setting 'batch' differs");
}
