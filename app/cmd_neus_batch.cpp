// normfield neus batch-eval: scenes x configs x seeds, each trained and evaluated as `neus train`
// does, on the shared sweep engine (tasks/sweep.h: resumable, shardable, mergeable), written as a
// table in the layout of the paper's Table 7 (scenes as columns; chamfer distance where the scene has
// a ground truth, i.e. gt_mesh.* from make-scene, and held-out PSNR) with its numbers beside ours
// (assets/paper/table7.json): table.md, table.json, table_<metric>.png.
//
//   normfield neus batch-eval --scenes DIR[,DIR...] --configs neus_small,neus_small_cn --seeds 0,1,2
//       [--iters N] [--batch B] [--mesh-resolution R] [--max-views V] [--shard k/n] [--merge S,...] [--out DIR]
#include <torch/utils.h>

#include <cstdio>
#include <iostream>

#include "app/assets.h"
#include "app/flag_checks.h"
#include "app/neus_setup.h"
#include "app/scene_batch.h"
#include "fields/config.h"
#include "report/scene_table.h"
#include "tasks/fit.h"
#include "tasks/sweep.h"

namespace nf::app {
namespace {
namespace fs = std::filesystem;

using BatchEval = TaskBatch<NeusOverrides>;

bool is_scene(const fs::path& p) { return fs::is_regular_file(p / "cameras_sphere.npz"); }

std::string protocol_tag(const BatchEval& st) { return st.protocol_tag(st.overrides.tag()); }

// One training job, as `neus train --config <config> --scene <scene> --seed <seed>` runs it.
NeusJob batch_job(const BatchEval& st, const std::string& config, const fs::path& scene, uint64_t seed) {
  return scene_batch_job(st, TrainFlags(), resolve_task_config(config, "neus").string(), scene, seed, make_neus_job);
}

// The record of one finished run: metrics without the field/task blobs and per-view lists, the
// chamfer distance flattened ("chamfer" = overall; absent without ground truth).
nlohmann::json run_record(const nlohmann::json& metrics) {
  nlohmann::json rec;
  for (const auto& [k, v] : metrics.items())
    if (v.is_number() || v.is_string() || v.is_boolean()) rec[k] = v;
  if (metrics.contains("chamfer") && metrics["chamfer"].is_object()) {
    const auto& c = metrics["chamfer"];
    rec["chamfer"] = c.value("overall", 0.0);
    rec["chamfer_accuracy"] = c.value("accuracy", 0.0);
    rec["chamfer_completeness"] = c.value("completeness", 0.0);
    rec["chamfer_pct_diagonal"] = c.value("overall_pct_diagonal", 0.0);
    rec["chamfer_gt"] = c.value("gt", std::string());
  }
  return rec;
}

SceneTableSpec table_spec() {
  SceneTableSpec spec;
  spec.title = "Surface reconstruction (NeuS): ours beside the paper's Table 7";
  spec.intro =
      "Ours: mean over seeds (± sample standard deviation when more than one seed) per scene; \"–\": not run, or no "
      "ground truth (chamfer needs the scene's gt_mesh.*, e.g. from make-scene). Chamfer: mean of accuracy and "
      "completeness, in the scene's world units (DTU: mm; make-scene: the mesh's units), capped as NeuSOptions says. "
      "PSNR: held-out views. \"Avg (run)\" averages the scenes run here; \"Avg (paper)\" is the paper's mean over its "
      "15 DTU scans.";
  spec.metrics = {{"chamfer", "Chamfer distance", 3, true}, {"psnr", "Held-out PSNR (dB)", 2, false}};
  spec.scene_name = dtu_scene_name;
  return spec;
}

void run_batch_eval(BatchEval& st) {
  auto device = st.setup_device();
  const auto tag = protocol_tag(st);
  Sweep sweep({"neus batch-eval", st.out, st.shard, st.merge, st.table_only, false});
  if (!st.table_only) {
    if (st.scenes.empty()) throw std::runtime_error("--scenes: give at least one DTU-style scene folder (or a folder of them)");
    for (const auto& c : st.configs) resolve_task_config(c, "neus");  // fail on a typo before any training
    const auto scenes = list_scene_folders(st.scenes, is_scene, "DTU-style scene (cameras_sphere.npz)");
    run_scene_sweep(
        sweep, st, scenes, tag,
        [&](const fs::path& s, const std::string& c, uint64_t seed, nlohmann::json& rec) {
          auto job = batch_job(st, c, s, seed);
          torch::manual_seed(seed);
          NeusTask task(job.task, device);
          auto r = fit_task(task, job.field, job.train, device, {});
          rec = run_record(r.metrics);
          return SceneRun{job.name, job.field, job.train.out_dir};
        },
        [](const nlohmann::json& rec) {
          const std::string chamfer = rec.contains("chamfer") ? std::to_string(rec["chamfer"].get<double>()) : "-";
          return run_line(rec, 14, 16, "PSNR %.2f  chamfer %s  %.0f ms/iter", rec.value("psnr", 0.0), chamfer.c_str(),
                          rec.value("ms_per_iter", 0.0));
        });
  }
  std::cout << write_scene_table(sweep.store().records(), load_paper_table("paper/table7.json"), table_spec(), tag, st.out);
}

}  // namespace

std::function<int()> add_neus_batch_eval(CLI::App* neus) {
  return add_batch_eval(
      neus, {{"neus_small", "neus_small_cn"}, {0, 1, 2}, "out/neus-batch", "{table.md,table.json,table_*.png}"},
      "train + evaluate scenes x configs x seeds (resumable, shardable); a table in the paper's Table 7 layout",
      {"DTU-style scene folders (cameras_sphere.npz), or folders of them", "configs in assets/configs/neus or JSON paths",
       "folder of the results store (results.jsonl) and table; runs in OUT/runs/<protocol>/<scene>/<config>_s<seed>",
       "other results stores (e.g. other shards' results.jsonl) to include in the table"},
      run_batch_eval);
}

}  // namespace nf::app
