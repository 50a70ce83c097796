#pragma once
// The NeRF comparison table in the layout of the paper's Table 6 (scenes as columns, methods as rows,
// PSNR and SSIM), built from the records of `normfield nerf batch-eval` with the paper's numbers
// (assets/paper/table6.json) beside them.
//
// A record is one finished run: {"protocol", "scene", "config", "norm", "resolution", "seed", "psnr",
// "ssim", "ms_per_iter", "curve": [[step, train PSNR], ...]}. Runs of one (config, resolution) over
// several seeds become one row: mean ± sample standard deviation.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace nf {

// The paper's scene name of a scene folder: its last path component, lower-cased, with a trailing
// resolution suffix "_<digits>" removed ("/data/lego_100" -> "lego").
std::string canonical_scene(const std::string& folder);

// Writes out_dir/table.md and table.csv (and curves_<scene>_<resolution>.png, training PSNR per
// config averaged over seeds) from the records whose "protocol" equals `protocol`; returns the
// Markdown. `paper` may be empty (no paper rows).
std::string write_nerf_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                             const std::string& protocol, const std::filesystem::path& out_dir);

}  // namespace nf
