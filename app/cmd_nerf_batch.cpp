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
#include "datasets/image_io.h"
#include "datasets/image_resize.h"
#include "fields/config.h"
#include "tasks/fit.h"
#include "report/nerf_table.h"
#include "tasks/sweep.h"

namespace nf::app {
namespace {
namespace fs = std::filesystem;

struct BatchEval {
  std::vector<std::string> scenes;  // scene folders, or folders of scene folders
  std::vector<std::string> configs{"mipnerf_small", "mipnerf_small_cn"};
  std::vector<uint64_t> seeds{0};
  int64_t iters = 0;  // 0: each config's
  NerfOverrides overrides;
  std::string out = "out/nerf-batch";
  std::string shard = "1/1";
  std::vector<std::string> merge;
  bool table_only = false;
  std::string device = "cpu";
  int threads = 0;
  bool quiet = false;
};

bool is_scene(const fs::path& p) { return fs::is_regular_file(p / "transforms_train.json"); }

std::vector<fs::path> list_scenes(const BatchEval& st) {
  std::vector<std::string> srcs = st.scenes;
  if (srcs.empty()) srcs.push_back((data_dir() / "nerf_synthetic").string());
  return list_scene_folders(srcs, is_scene, "Blender scene (transforms_train.json)");
}

std::string protocol_tag(const BatchEval& st) {
  const auto ov = st.overrides.tag();
  return "iters=" + (st.iters > 0 ? std::to_string(st.iters) : std::string("config")) + (ov.empty() ? "" : "," + ov);
}

// One training job of the sweep, as `nerf train --config <config> --scene <scene> --seed <seed>` would run it.
NerfJob batch_job(const BatchEval& st, const std::string& config, const fs::path& scene, uint64_t seed) {
  TrainFlags flags("nerf");
  flags.config_path = resolve_nerf_config(config).string();
  flags.seed = seed;
  if (st.iters > 0) flags.iters = st.iters;
  auto cfg = flags.apply_config([&](const std::string& flag) { return (flag == "--iters" && st.iters > 0) || flag == "--seed"; });
  flags.quiet = st.quiet;
  flags.resume = true;  // an interrupted run continues from its last checkpoint
  flags.out = (fs::path(st.out) / "runs" / protocol_folder(protocol_tag(st)) / scene.filename() /
               (fs::path(flags.config_path).stem().string() + "_s" + std::to_string(seed)))
                  .string();
  auto job = make_nerf_job(flags, cfg, scene.string(), st.overrides);
  job.train.label = job.name + " " + scene.filename().string() + " s" + std::to_string(seed);
  return job;
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

int run_batch_eval(BatchEval& st) {
  TrainFlags dev;
  dev.device = st.device;
  dev.threads = st.threads;
  auto device = dev.setup();
  const auto tag = protocol_tag(st);
  Sweep sweep({"nerf batch-eval", st.out, st.shard, st.merge, st.table_only, false});
  if (!st.table_only) {
    for (const auto& c : st.configs) resolve_nerf_config(c);  // fail on a typo before hours of training
    const auto scenes = list_scenes(st);
    std::vector<SweepJob> jobs;
    for (const auto& s : scenes)
      for (const auto& c : st.configs)
        for (auto seed : st.seeds)
          jobs.push_back({s.filename().string() + "|" + c + "|" + std::to_string(seed) + "|" + tag, [&st, &device, &tag, s, c, seed]() {
                            auto job = batch_job(st, c, s, seed);
                            torch::manual_seed(seed);
                            NerfTask task(job.task, device);
                            auto r = fit_task(task, job.field, job.train, device, {},
                                              [&](FieldImpl& f, int64_t step) { task.after_step(f, step, job.train); });
                            nlohmann::json rec = r.metrics;
                            rec.erase("field");
                            rec["protocol"] = tag;
                            rec["scene"] = s.filename().string();
                            rec["scene_path"] = s.string();
                            rec["config"] = job.name;
                            rec["norm"] = job.field.value("norm", "none");
                            rec["seed"] = seed;
                            rec["run_dir"] = job.train.out_dir.string();
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
                            return rec;
                          }});
    char header[512];
    std::snprintf(header, sizeof header, "(%zu scenes x %zu configs x %zu seeds) runs in %s/runs/%s/<scene>/<config>_s<seed> (protocol %s)",
                  scenes.size(), st.configs.size(), st.seeds.size(), st.out.c_str(), protocol_folder(tag).c_str(), tag.c_str());
    sweep.run(jobs, [](const nlohmann::json& rec) {
      char line[256];
      std::snprintf(line, sizeof line, "%-10s %-20s seed %llu  PSNR %.2f  SSIM %.4f  %.0f ms/iter",
                    rec["scene"].get<std::string>().c_str(), rec["config"].get<std::string>().c_str(),
                    static_cast<unsigned long long>(rec["seed"].get<uint64_t>()), rec["psnr"].get<double>(),
                    rec["ssim"].get<double>(), rec["ms_per_iter"].get<double>());
      return std::string(line);
    }, header);
  }
  nlohmann::json paper;
  try {
    paper = load_config_file(asset("paper/table6.json"));
  } catch (const std::exception& e) {
    std::cerr << "note: " << e.what() << "; table without the paper's numbers\n";
  }
  std::cout << write_nerf_table(sweep.store().records(), paper, tag, st.out);
  write_montages(sweep.store().records(), tag, st.out);
  std::printf("wrote %s/{table.md,table.csv,curves_*.png,montage_*.png}\n", st.out.c_str());
  return 0;
}

}  // namespace

std::function<int()> add_nerf_batch_eval(CLI::App* nerf) {
  auto st = std::make_shared<BatchEval>();
  auto* b = nerf->add_subcommand(
      "batch-eval", "train + evaluate scenes x configs x seeds (resumable, shardable); a table in the paper's Table 6 layout");
  b->add_option("--scenes", st->scenes, "scene folders, or folders of scenes (default: $NORMFIELD_DATA/nerf_synthetic)")
      ->delimiter(',');
  b->add_option("--configs", st->configs, "configs in assets/configs/nerf or JSON paths")->delimiter(',')->capture_default_str();
  b->add_option("--seeds", st->seeds, "seeds; each is one run per scene and config")->delimiter(',')->capture_default_str()->check(nonnegative_int());
  b->add_option("--iters", st->iters, "training steps per run (default: each config's)")->check(positive_int());
  st->overrides.add_to(b, /*with_norm=*/false);
  b->add_option("--out", st->out,
                "folder of the results store (results.jsonl), table and plots; runs in OUT/runs/<protocol>/<scene>/"
                "<config>_s<seed>, <protocol> = 'config' (all from the configs) or the overrides, e.g. iters-300.skip-1")
      ->capture_default_str();
  b->add_option("--shard", st->shard, "run only the k-th of n disjoint parts (k/n)")->capture_default_str();
  b->add_option("--merge", st->merge, "other results stores to include in the table")->delimiter(',');
  b->add_flag("--table-only", st->table_only, "write the table from the store(s) without training");
  b->add_option("--device", st->device, "cpu or cuda")->capture_default_str();
  b->add_option("--threads", st->threads, "CPU threads (0: LibTorch default)")->check(thread_count());
  b->add_flag("--quiet", st->quiet, "no per-step progress output");
  return [st]() { return run_batch_eval(*st); };
}

}  // namespace nf::app
