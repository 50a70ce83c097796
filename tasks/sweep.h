#pragma once
// The one sweep engine behind every batch command (`nerf batch-eval`, `neus batch-eval`,
// `batch-eval`, `eval-image`): a list of jobs, each with a unique key (the protocol is part of it),
// run once each into a results store (report/results_store.h) so that
//   - a killed sweep continues where it stopped (stored keys are skipped; each run also resumes
//     from its own checkpoint folder, which the job's closure chooses),
//   - `--shard k/n` runs every n-th job starting at the k-th (in the list's order) for job arrays,
//     and concurrent sweeps on one --out share the work (ResultsStore::claim),
//   - `--merge other/results.jsonl,...` reads shard stores into the table without copying them,
//   - `--table-only` writes the table from the store(s) without training.
// The table itself is the caller's (report/nerf_table.h, report/scene_table.h, report/sweep_table.h;
// SeedStat in report/seed_stat.h averages over seeds).
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "report/results_store.h"

namespace nf {

struct SweepJob {
  std::string key;  // unique in the store; holds the protocol so that other protocols do not collide
  // Trains and evaluates; returns the record (the engine sets "key"). Throws on failure: finished
  // runs stay in the store, and the claim of this one is taken over by the next sweep.
  std::function<nlohmann::json()> run;
};

struct SweepOptions {
  std::string name;                 // e.g. "nerf batch-eval", for the header line
  std::filesystem::path out;        // the store is out/results.jsonl
  std::string shard = "1/1";        // "k/n"
  std::vector<std::string> merge;   // other stores read into the table (not written back)
  bool table_only = false;
  bool quiet = false;               // no header / progress lines
};

struct SweepCounts {
  int64_t in_shard = 0;  // jobs of this shard
  int64_t stored = 0;    // of those, already in the store when the sweep started
  int64_t ran = 0;       // run by this process
};

class Sweep {
 public:
  // Parses the shard ("--shard: ..." on a bad one), opens the store and reads the merged ones (an
  // error naming a missing one) before any training.
  explicit Sweep(SweepOptions options);
  // The jobs of shard k/n: those with index % n == k - 1.
  std::vector<const SweepJob*> shard_jobs(const std::vector<SweepJob>& all) const;
  // Runs this shard's jobs that are neither stored nor claimed by a live sweep, appending each record
  // as soon as it is finished. describe(record) is the progress line of a finished run (an ETA is
  // appended); header: more lines after the first header line. A no-op with table_only.
  SweepCounts run(const std::vector<SweepJob>& all,
                  const std::function<std::string(const nlohmann::json&)>& describe = {},
                  const std::string& header = "");
  const ResultsStore& store() const { return store_; }
  // The stored and merged records whose "protocol" equals `protocol`.
  std::vector<nlohmann::json> records(const std::string& protocol) const;
  const SweepOptions& options() const { return options_; }
  int shard_k() const { return k_; }
  int shard_n() const { return n_; }

 private:
  SweepOptions options_;
  int k_ = 1, n_ = 1;
  ResultsStore store_;
};

// The run folder name of a protocol tag ("k=v,k=v": the overrides of a sweep): "config" when the tag
// sets nothing but "iters=config", else the pairs as "k-v" joined by '.', with "-1" written "all",
// e.g. "iters=300,skip=1,views=-1" -> "iters-300.skip-1.views-all". Only letters, digits, '-', '_', '.'.
std::string protocol_folder(const std::string& tag);

// The scene folders of --scenes: each entry is a scene (is_scene) or holds scenes one level down
// (sorted). Errors name the flag and folder: "--scenes X: no such folder", "--scenes X: no <what> in
// it or its subfolders".
std::vector<std::filesystem::path> list_scene_folders(const std::vector<std::string>& sources,
                                                      const std::function<bool(const std::filesystem::path&)>& is_scene,
                                                      const std::string& what);

}  // namespace nf
