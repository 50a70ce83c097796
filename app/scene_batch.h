#pragma once
// What `nerf batch-eval` and `neus batch-eval` share: the flags of a scenes x configs x seeds sweep,
// its protocol tag, each run's flags and folder, the job list on the sweep engine (tasks/sweep.h)
// with the record fields every run carries, and the paper's table from assets/paper/.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/train_flags.h"
#include "tasks/sweep.h"

namespace nf::app {

struct SceneBatch {
  std::vector<std::string> scenes;  // scene folders, or folders of scene folders
  std::vector<std::string> configs;
  std::vector<uint64_t> seeds;
  int64_t iters = 0;  // 0: each config's
  std::string out;
  std::string shard = "1/1";
  std::vector<std::string> merge;
  bool table_only = false;
  std::string device = "cpu";
  int threads = 0;
  bool quiet = false;

  // The help texts that differ between the commands.
  struct Help {
    std::string scenes, configs, out, merge;
  };
  // --scenes --configs --seeds --iters, add_overrides(sub), --out --shard --merge --table-only
  // --device --threads --quiet.
  void add_flags(CLI::App* sub, const Help& help, const std::function<void(CLI::App*)>& add_overrides);
  // "iters=<N|config>" plus ",<overrides>" when the command's overrides tag is not empty.
  std::string protocol_tag(const std::string& overrides_tag) const;
  // flags for one run of `config_path` on `scene` with `seed`, as `<cmd> train --config C --scene S
  // --seed N` runs it: the config's values (--iters wins when given), resuming from the run's last
  // checkpoint in OUT/runs/<protocol folder>/<scene>/<config stem>_s<seed>. Returns the config.
  nlohmann::json apply_run(TrainFlags& flags, const std::string& config_path, const std::filesystem::path& scene,
                           uint64_t seed, const std::string& tag) const;
  // The device the runs train on (--device, --threads).
  c10::Device setup_device() const;
  // "<name> <scene folder name> s<seed>": a run's label (TrainOptions::label).
  static std::string run_label(const std::string& name, const std::filesystem::path& scene, uint64_t seed);
};

// A task's batch: the SceneBatch flags plus the task's overrides (e.g. NerfOverrides).
template <class Overrides>
struct TaskBatch : SceneBatch {
  Overrides overrides;
};

// What a task's `batch-eval` defaults to, and what a run writes into OUT (e.g. "{table.md,table.json}").
struct BatchDefaults {
  std::vector<std::string> configs;
  std::vector<uint64_t> seeds;
  std::string out, written;
};

// Registers `batch-eval` under `parent`: a TaskBatch with `defaults`, add_flags(help) with the
// overrides but --norm. Returns the action: run(batch), then "wrote OUT/<written>".
template <class Overrides>
std::function<int()> add_batch_eval(CLI::App* parent, const BatchDefaults& defaults, const std::string& description,
                                    const SceneBatch::Help& help, void (*run)(TaskBatch<Overrides>&)) {
  auto st = std::make_shared<TaskBatch<Overrides>>();
  st->configs = defaults.configs;
  st->seeds = defaults.seeds;
  st->out = defaults.out;
  auto* b = parent->add_subcommand("batch-eval", description);
  st->add_flags(b, help, [st](CLI::App* sub) { st->overrides.add_to(sub, /*with_norm=*/false); });
  return [st, run, written = defaults.written]() {
    run(*st);
    std::printf("wrote %s/%s\n", st->out.c_str(), written.c_str());
    return 0;
  };
}

// One training job of Batch's sweep (a SceneBatch with `overrides`), as `<task> train --config
// <config_path> --scene <scene> --seed <seed>` runs it: apply_run on flags (the task's TrainFlags),
// make_job (e.g. make_nerf_job) with the overrides, labelled run_label.
template <class Batch, class Job, class Overrides>
Job scene_batch_job(const Batch& st, TrainFlags flags, const std::string& config_path,
                    const std::filesystem::path& scene, uint64_t seed,
                    Job (*make_job)(const TrainFlags&, const nlohmann::json&, const std::string&, const Overrides&)) {
  auto cfg = st.apply_run(flags, config_path, scene, seed, st.protocol_tag(st.overrides.tag()));
  auto job = make_job(flags, cfg, scene.string(), st.overrides);
  job.train.label = SceneBatch::run_label(job.name, scene, seed);
  return job;
}

// What every run's record carries besides its metrics.
struct SceneRun {
  std::string name;           // the config's file stem
  nlohmann::json field;       // the field config (its "norm")
  std::filesystem::path dir;  // the run folder
};

// One job per scene x config x seed (in that order), keyed "<scene folder>|<config>|<seed>|<tag>";
// run(scene, config, seed, record) trains and evaluates, fills record with its metrics and returns
// the run's SceneRun; the record then gets protocol, scene, scene_path, config, norm, seed, run_dir.
// describe: the progress line of a finished run.
using SceneRunFn =
    std::function<SceneRun(const std::filesystem::path& scene, const std::string& config, uint64_t seed, nlohmann::json& record)>;
void run_scene_sweep(Sweep& sweep, const SceneBatch& st, const std::vector<std::filesystem::path>& scenes,
                     const std::string& tag, const SceneRunFn& run,
                     const std::function<std::string(const nlohmann::json&)>& describe);

// A finished run's progress line (run_scene_sweep's describe): "<scene> <config> seed <seed>  ", the
// scene and config names left-aligned in scene_width and config_width columns, then printf(format, ...).
std::string run_line(const nlohmann::json& record, int scene_width, int config_width, const char* format, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

// assets/<name> (e.g. "paper/table7.json"); on failure a note on stderr and null (a table without
// the paper's numbers).
nlohmann::json load_paper_table(const std::string& name);

}  // namespace nf::app
