// normfield batch-eval: a sweep of one fit command (fit-shape, fit-ct, fit-mri) over inputs x
// architectures x methods x seeds. Each run is the command itself, started as a child process with
// --method/--arch/--seed/--out set and the shared --args appended, so every flag and config of the
// command works here unchanged; its results.json goes into a resumable, shardable results store and a
// table in the layout of the paper's Table 3, 4 or 5 with its numbers beside ours.
//
//   normfield batch-eval --command fit-ct --inputs shepp_logan --methods relu,relu+cn,pe,pe+cn \
//       --archs 2x128 --args "--iters 200 --size 128" --out out/ct-table
//
// (Images: `normfield eval-image`; NeRF: `normfield nerf batch-eval`.)
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <sstream>

#include "app/assets.h"
#include "app/commands.h"
#include "app/flag_checks.h"
#include "fields/config.h"
#include "fields/registry.h"
#include "tasks/sweep.h"
#include "report/sweep_table.h"

namespace nf::app {
namespace {
namespace fs = std::filesystem;

struct CommandSpec {
  std::string name, input_flag, paper, title;
  std::vector<std::string> metrics;
  std::string default_arch;
};

const std::vector<CommandSpec>& command_specs() {
  static const std::vector<CommandSpec> specs{
      {"fit-shape", "--mesh", "paper/table3.json", "3-D occupancy (paper Table 3)", {"iou"}, "2x256"},
      {"fit-ct", "--image", "paper/table4.json", "2-D CT reconstruction (paper Table 4)", {"psnr", "ssim"}, "2x128"},
      {"fit-mri", "--volume", "paper/table5.json", "3-D MRI reconstruction (paper Table 5)", {"psnr", "ssim"}, "2x256"},
  };
  return specs;
}

const CommandSpec& find_spec(const std::string& name) {
  std::string valid;
  for (const auto& s : command_specs()) {
    if (s.name == name) return s;
    valid += (valid.empty() ? "" : ", ") + s.name;
  }
  throw std::runtime_error("--command " + name + ": not a sweepable command (valid: " + valid +
                           "; images: eval-image, NeRF: nerf batch-eval)");
}

struct BatchEval {
  std::string command;
  std::vector<std::string> inputs;
  std::vector<std::string> methods{"relu", "relu+cn", "pe", "pe+cn"};
  std::vector<std::string> archs;
  std::vector<uint64_t> seeds{0};
  std::string args;  // appended to every run's command line
  std::string out = "out/batch-eval";
  std::string shard = "1/1";
  std::vector<std::string> merge;
  bool table_only = false;
};

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<std::string> split_args(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string t; in >> t;) out.push_back(t);
  return out;
}

std::string self_exe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("batch-eval: cannot locate the normfield executable (/proc/self/exe)");
  return p.string();
}

std::string input_stem(const std::string& input) {
  auto stem = fs::path(input).stem().string();
  return stem.empty() ? input : stem;
}

int run_batch_eval(BatchEval& st) {
  const auto& spec = find_spec(st.command);
  for (const auto& m : st.methods) method_config(m, 2, 1, 1, 1);  // one-line errors before any training
  if (st.archs.empty()) st.archs = {spec.default_arch};
  for (const auto& a : st.archs) parse_arch(a);
  for (const auto& flag : {"--method", "--arch", "--seed", "--out", spec.input_flag.c_str()})
    for (const auto& t : split_args(st.args))
      if (t == flag || t.rfind(std::string(flag) + "=", 0) == 0) throw std::runtime_error("--args: " + t + " is set by batch-eval itself (use --methods/--archs/--seeds/--out/--inputs)");
  const std::string tag = st.command + (st.args.empty() ? "" : " " + st.args);
  Sweep sweep({"batch-eval " + st.command, st.out, st.shard, st.merge, st.table_only, false});
  if (!st.table_only) {
    if (st.inputs.empty()) throw std::runtime_error("--inputs: give at least one input for " + st.command);
    const auto exe = self_exe();
    std::vector<SweepJob> jobs;
    for (const auto& in : st.inputs)
      for (const auto& a : st.archs)
        for (const auto& m : st.methods)
          for (auto seed : st.seeds)
            jobs.push_back({input_stem(in) + "|" + a + "|" + m + "|" + std::to_string(seed) + "|" + tag, [&st, &spec, &exe, &tag, in, a, m, seed]() {
              const fs::path dir = fs::path(st.out) / "runs" / input_stem(in) / a / (m + "_s" + std::to_string(seed));
              std::string cmd = shell_quote(exe) + " " + st.command + " " + spec.input_flag + " " + shell_quote(in) +
                                " --method " + shell_quote(m) + " --arch " + a + " --seed " + std::to_string(seed) +
                                " --out " + shell_quote(dir.string()) + " --resume";
              for (const auto& t : split_args(st.args)) cmd += " " + shell_quote(t);
              std::fflush(stdout);
              const int status = std::system(cmd.c_str());
              const int code = status == -1 ? -1 : (WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
              if (code != 0)
                throw std::runtime_error("batch-eval: run " + m + " " + a + " on " + in + " (seed " + std::to_string(seed) +
                                         ") failed with exit code " + std::to_string(code) +
                                         " (its error is above); finished runs are kept in " + (fs::path(st.out) / "results.jsonl").string());
              auto res = load_config_file(dir / "results.json");
              nlohmann::json rec;
              for (const auto& [key, v] : res.items())
                if (v.is_number() || v.is_string()) rec[key] = v;  // metrics, timings, norm mode; not field/task blobs
              rec["protocol"] = tag;
              rec["command"] = st.command;
              rec["input"] = input_stem(in);
              rec["input_path"] = in;
              rec["arch"] = a;
              rec["method"] = m;
              rec["seed"] = seed;
              rec["run_dir"] = dir.string();
              return rec;
            }});
    sweep.run(jobs, [&spec](const nlohmann::json& rec) {
      char line[160];
      std::snprintf(line, sizeof line, "%-8s %-7s %-20s", rec["method"].get<std::string>().c_str(),
                    rec["arch"].get<std::string>().c_str(), rec["input"].get<std::string>().c_str());
      std::string s = line;
      for (const auto& m : spec.metrics) {
        std::snprintf(line, sizeof line, "  %s %.4f", m.c_str(), rec.value(m, 0.0));
        s += line;
      }
      return s;
    });
  }
  nlohmann::json paper;
  try {
    paper = load_config_file(asset(spec.paper));
  } catch (const std::exception& e) {
    std::cerr << "note: " << e.what() << "; table without the paper's numbers\n";
  }
  std::cout << write_sweep_table(sweep.store().records(), paper, st.methods, spec.metrics, spec.title, tag, st.out);
  std::printf("wrote %s/{table.md,table.csv} (runs in %s/runs)\n", st.out.c_str(), st.out.c_str());
  return 0;
}

Command reg([](CLI::App& app) {
  auto st = std::make_shared<BatchEval>();
  auto* sub = app.add_subcommand(
      "batch-eval", "sweep fit-shape / fit-ct / fit-mri over inputs x archs x methods x seeds; table beside the paper's");
  sub->add_option("--command", st->command, "fit-shape, fit-ct or fit-mri")->required();
  sub->add_option("--inputs", st->inputs, "meshes (fit-shape), CT slices or 'shepp_logan' (fit-ct), volumes (fit-mri)")
      ->delimiter(',');
  sub->add_option("--methods", st->methods, "methods (columns)")->delimiter(',')->capture_default_str();
  sub->add_option("--archs", st->archs, "architectures (default: the paper's for the command)")->delimiter(',');
  sub->add_option("--seeds", st->seeds, "seeds")->delimiter(',')->capture_default_str()->check(nonnegative_int());
  sub->add_option("--args", st->args, "more flags for every run, e.g. \"--iters 200 --size 128\" (part of the protocol key)");
  sub->add_option("--out", st->out, "folder of the results store, runs/ and the table")->capture_default_str();
  sub->add_option("--shard", st->shard, "run only the k-th of n disjoint parts (k/n)")->capture_default_str();
  sub->add_option("--merge", st->merge, "other results stores to include in the table")->delimiter(',');
  sub->add_flag("--table-only", st->table_only, "write the table from the store(s) without training");
  set_action(sub, [st]() { return run_batch_eval(*st); });
});

}  // namespace
}  // namespace nf::app
