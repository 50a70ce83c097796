#include "report/sweep_table.h"

#include "report/table_format.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

namespace nf {
namespace {

int precision(const std::string& metric) { return metric == "psnr" ? 2 : 3; }

}  // namespace

std::string paper_input_key(const nlohmann::json& paper, const std::string& stem) {
  std::string s = stem;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  std::string best;
  if (paper.contains("inputs"))
    for (const auto& [key, name] : paper["inputs"].items())
      if (s.rfind(key, 0) == 0 && key.size() > best.size()) best = key;
  return best;
}

std::string write_sweep_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                              const std::vector<std::string>& methods, const std::vector<std::string>& metrics,
                              const std::string& title, const std::string& protocol,
                              const std::filesystem::path& out_dir) {
  const bool by_input = paper.value("rows_by", "arch") == "input";
  std::vector<std::string> archs, inputs;
  for (const auto& r : records) {
    if (r.value("protocol", "") != protocol) continue;
    const auto a = r.at("arch").get<std::string>(), in = r.at("input").get<std::string>();
    if (std::find(archs.begin(), archs.end(), a) == archs.end()) archs.push_back(a);
    if (std::find(inputs.begin(), inputs.end(), in) == inputs.end()) inputs.push_back(in);
  }
  struct RowKey {
    std::string label, arch, input, paper_key;  // input "" = all inputs
  };
  std::vector<RowKey> rows;
  if (by_input) {
    for (const auto& in : inputs)
      for (const auto& a : archs) {
        const auto key = paper_input_key(paper, in);
        std::string label = key.empty() ? in : paper["inputs"][key].get<std::string>() + " (" + in + ")";
        if (archs.size() > 1) label += ", " + a;
        rows.push_back({label, a, in, key});
      }
  } else {
    for (const auto& a : archs) rows.push_back({a, a, "", a});
  }
  // values[metric][row][method] over the matching records (seeds, and inputs for arch rows).
  auto values = [&](const std::string& metric, const RowKey& row, const std::string& method) {
    std::vector<double> v;
    for (const auto& r : records) {
      if (r.value("protocol", "") != protocol || r.at("method") != method || r.at("arch") != row.arch) continue;
      if (!row.input.empty() && r.at("input") != row.input) continue;
      if (r.contains(metric) && r[metric].is_number()) v.push_back(r[metric].get<double>());
    }
    return v;
  };
  auto paper_val = [&](const std::string& metric, const std::string& key, const std::string& method) {
    if (!key.empty() && paper.contains(metric) && paper[metric].contains(key) && paper[metric][key].contains(method))
      return paper[metric][key][method].get<double>();
    return std::nan("");
  };

  std::ostringstream md, csv;
  md << "# " << title << "\n\nProtocol: `" << protocol << "`. Cell: ours / paper"
     << (paper.contains("source") ? " (" + paper["source"].get<std::string>() + ")" : std::string())
     << "; ours is the mean over " << (by_input ? "seeds" : "inputs and seeds") << ", n = runs averaged.\n";
  csv << "row,arch,input,method,metric,n,ours,paper\n";
  for (const auto& metric : metrics) {
    const int prec = precision(metric);
    const std::string heading = metric == "psnr" ? "PSNR (dB)" : metric == "ssim" ? "SSIM" : metric == "iou" ? "IoU" : metric;
    md << "\n## " << heading << "\n\n| " << (by_input ? "input" : "arch") << " | n |";
    for (const auto& m : methods) md << " " << m << " |";
    md << "\n|---|---|";
    for (size_t i = 0; i < methods.size(); ++i) md << "---|";
    md << "\n";
    std::map<std::string, std::vector<double>> col_ours, col_paper;  // for the average row
    for (const auto& row : rows) {
      size_t n = 0;
      std::ostringstream cells;
      for (const auto& m : methods) {
        const auto v = values(metric, row, m);
        n = std::max(n, v.size());
        const double ours = table::mean_finite(v), p = paper_val(metric, row.paper_key, m);
        col_ours[m].push_back(ours);
        col_paper[m].push_back(p);
        cells << " " << table::fmt(ours, prec) << " / " << table::fmt(p, prec) << " |";
        if (!v.empty())
          csv << '"' << row.label << "\"," << row.arch << "," << row.input << "," << m << "," << metric << ","
              << v.size() << "," << ours << "," << p << "\n";
      }
      md << "| " << row.label << " | " << n << " |" << cells.str() << "\n";
    }
    if (by_input && rows.size() > 1) {  // the paper's "Average" row, over the inputs run here
      md << "| **average (" << rows.size() << " run)** | |";
      for (const auto& m : methods) {
        const bool paper_complete =
            std::none_of(col_paper[m].begin(), col_paper[m].end(), [](double x) { return std::isnan(x); });
        md << " **" << table::fmt(table::mean_finite(col_ours[m]), prec) << "** / " << (paper_complete ? table::fmt(table::mean_finite(col_paper[m]), prec) : "–")
           << " |";
      }
      md << "\n";
    }
  }
  std::filesystem::create_directories(out_dir);
  std::ofstream(out_dir / "table.md") << md.str();
  std::ofstream(out_dir / "table.csv") << csv.str();
  return md.str();
}

}  // namespace nf
