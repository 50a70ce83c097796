// neus batch-eval (app/cmd_neus_batch.cpp on the sweep engine tasks/sweep.h): on a tiny make-scene
// scene of the shipped bunny (8 views of 32x24) with a tiny NeuS config, every (scene, config, seed)
// runs once; a second invocation (and one after a lost record) does no new work; shards 1/2 + 2/2
// merged give the same table as the unsharded sweep; the table's CN − none row is the difference of
// the per-config means computed here from the store; bad input gives one-line errors.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "support/cli.h"
#include "support/shipped_data.h"
#include "support/test_data.h"

namespace {

using nf_test::run_cli;
namespace fs = std::filesystem;

// A folder holding one DTU-style scene ("bunny") made by make-scene, and two tiny configs.
struct Fixture {
  fs::path scenes, cfg_none, cfg_cn;
};

const Fixture& fixture() {
  static Fixture f;
  if (f.scenes.empty()) {
    const auto base = nf_test::scratch("neus_batch_fixture");
    f.scenes = base / "scenes";
    auto r = run_cli("make-scene --mesh " + (nf_test::shipped_data() / "meshes" / "bunny_2.5k_instantngp.obj").string() +
                     " --out " + (f.scenes / "bunny").string() + " --views 8 --size 32x24");
    EXPECT_EQ(r.code, 0) << r.output;
    const std::string tiny = R"({"field": {"type": "neus", "sdf_depth": 2, "sdf_width": 16, "skip": 1, "multires": 2,
      "feature_dim": 8, "color_depth": 1, "color_width": 16, "norm": "NORM"},
      "neus": {"batch": 32, "n_samples": 8, "n_importance": 8, "up_sample_steps": 1, "holdout": 4, "chunk": 1024,
               "mesh_resolution": 16, "mesh_block": 16, "eval_max_views": 1, "chamfer_points": 500},
      "iters": 3, "lr": 1e-3, "log_every": 100, "checkpoint_every": 0})";
    f.cfg_none = base / "tiny.json";
    f.cfg_cn = base / "tiny_cn.json";
    std::ofstream(f.cfg_none) << std::string(tiny).replace(tiny.find("NORM"), 4, "none");
    std::ofstream(f.cfg_cn) << std::string(tiny).replace(tiny.find("NORM"), 4, "cn");
  }
  return f;
}

std::string args(const fs::path& out, const std::string& extra = "") {
  const auto& f = fixture();
  return "neus batch-eval --scenes " + f.scenes.string() + " --configs " + f.cfg_none.string() + "," +
         f.cfg_cn.string() + " --seeds 0,1 --threads 1 --quiet --out " + out.string() + extra;
}

std::vector<nlohmann::json> records(const fs::path& store) {
  std::vector<nlohmann::json> out;
  std::ifstream in(store);
  for (std::string l; std::getline(in, l);)
    if (!l.empty()) out.push_back(nlohmann::json::parse(l));
  return out;
}

nlohmann::json table(const fs::path& out) { return nlohmann::json::parse(nf_test::slurp(out / "table.json")); }

}  // namespace

TEST(NeusBatchEval, ResumeShardMergeAndCnMinusNone) {
  if (!nf_test::have_cli()) GTEST_SKIP() << "normfield not built";
  const auto out = nf_test::scratch("neus_batch_all");
  auto r = run_cli(args(out));
  ASSERT_EQ(r.code, 0) << r.output;
  auto recs = records(out / "results.jsonl");
  ASSERT_EQ(recs.size(), 4u) << r.output;  // 1 scene x 2 configs x 2 seeds
  const auto md = nf_test::slurp(out / "table.md");
  EXPECT_NE(md.find("| ours: tiny | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ours: tiny_cn | 2 |"), std::string::npos) << md;
  EXPECT_NE(md.find("CN − none"), std::string::npos) << md;
  EXPECT_NE(md.find("*paper: NeuS+CN*"), std::string::npos) << md;  // assets/paper/table7.json beside ours

  // The scene has ground truth (make-scene's gt_mesh.obj): the plain runs report a chamfer distance.
  for (const auto& rec : recs)
    if (rec["config"] == "tiny") EXPECT_TRUE(rec.contains("chamfer") && rec["chamfer"].get<double>() > 0) << rec.dump();

  // CN − none == mean(cn) - mean(none) per metric, from the store's records.
  const auto t = table(out);
  ASSERT_TRUE(t.contains("cn_minus_none")) << t.dump(1);
  for (const std::string metric : {"psnr", "chamfer"}) {
    std::map<std::string, std::vector<double>> by;
    for (const auto& rec : recs)
      if (rec.contains(metric)) by[rec["norm"].get<std::string>()].push_back(rec[metric].get<double>());
    const auto& d = t["cn_minus_none"][metric];
    if (by["none"].size() != 2 || by["cn"].size() != 2) {  // a CN SDF without a zero level set: no mesh, no chamfer
      EXPECT_FALSE(d.contains("bunny")) << d.dump();
      continue;
    }
    const double want = (by["cn"][0] + by["cn"][1]) / 2 - (by["none"][0] + by["none"][1]) / 2;
    ASSERT_TRUE(d.contains("bunny")) << metric << ": " << d.dump();
    EXPECT_NEAR(d["bunny"].get<double>(), want, 1e-9) << metric;
    const double sd = std::abs(by["none"][0] - by["none"][1]) / std::sqrt(2.0);  // sample std of two values
    EXPECT_NEAR(t["rows"][0][metric]["bunny"]["std"].get<double>(), sd, 1e-9) << metric;
  }
  EXPECT_TRUE(t["cn_minus_none"]["psnr"].contains("bunny"));

  // Resume: a second invocation finds every run stored and trains nothing.
  auto again = run_cli(args(out));
  ASSERT_EQ(again.code, 0) << again.output;
  EXPECT_EQ(records(out / "results.jsonl").size(), 4u);
  EXPECT_NE(again.output.find("4 runs in shard 1/1 (4 in all), 4 already in"), std::string::npos) << again.output;
  EXPECT_EQ(again.output.find("[1/"), std::string::npos) << again.output;
  // A sweep killed before its last record was written runs that one job again, and only it.
  {
    std::ofstream o(out / "results.jsonl", std::ios::trunc);
    for (size_t i = 0; i + 1 < recs.size(); ++i) o << recs[i].dump() << "\n";
  }
  auto resumed = run_cli(args(out));
  ASSERT_EQ(resumed.code, 0) << resumed.output;
  EXPECT_NE(resumed.output.find("3 already in"), std::string::npos) << resumed.output;
  EXPECT_NE(resumed.output.find("[1/1]"), std::string::npos) << resumed.output;
  EXPECT_EQ(records(out / "results.jsonl").size(), 4u);

  // Shards 1/2 and 2/2 in two folders, merged: the same table as the unsharded sweep.
  const auto s1 = nf_test::scratch("neus_batch_s1"), s2 = nf_test::scratch("neus_batch_s2");
  auto a = run_cli(args(s1, " --shard 1/2"));
  ASSERT_EQ(a.code, 0) << a.output;
  auto b = run_cli(args(s2, " --shard 2/2"));
  ASSERT_EQ(b.code, 0) << b.output;
  EXPECT_EQ(records(s1 / "results.jsonl").size(), 2u);
  EXPECT_EQ(records(s2 / "results.jsonl").size(), 2u);
  auto m = run_cli(args(s1, " --table-only --merge " + (s2 / "results.jsonl").string()));
  ASSERT_EQ(m.code, 0) << m.output;
  auto ts = table(s1), tu = table(out);
  ASSERT_EQ(ts["rows"].size(), tu["rows"].size());
  for (size_t i = 0; i < tu["rows"].size(); ++i)
    for (const std::string metric : {"psnr", "chamfer"})
      for (const auto& [scene, st] : tu["rows"][i][metric].items()) {
        if (scene == "avg_run" || st["mean"].is_null()) continue;
        ASSERT_TRUE(ts["rows"][i][metric].contains(scene)) << metric << " " << scene;
        EXPECT_EQ(ts["rows"][i][metric][scene]["n"], st["n"]);
        EXPECT_NEAR(ts["rows"][i][metric][scene]["mean"].get<double>(), st["mean"].get<double>(), 1e-6) << metric;
      }
  EXPECT_NEAR(ts["cn_minus_none"]["psnr"]["bunny"].get<double>(), tu["cn_minus_none"]["psnr"]["bunny"].get<double>(), 1e-6);

  // Bad input: one-line errors naming the flag / folder / config.
  EXPECT_TRUE(nf_test::is_one_line_error(run_cli("neus batch-eval --scenes /nonexistent/scans --out " + out.string()),
                                         "--scenes /nonexistent/scans"));
  EXPECT_TRUE(nf_test::is_one_line_error(
      run_cli("neus batch-eval --scenes " + fixture().scenes.string() + " --configs neus_nope --out " + out.string()), "neus_nope"));
  EXPECT_TRUE(nf_test::is_one_line_error(run_cli(args(out, " --shard 3/2")), "--shard"));
  EXPECT_EQ(records(out / "results.jsonl").size(), 4u);
}
