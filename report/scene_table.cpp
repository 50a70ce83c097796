#include "report/scene_table.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <regex>
#include <sstream>

#include "fields/file_io.h"
#include "report/plot_lines.h"
#include "report/seed_stat.h"
#include "report/table_format.h"

namespace nf {
namespace {

double num(const nlohmann::json& j) { return j.is_number() ? j.get<double>() : std::nan(""); }

double paper_value(const nlohmann::json& paper, const std::string& metric, const std::string& method,
                   const std::string& scene) {
  if (paper.contains(metric) && paper[metric].contains(method) && paper[metric][method].contains(scene))
    return num(paper[metric][method][scene]);
  return std::nan("");
}

std::string cell(const nlohmann::json& s, int prec) {
  if (s.is_null() || s["mean"].is_null()) return "–";
  std::string c = table::fmt(s["mean"].get<double>(), prec);
  if (s["n"].get<int64_t>() > 1) c += " ± " + table::fmt(s["std"].get<double>(), prec);
  return c;
}

}  // namespace

std::string dtu_scene_name(const std::string& folder) {
  std::string name = std::filesystem::path(folder).filename().string();
  if (name.empty()) name = std::filesystem::path(folder).parent_path().filename().string();
  std::string lower = name;
  std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
  std::smatch m;
  if (std::regex_search(lower, m, std::regex("scan([0-9]+)"))) return "scan" + m[1].str();
  return name;
}

nlohmann::json scene_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                           const SceneTableSpec& spec, const std::string& protocol) {
  struct Row {
    std::string config, norm;
    std::map<std::string, std::map<std::string, SeedStat>> stat;  // metric -> scene -> over seeds
    std::map<std::string, std::vector<uint64_t>> seeds;           // scene -> seeds
  };
  std::vector<Row> rows;
  std::vector<std::string> run_scenes;
  for (const auto& r : records) {
    if (r.value("protocol", "") != protocol) continue;
    const auto config = r.at("config").get<std::string>();
    const auto folder = r.at("scene").get<std::string>();
    const auto scene = spec.scene_name ? spec.scene_name(folder) : folder;
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Row& x) { return x.config == config; });
    if (it == rows.end()) {
      rows.push_back({config, r.value("norm", "none"), {}, {}});
      it = rows.end() - 1;
    }
    for (const auto& m : spec.metrics)
      if (r.contains(m.key) && r[m.key].is_number()) it->stat[m.key][scene].v.push_back(r[m.key].get<double>());
    it->seeds[scene].push_back(r.value("seed", uint64_t{0}));
    if (std::find(run_scenes.begin(), run_scenes.end(), scene) == run_scenes.end()) run_scenes.push_back(scene);
  }
  // Columns: the paper's scenes, then the others run here.
  std::vector<std::string> scenes;
  if (paper.contains("scenes")) scenes = paper["scenes"].get<std::vector<std::string>>();
  for (const auto& s : run_scenes)
    if (std::find(scenes.begin(), scenes.end(), s) == scenes.end()) scenes.push_back(s);

  nlohmann::json t{{"protocol", protocol}, {"scenes", scenes}, {"run_scenes", run_scenes}, {"rows", nlohmann::json::array()}};
  t["metrics"] = nlohmann::json::array();
  for (const auto& m : spec.metrics) t["metrics"].push_back(m.key);
  for (const auto& row : rows) {
    nlohmann::json jr{{"config", row.config}, {"norm", row.norm}};
    size_t seeds = 0;
    for (const auto& [s, v] : row.seeds) seeds = std::max(seeds, v.size());
    jr["seeds"] = seeds;
    for (const auto& m : spec.metrics) {
      nlohmann::json jm = nlohmann::json::object();
      std::vector<double> means;
      if (row.stat.count(m.key))
        for (const auto& [scene, st] : row.stat.at(m.key)) {
          jm[scene] = st.to_json();
          means.push_back(st.mean());
        }
      const double avg = table::mean_finite(means);
      jm["avg_run"] = std::isnan(avg) ? nlohmann::json() : nlohmann::json(avg);
      jr[m.key] = jm;
    }
    t["rows"].push_back(jr);
  }
  // CN minus the plain config (when exactly one of each was run), per scene where both were measured.
  const nlohmann::json *plain = nullptr, *cn = nullptr;
  int n_plain = 0, n_cn = 0;
  for (const auto& jr : t["rows"]) {
    if (jr["norm"] == "none") plain = &jr, ++n_plain;
    if (jr["norm"] == "cn") cn = &jr, ++n_cn;
  }
  if (n_plain == 1 && n_cn == 1) {
    nlohmann::json d{{"plain", (*plain)["config"]}, {"cn", (*cn)["config"]}};
    for (const auto& m : spec.metrics) {
      nlohmann::json dm = nlohmann::json::object();
      std::vector<double> deltas;
      for (const auto& s : scenes) {
        const auto& a = (*plain)[m.key];
        const auto& b = (*cn)[m.key];
        if (!a.contains(s) || !b.contains(s) || a[s]["mean"].is_null() || b[s]["mean"].is_null()) continue;
        const double delta = b[s]["mean"].get<double>() - a[s]["mean"].get<double>();
        dm[s] = delta;
        deltas.push_back(delta);
      }
      const double avg = table::mean_finite(deltas);
      dm["avg_run"] = std::isnan(avg) ? nlohmann::json() : nlohmann::json(avg);
      d[m.key] = dm;
    }
    t["cn_minus_none"] = d;
  }
  if (!paper.is_null()) {
    nlohmann::json p = nlohmann::json::object();
    for (const auto& k : {"source", "note", "methods", "norm_rows"})
      if (paper.contains(k)) p[k] = paper[k];
    for (const auto& m : spec.metrics)
      if (paper.contains(m.key)) p[m.key] = paper[m.key];
    t["paper"] = p;
  }
  return t;
}

std::string scene_table_markdown(const nlohmann::json& t, const nlohmann::json& paper, const SceneTableSpec& spec) {
  const auto scenes = t["scenes"].get<std::vector<std::string>>();
  const auto run_scenes = t["run_scenes"].get<std::vector<std::string>>();
  std::ostringstream md;
  md << "# " << spec.title << "\n\nProtocol: `" << t["protocol"].get<std::string>() << "`. " << spec.intro << "\n";
  if (paper.contains("source")) md << "\nPaper: " << paper["source"].get<std::string>() << ".";
  if (paper.contains("note")) md << " " << paper["note"].get<std::string>();
  if (paper.contains("source") || paper.contains("note")) md << "\n";
  auto run_avg = [&](const std::function<double(const std::string&)>& val) {
    std::vector<double> v;
    for (const auto& s : run_scenes) v.push_back(val(s));
    return table::mean_finite(v);
  };
  for (const auto& m : spec.metrics) {
    const int prec = m.precision;
    md << "\n## " << m.heading << (m.lower_is_better ? " (lower is better)" : " (higher is better)") << "\n\n| method | seeds |";
    for (const auto& s : scenes) md << " " << s << " |";
    md << " Avg (run) | Avg (paper) |\n|---|---|";
    for (size_t i = 0; i < scenes.size() + 2; ++i) md << "---|";
    md << "\n";
    for (const auto& jr : t["rows"]) {
      const auto& jm = jr[m.key];
      md << "| ours: " << jr["config"].get<std::string>() << " | " << jr["seeds"].get<int64_t>() << " |";
      for (const auto& s : scenes) md << " " << cell(jm.contains(s) ? jm[s] : nlohmann::json(), prec) << " |";
      md << " " << table::fmt(num(jm["avg_run"]), prec) << " | – |\n";
    }
    if (t.contains("cn_minus_none")) {
      const auto& d = t["cn_minus_none"][m.key];
      md << "| ours: **CN − none** | |";
      for (const auto& s : scenes) md << " **" << table::fmt(d.contains(s) ? num(d[s]) : std::nan(""), prec, true) << "** |";
      md << " **" << table::fmt(num(d["avg_run"]), prec, true) << "** | – |\n";
    }
    if (paper.contains(m.key)) {
      std::vector<std::string> methods;
      if (paper.contains("methods")) methods = paper["methods"].get<std::vector<std::string>>();
      for (const auto& [method, vals] : paper[m.key].items())
        if (std::find(methods.begin(), methods.end(), method) == methods.end()) methods.push_back(method);
      for (const auto& method : methods) {
        if (!paper[m.key].contains(method)) continue;
        md << "| *paper: " << method << "* | |";
        for (const auto& s : scenes) md << " *" << table::fmt(paper_value(paper, m.key, method, s), prec) << "* |";
        md << " *" << table::fmt(run_avg([&](const std::string& s) { return paper_value(paper, m.key, method, s); }), prec)
           << "* | *" << table::fmt(paper_value(paper, m.key, method, "avg"), prec) << "* |\n";
      }
      const std::string p_plain = paper.contains("norm_rows") ? paper["norm_rows"].value("none", "") : "";
      const std::string p_cn = paper.contains("norm_rows") ? paper["norm_rows"].value("cn", "") : "";
      if (!p_plain.empty() && !p_cn.empty()) {
        auto delta = [&](const std::string& s) {
          return paper_value(paper, m.key, p_cn, s) - paper_value(paper, m.key, p_plain, s);
        };
        md << "| *paper: " << p_cn << " − " << p_plain << "* | |";
        for (const auto& s : scenes) md << " *" << table::fmt(delta(s), prec, true) << "* |";
        md << " *" << table::fmt(run_avg(delta), prec, true) << "* | *" << table::fmt(delta("avg"), prec, true) << "* |\n";
      }
    }
  }
  return md.str();
}

std::string write_scene_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                              const SceneTableSpec& spec, const std::string& protocol,
                              const std::filesystem::path& out_dir) {
  const auto t = scene_table(records, paper, spec, protocol);
  const auto md = scene_table_markdown(t, paper, spec);
  std::filesystem::create_directories(out_dir);
  write_file_atomic(out_dir / "table.md", md);
  write_file_atomic(out_dir / "table.json", t.dump(1) + "\n");
  // One plot per metric: x = the scenes run (1, 2, ...), one line of means per config.
  for (const auto& m : spec.metrics) {
    std::vector<LineSeries> series;
    for (const auto& jr : t["rows"]) {
      LineSeries s{jr["config"].get<std::string>(), {}, {}};
      const auto& jm = jr[m.key];
      for (size_t i = 0; i < t["run_scenes"].size(); ++i) {
        const auto sc = t["run_scenes"][i].get<std::string>();
        if (jm.contains(sc) && jm[sc]["mean"].is_number()) {
          s.x.push_back(static_cast<double>(i + 1));
          s.y.push_back(jm[sc]["mean"].get<double>());
        }
      }
      if (!s.x.empty()) series.push_back(std::move(s));
    }
    if (series.empty()) continue;
    std::string scenes_list;
    for (size_t i = 0; i < t["run_scenes"].size(); ++i)
      scenes_list += (i ? ", " : "") + std::to_string(i + 1) + "=" + t["run_scenes"][i].get<std::string>();
    plot_lines(out_dir / ("table_" + m.key + ".png"), series, {m.heading + " per scene (" + scenes_list + ")", "scene", m.key});
  }
  return md;
}

}  // namespace nf
