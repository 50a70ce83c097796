#pragma once
// Rows x methods tables for the sweeps of `normfield batch-eval` (fit-shape, fit-ct, fit-mri), the
// paper's numbers beside ours ("ours / paper" per cell), in the layout of its Tables 3-5.
//
// A record is one finished run: {"protocol", "input" (file stem), "arch", "method", "seed",
// <metrics>..., "ms_per_iter"}. Rows are architectures (records averaged over inputs and seeds;
// Tables 2, 4, 5) or inputs (averaged over seeds, with an average row; Table 3), as the paper's JSON
// says ("rows_by"). Paper JSON: {"rows_by", "metrics", <metric>: {<row key>: {<method>: value}},
// "inputs": {<key>: display name}} where an input's key is the longest paper key that prefixes its
// lower-cased file stem ("happy_buddha_10k" -> "happy_buddha").
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace nf {

// The paper's key for an input file stem ("" when none matches).
std::string paper_input_key(const nlohmann::json& paper, const std::string& stem);

// Writes out_dir/table.md and table.csv from the records of `protocol`; returns the Markdown.
// methods: the column order; metrics: the tables to write (e.g. {"psnr", "ssim"} or {"iou"}).
std::string write_sweep_table(const std::vector<nlohmann::json>& records, const nlohmann::json& paper,
                              const std::vector<std::string>& methods, const std::vector<std::string>& metrics,
                              const std::string& title, const std::string& protocol,
                              const std::filesystem::path& out_dir);

}  // namespace nf
