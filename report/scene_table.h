#pragma once
// A table in the layout of the paper's Tables 6 and 7: scenes as columns, one row per config with the
// mean ± sample standard deviation over seeds, a "CN − none" row (the CN config's mean minus the plain
// config's, per scene), and the paper's rows beside ours. Built from sweep records (tasks/sweep.h):
// {"protocol", "scene", "config", "norm", "seed", <metric>: number, ...}; a metric missing from a
// record (e.g. chamfer on a scene without ground truth) is "not measured" there.
//
// Paper JSON (assets/paper/table7.json): {"source", "note"?, "methods": [...], "scenes": [...],
// <metric>: {<method>: {<scene>: value, "avg": value}}, "norm_rows": {"none": method, "cn": method}}.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace nf {

struct SceneTableMetric {
  std::string key;      // record field, e.g. "chamfer"
  std::string heading;  // e.g. "Chamfer distance (world units; DTU: mm)"
  int precision = 2;
  bool lower_is_better = false;
};

struct SceneTableSpec {
  std::string title;  // Markdown heading
  std::string intro;  // paragraph under it
  std::vector<SceneTableMetric> metrics;
  // Record scene (folder name) -> the paper's column name; identity when empty.
  std::function<std::string(const std::string&)> scene_name;
};

// The table as JSON: {"protocol", "scenes": [...], "metrics": [...], "rows": [{"config", "norm",
// "seeds", <metric>: {<scene>: {"mean", "std", "n"}, "avg_run": x}}], "cn_minus_none": {<metric>:
// {<scene>: x, "avg_run": x}} (only when exactly one CN and one plain row exist), "paper": {...}}.
// "avg_run" averages the scenes this row was measured on.
nlohmann::json scene_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                           const SceneTableSpec& spec, const std::string& protocol);

// Markdown of scene_table's JSON.
std::string scene_table_markdown(const nlohmann::json& table, const nlohmann::json& paper, const SceneTableSpec& spec);

// Writes out_dir/table.md and table.json (atomically) and, when a metric has values, one bar chart
// per metric (table_<metric>.png: per scene, one bar group of the configs' means); returns the Markdown.
std::string write_scene_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                              const SceneTableSpec& spec, const std::string& protocol,
                              const std::filesystem::path& out_dir);

// DTU scene names: "scan<digits>" when the folder name holds one ("dtu_scan65_400x300" -> "scan65"),
// else the folder name.
std::string dtu_scene_name(const std::string& folder);

}  // namespace nf
