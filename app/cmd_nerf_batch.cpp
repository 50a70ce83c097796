// normfield nerf batch-eval: scenes x configs x seeds, each trained and evaluated as `nerf train`
// does, collected in a resumable, shardable results store and written as a table in the layout of
// the paper's Table 6 with its numbers beside ours (report/nerf_table.h), plus training curves and a
// montage of one test view per scene (ground truth | each config).
//
//   normfield nerf batch-eval --scenes $NORMFIELD_DATA/nerf_synthetic --configs mipnerf_small,mipnerf_small_cn
//       [--seeds 0,1] [--iters N] [--out DIR] [--shard k/n] [--merge other/results.jsonl] [--table-only]
#include <torch/utils.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <map>

#include "app/assets.h"
#include "app/flag_checks.h"
#include "app/nerf_setup.h"
#include "app/scene_batch.h"
#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "fields/config.h"
#include "report/nerf_table.h"
#include "tasks/fit.h"
#include "tasks/sweep.h"

namespace nf::app {
namespace {
namespace fs = std::filesystem;

using BatchEval = TaskBatch<NerfOverrides>;

bool is_scene(const fs::path& p) { return fs::is_regular_file(p / "transforms_train.json"); }

std::vector<fs::path> list_scenes(const BatchEval& st) {
  std::vector<std::string> srcs = st.scenes;
  if (srcs.empty()) srcs.push_back((data_dir() / "nerf_synthetic").string());
  return list_scene_folders(srcs, is_scene, "Blender scene (transforms_train.json)");
}

std::string protocol_tag(const BatchEval& st) { return st.protocol_tag(st.overrides.tag()); }

// One training job of the sweep, as `nerf train --config <config> --scene <scene> --seed <seed>` would run it.
NerfJob batch_job(const BatchEval& st, const std::string& config, const fs::path& scene, uint64_t seed) {
  return scene_batch_job(st, TrainFlags("nerf"), resolve_nerf_config(config).string(), scene, seed, make_nerf_job);
}

// Ground truth | each config's render of the first test view, per scene and resolution (seed: the
// smallest run). Runs whose folders are not on this machine (merged stores) are left out.
void write_montages(const std::vector<nlohmann::json>& records, const std::string& protocol, const fs::path& out) {
  std::map<std::string, std::map<std::string, nlohmann::json>> by;  // scene_res -> config -> record
  for (const auto& r : records) {
    if (r.value("protocol", "") != protocol || !r.contains("run_dir")) continue;
    const auto key = canonical_scene(r["scene"]) + "_" + r["resolution"].get<std::string>();
    auto& slot = by[key][r["config"].get<std::string>()];
    if (slot.is_null() || slot["seed"].get<uint64_t>() > r["seed"].get<uint64_t>()) slot = r;
  }
  for (const auto& [key, configs] : by) {
    std::vector<at::Tensor> tiles;
    std::string order;
    for (const auto& [config, r] : configs) {
      const fs::path dir = r["run_dir"].get<std::string>();
      if (!fs::exists(dir / "compare_000.png") || !fs::exists(dir / "render_000.png")) continue;
      auto render = load_image(dir / "render_000.png").pixels;
      if (tiles.empty()) {  // the ground truth is the left tile of compare_000.png (maybe upscaled by f)
        auto cmp = load_image(dir / "compare_000.png").pixels;
        const int64_t f = std::max<int64_t>(1, cmp.size(0) / render.size(0));
        tiles.push_back(cmp.slice(1, 0, render.size(1) * f).slice(0, 0, cmp.size(0), f).slice(1, 0, render.size(1) * f, f).contiguous());
        order = "ground truth";
      }
      tiles.push_back(render);
      order += " | " + config;
    }
    if (tiles.size() < 2) continue;
    write_png(out / ("montage_" + key + ".png"), upscale_nearest(side_by_side(tiles)));
    std::printf("montage_%s.png: %s\n", key.c_str(), order.c_str());
  }
}

void run_batch_eval(BatchEval& st) {
  auto device = st.setup_device();
  const auto tag = protocol_tag(st);
  Sweep sweep({"nerf batch-eval", st.out, st.shard, st.merge, st.table_only, false});
  if (!st.table_only) {
    for (const auto& c : st.configs) resolve_nerf_config(c);  // fail on a typo before hours of training
    run_scene_sweep(
        sweep, st, list_scenes(st), tag,
        [&](const fs::path& s, const std::string& c, uint64_t seed, nlohmann::json& rec) {
          auto job = batch_job(st, c, s, seed);
          torch::manual_seed(seed);
          NerfTask task(job.task, device);
          auto r = fit_task(task, job.field, job.train, device, {},
                            [&](FieldImpl& f, int64_t step) { task.after_step(f, step, job.train); });
          rec = r.metrics;
          rec.erase("field");
          // Training PSNR (noisy single batches) averaged over buckets of iters/100 steps.
          nlohmann::json curve = nlohmann::json::array();
          const int64_t bucket = std::max<int64_t>(1, job.train.iters / 100);
          double sum = 0;
          int cnt = 0;
          for (const auto& h : r.history) {
            if (!h.metrics.count("psnr")) continue;
            sum += h.metrics.at("psnr"), ++cnt;
            if (h.step % bucket == 0 || h.step == r.history.back().step) {
              curve.push_back({h.step, sum / cnt});
              sum = 0, cnt = 0;
            }
          }
          rec["curve"] = curve;
          return SceneRun{job.name, job.field, job.train.out_dir};
        },
        [](const nlohmann::json& rec) {
          return run_line(rec, 10, 20, "PSNR %.2f  SSIM %.4f  %.0f ms/iter", rec["psnr"].get<double>(),
                          rec["ssim"].get<double>(), rec["ms_per_iter"].get<double>());
        });
  }
  std::cout << write_nerf_table(sweep.store().records(), load_paper_table("paper/table6.json"), tag, st.out);
  write_montages(sweep.store().records(), tag, st.out);
}

}  // namespace

std::function<int()> add_nerf_batch_eval(CLI::App* nerf) {
  return add_batch_eval(
      nerf, {{"mipnerf_small", "mipnerf_small_cn"}, {0}, "out/nerf-batch", "{table.md,table.csv,curves_*.png,montage_*.png}"},
      "train + evaluate scenes x configs x seeds (resumable, shardable); a table in the paper's Table 6 layout",
      {"scene folders, or folders of scenes (default: $NORMFIELD_DATA/nerf_synthetic)",
       "configs in assets/configs/nerf or JSON paths",
       "folder of the results store (results.jsonl), table and plots; runs in OUT/runs/<protocol>/<scene>/"
       "<config>_s<seed>, <protocol> = 'config' (all from the configs) or the overrides, e.g. iters-300.skip-1",
       "other results stores to include in the table"},
      run_batch_eval);
}

}  // namespace nf::app
