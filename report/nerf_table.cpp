#include "report/nerf_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "report/plot_lines.h"
#include "report/seed_stat.h"
#include "report/table_format.h"

namespace nf {
namespace {

using Stat = SeedStat;  // mean ± sample std over seeds (report/seed_stat.h)

struct Row {
  std::string config, resolution, norm;
  std::map<std::string, Stat> psnr, ssim;  // per scene, over seeds
  std::map<std::string, Stat> ms;          // ms/iter per scene
  size_t seeds() const {
    size_t n = 0;
    for (const auto& [s, st] : psnr) n = std::max(n, st.v.size());
    return n;
  }
};

std::string title_case(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

}  // namespace

std::string canonical_scene(const std::string& folder) {
  auto p = std::filesystem::path(folder);
  std::string name = (p.has_filename() ? p.filename() : p.parent_path().filename()).string();
  std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
  const auto us = name.rfind('_');
  if (us != std::string::npos && us + 1 < name.size() &&
      std::all_of(name.begin() + static_cast<long>(us) + 1, name.end(), [](unsigned char c) { return std::isdigit(c); }))
    name.resize(us);
  return name;
}

std::string write_nerf_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                             const std::string& protocol, const std::filesystem::path& out_dir) {
  // Rows in order of first appearance, grouped by resolution.
  std::vector<Row> rows;
  std::vector<std::string> run_scenes;
  std::map<std::pair<std::string, std::string>, std::map<int64_t, Stat>> curves;  // (scene@res, config) -> step
  for (const auto& r : records) {
    if (r.value("protocol", "") != protocol) continue;
    const auto config = r.at("config").get<std::string>(), res = r.at("resolution").get<std::string>();
    const auto scene = canonical_scene(r.at("scene").get<std::string>());
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& x) { return x.config == config && x.resolution == res; });
    if (it == rows.end()) {
      rows.push_back({config, res, r.value("norm", "none"), {}, {}, {}});
      it = rows.end() - 1;
    }
    it->psnr[scene].v.push_back(r.at("psnr").get<double>());
    it->ssim[scene].v.push_back(r.at("ssim").get<double>());
    it->ms[scene].v.push_back(r.value("ms_per_iter", std::nan("")));
    if (std::find(run_scenes.begin(), run_scenes.end(), scene) == run_scenes.end()) run_scenes.push_back(scene);
    if (r.contains("curve"))
      for (const auto& pt : r["curve"]) curves[{scene + "_" + res, config}][pt[0].get<int64_t>()].v.push_back(pt[1].get<double>());
  }
  std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) { return a.resolution < b.resolution; });

  // Columns: the paper's scenes, then any other scene run.
  std::vector<std::string> scenes;
  if (paper.contains("scenes")) scenes = paper["scenes"].get<std::vector<std::string>>();
  for (const auto& s : run_scenes)
    if (std::find(scenes.begin(), scenes.end(), s) == scenes.end()) scenes.push_back(s);
  const size_t n_paper = paper.contains("scenes") ? paper["scenes"].size() : 0;
  auto paper_val = [&](const std::string& metric, const std::string& method, const std::string& scene) {
    if (paper.contains(metric) && paper[metric].contains(method) && paper[metric][method].contains(scene))
      return paper[metric][method][scene].get<double>();
    return std::nan("");
  };
  auto paper_method_for_norm = [&](const std::string& norm) -> std::string {
    if (paper.contains("norm_rows") && paper["norm_rows"].contains(norm)) return paper["norm_rows"][norm];
    return "";
  };

  std::ostringstream md;
  md << "# Novel view synthesis: ours beside the paper's Table 6\n\n"
     << "Protocol: `" << protocol << "`. Ours: mean over seeds (± sample standard deviation when more than one "
     << "seed) of the mean over the evaluated test views; \"–\": not run. Paper: Table 6 (400 x 400, "
     << "mip-NeRF's full protocol). \"Avg (run)\" averages the scenes run here (" << run_scenes.size()
     << "), for the paper's rows over the same scenes, so the two compare; \"Avg (paper)\" is the paper's "
     << "average over all its scenes.\n";
  for (const std::string metric : {"psnr", "ssim"}) {
    const int prec = metric == "psnr" ? 2 : 3;
    md << "\n## " << (metric == "psnr" ? "PSNR (dB)" : "SSIM") << "\n\n| method | seeds |";
    for (const auto& s : scenes) md << " " << title_case(s) << " |";
    md << " Avg (run) | Avg (paper) |\n|---|---|";
    for (size_t i = 0; i < scenes.size() + 2; ++i) md << "---|";
    md << "\n";
    auto run_avg = [&](const std::function<double(const std::string&)>& val) {
      std::vector<double> v;
      for (const auto& s : run_scenes) v.push_back(val(s));
      return table::mean_finite(v);
    };
    for (const auto& row : rows) {
      const auto& m = metric == "psnr" ? row.psnr : row.ssim;
      md << "| ours: " << row.config << " (" << row.resolution << ") | " << row.seeds() << " |";
      for (const auto& s : scenes) {
        auto it = m.find(s);
        if (it == m.end()) {
          md << " – |";
          continue;
        }
        md << " " << table::fmt(it->second.mean(), prec);
        if (it->second.v.size() > 1) md << " ± " << table::fmt(it->second.std(), prec);
        md << " |";
      }
      const double avg = run_avg([&](const std::string& s) { return m.count(s) ? m.at(s).mean() : std::nan(""); });
      // Over the paper's scenes, only when every one of them was run.
      std::vector<double> on_paper;
      for (size_t i = 0; i < n_paper; ++i) on_paper.push_back(m.count(scenes[i]) ? m.at(scenes[i]).mean() : std::nan(""));
      const bool all = n_paper > 0 && std::none_of(on_paper.begin(), on_paper.end(), [](double x) { return std::isnan(x); });
      md << " " << table::fmt(avg, prec) << " | " << (all ? table::fmt(table::mean_finite(on_paper), prec) : "–") << " |\n";
    }
    // CN minus the plain model at the same resolution (when exactly one of each was run).
    std::vector<std::string> resolutions;
    for (const auto& row : rows)
      if (std::find(resolutions.begin(), resolutions.end(), row.resolution) == resolutions.end())
        resolutions.push_back(row.resolution);
    for (const auto& res : resolutions) {
      const Row *plain = nullptr, *cn = nullptr;
      int n_plain = 0, n_cn = 0;
      for (const auto& row : rows) {
        if (row.resolution != res) continue;
        if (row.norm == "none") plain = &row, ++n_plain;
        if (row.norm == "cn") cn = &row, ++n_cn;
      }
      if (n_plain != 1 || n_cn != 1) continue;
      const auto& a = metric == "psnr" ? plain->psnr : plain->ssim;
      const auto& b = metric == "psnr" ? cn->psnr : cn->ssim;
      auto delta = [&](const std::string& s) {
        return a.count(s) && b.count(s) ? b.at(s).mean() - a.at(s).mean() : std::nan("");
      };
      md << "| ours: **CN − none** (" << res << ") | |";
      for (const auto& s : scenes) md << " **" << table::fmt(delta(s), prec, true) << "** |";
      md << " **" << table::fmt(run_avg(delta), prec, true) << "** | – |\n";
    }
    if (paper.contains(metric)) {
      std::vector<std::string> methods;  // the paper's row order when given (JSON objects are sorted)
      if (paper.contains("methods")) methods = paper["methods"].get<std::vector<std::string>>();
      for (const auto& [method, vals] : paper[metric].items())
        if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
      for (const auto& method : methods) {
        if (!paper[metric].contains(method)) continue;
        md << "| *paper: " << method << "* | |";
        for (const auto& s : scenes) md << " *" << table::fmt(paper_val(metric, method, s), prec) << "* |";
        md << " *" << table::fmt(run_avg([&](const std::string& s) { return paper_val(metric, method, s); }), prec) << "* | *"
           << table::fmt(paper_val(metric, method, "avg"), prec) << "* |\n";
      }
      const auto p_plain = paper_method_for_norm("none"), p_cn = paper_method_for_norm("cn");
      if (!p_plain.empty() && !p_cn.empty()) {
        auto delta = [&](const std::string& s) { return paper_val(metric, p_cn, s) - paper_val(metric, p_plain, s); };
        md << "| *paper: " << p_cn << " − " << p_plain << "* | |";
        for (const auto& s : scenes) md << " *" << table::fmt(delta(s), prec, true) << "* |";
        md << " *" << table::fmt(run_avg(delta), prec, true) << "* | *" << table::fmt(delta("avg"), prec, true) << "* |\n";
      }
    }
  }

  // Cost per run (ms per training step, minutes of training, seconds of evaluation), mean over runs.
  md << "\n## Time per run\n\n| method | runs | ms/step | train (min) | eval (s) | device |\n|---|---|---|---|---|---|\n";
  for (const auto& row : rows) {
    std::vector<double> ms, train, ev;
    std::string device;
    for (const auto& r : records) {
      if (r.value("protocol", "") != protocol || r.at("config") != row.config || r.at("resolution") != row.resolution)
        continue;
      ms.push_back(r.value("ms_per_iter", std::nan("")));
      train.push_back(r.value("seconds", std::nan("")) / 60.0);
      ev.push_back(r.value("eval_seconds", std::nan("")));
      device = r.value("device", "");
    }
    md << "| " << row.config << " (" << row.resolution << ") | " << ms.size() << " | " << table::fmt(table::mean_finite(ms), 0) << " | "
       << table::fmt(table::mean_finite(train), 1) << " | " << table::fmt(table::mean_finite(ev), 0) << " | " << device << " |\n";
  }

  std::ostringstream csv;
  csv << "config,resolution,norm,scene,seeds,psnr,psnr_std,ssim,ssim_std,ms_per_iter,paper_method,paper_psnr,paper_ssim\n";
  for (const auto& row : rows)
    for (const auto& [scene, st] : row.psnr) {
      const auto pm = paper_method_for_norm(row.norm);
      csv << row.config << "," << row.resolution << "," << row.norm << "," << scene << "," << st.v.size() << ","
          << st.mean() << "," << st.std() << "," << row.ssim.at(scene).mean() << "," << row.ssim.at(scene).std() << ","
          << row.ms.at(scene).mean() << "," << pm << "," << paper_val("psnr", pm, scene) << ","
          << paper_val("ssim", pm, scene) << "\n";
    }

  std::filesystem::create_directories(out_dir);
  std::ofstream(out_dir / "table.md") << md.str();
  std::ofstream(out_dir / "table.csv") << csv.str();

  // Training curves: one plot per scene and resolution, one line per config (mean over seeds).
  std::map<std::string, std::vector<LineSeries>> plots;
  for (const auto& [key, steps] : curves) {
    LineSeries s{key.second, {}, {}};
    for (const auto& [step, st] : steps) {
      s.x.push_back(static_cast<double>(step));
      s.y.push_back(st.mean());
    }
    plots[key.first].push_back(std::move(s));
  }
  for (const auto& [name, series] : plots)
    plot_lines(out_dir / ("curves_" + name + ".png"), series,
               {"training PSNR (batch), " + name, "step", "PSNR (dB)", false, false});
  return md.str();
}

}  // namespace nf
