#include "app/scene_batch.h"

#include <cstdarg>
#include <cstdio>
#include <iostream>

#include "app/assets.h"
#include "app/flag_checks.h"
#include "fields/config.h"

namespace nf::app {
namespace fs = std::filesystem;

void SceneBatch::add_flags(CLI::App* b, const Help& help, const std::function<void(CLI::App*)>& add_overrides) {
  b->add_option("--scenes", scenes, help.scenes)->delimiter(',');
  b->add_option("--configs", configs, help.configs)->delimiter(',')->capture_default_str();
  b->add_option("--seeds", seeds, "seeds; each is one run per scene and config")->delimiter(',')->capture_default_str()->check(nonnegative_int());
  b->add_option("--iters", iters, "training steps per run (default: each config's)")->check(positive_int());
  add_overrides(b);
  b->add_option("--out", out, help.out)->capture_default_str();
  b->add_option("--shard", shard, "run only the k-th of n disjoint parts (k/n)")->capture_default_str();
  b->add_option("--merge", merge, help.merge)->delimiter(',');
  b->add_flag("--table-only", table_only, "write the table from the store(s) without training");
  b->add_option("--device", device, "cpu or cuda")->capture_default_str();
  b->add_option("--threads", threads, "CPU threads (0: LibTorch default)")->check(thread_count());
  b->add_flag("--quiet", quiet, "no per-step progress output");
}

std::string SceneBatch::protocol_tag(const std::string& overrides_tag) const {
  return "iters=" + (iters > 0 ? std::to_string(iters) : std::string("config")) +
         (overrides_tag.empty() ? "" : "," + overrides_tag);
}

nlohmann::json SceneBatch::apply_run(TrainFlags& flags, const std::string& config_path, const fs::path& scene,
                                     uint64_t seed, const std::string& tag) const {
  flags.config_path = config_path;
  flags.seed = seed;
  if (iters > 0) flags.iters = iters;
  auto cfg = flags.apply_config([&](const std::string& flag) { return (flag == "--iters" && iters > 0) || flag == "--seed"; });
  flags.quiet = quiet;
  flags.resume = true;  // an interrupted run continues from its last checkpoint
  flags.out = (fs::path(out) / "runs" / protocol_folder(tag) / scene.filename() /
               (fs::path(flags.config_path).stem().string() + "_s" + std::to_string(seed)))
                  .string();
  return cfg;
}

c10::Device SceneBatch::setup_device() const {
  return nf::app::setup_device(device, threads);
}

void run_scene_sweep(Sweep& sweep, const SceneBatch& st, const std::vector<fs::path>& scenes, const std::string& tag,
                     const SceneRunFn& run, const std::function<std::string(const nlohmann::json&)>& describe) {
  std::vector<SweepJob> jobs;
  for (const auto& s : scenes)
    for (const auto& c : st.configs)
      for (auto seed : st.seeds)
        jobs.push_back({s.filename().string() + "|" + c + "|" + std::to_string(seed) + "|" + tag, [&run, &tag, s, c, seed]() {
                          nlohmann::json rec;
                          const auto r = run(s, c, seed, rec);
                          rec["protocol"] = tag;
                          rec["scene"] = s.filename().string();
                          rec["scene_path"] = s.string();
                          rec["config"] = r.name;
                          rec["norm"] = r.field.value("norm", "none");
                          rec["seed"] = seed;
                          rec["run_dir"] = r.dir.string();
                          return rec;
                        }});
  char header[512];
  std::snprintf(header, sizeof header, "(%zu scenes x %zu configs x %zu seeds) runs in %s/runs/%s/<scene>/<config>_s<seed> (protocol %s)",
                scenes.size(), st.configs.size(), st.seeds.size(), st.out.c_str(), protocol_folder(tag).c_str(), tag.c_str());
  sweep.run(jobs, describe, header);
}

std::string run_line(const nlohmann::json& record, int scene_width, int config_width, const char* format, ...) {
  char line[256];
  const int n = std::snprintf(line, sizeof line, "%-*s %-*s seed %llu  ", scene_width,
                              record["scene"].get<std::string>().c_str(), config_width,
                              record["config"].get<std::string>().c_str(),
                              static_cast<unsigned long long>(record["seed"].get<uint64_t>()));
  if (n >= 0 && static_cast<size_t>(n) < sizeof line) {
    va_list args;
    va_start(args, format);
    std::vsnprintf(line + n, sizeof line - static_cast<size_t>(n), format, args);
    va_end(args);
  }
  return line;
}

nlohmann::json load_paper_table(const std::string& name) {
  try {
    return load_config_file(asset(name));
  } catch (const std::exception& e) {
    std::cerr << "note: " << e.what() << "; table without the paper's numbers\n";
  }
  return nullptr;
}

std::string SceneBatch::run_label(const std::string& name, const std::filesystem::path& scene, uint64_t seed) {
  return name + " " + scene.filename().string() + " s" + std::to_string(seed);
}

}  // namespace nf::app
