#pragma once
// A results store for long sweeps: one JSON object per line (results.jsonl), appended and flushed
// after every finished run, so an interrupted sweep resumes by skipping the keys already present.
// Stores from several machines (e.g. `--shard k/n` jobs of a Slurm array) merge by concatenation.
#include <nlohmann/json.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace nf {

class ResultsStore {
 public:
  explicit ResultsStore(std::filesystem::path path);
  bool has(const std::string& key) const { return keys_.count(key) > 0; }
  // Appends one record (must hold a string "key") and flushes it to disk.
  void append(const nlohmann::json& record);
  const std::vector<nlohmann::json>& records() const { return records_; }
  const std::filesystem::path& path() const { return path_; }
  // Reads more stores into this one's in-memory view (not written back).
  void merge_from(const std::filesystem::path& other);

 private:
  void read(const std::filesystem::path& p);
  std::filesystem::path path_;
  std::vector<nlohmann::json> records_;
  std::set<std::string> keys_;
};

// "k/n" -> {k, n} with 1 <= k <= n; a clear error otherwise.
std::pair<int, int> parse_shard(const std::string& s);

}  // namespace nf
