#pragma once
// A results store for long sweeps: one JSON object per line (results.jsonl), appended and flushed
// after every finished run, so an interrupted sweep resumes by skipping the keys already present.
// Stores from several machines (e.g. `--shard k/n` jobs of a Slurm array) merge by concatenation.
//
// Safety: opening repairs a torn last line (a run killed while appending) by truncating it, so the
// next record is not glued to it; appends hold an exclusive flock on "<store>.lock"; and claim()
// lets concurrent sweeps on the same --out share the work: a run is claimed (a file under
// "<store>.claims/" holding host and pid) before it starts, and other processes skip keys that
// are stored or claimed by a live process (a claim of a dead process on this host is taken over).
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
  // Appends one record (must hold a string "key") and flushes it to disk; drops this process's
  // claim of the key.
  void append(const nlohmann::json& record);
  // True when this process should run `key` now: re-reads the store (records other processes
  // appended), and claims the key unless it is stored or claimed by another live process.
  bool claim(const std::string& key);
  // Re-reads the store file for records appended by other processes.
  void refresh();
  const std::vector<nlohmann::json>& records() const { return records_; }
  const std::filesystem::path& path() const { return path_; }
  // Reads more stores into this one's in-memory view (not written back).
  void merge_from(const std::filesystem::path& other);

 private:
  void read(const std::filesystem::path& p, bool repair);
  std::filesystem::path claim_path(const std::string& key) const;
  std::filesystem::path path_;
  std::vector<nlohmann::json> records_;
  std::set<std::string> keys_;
};

// "k/n" -> {k, n} with 1 <= k <= n; a clear error otherwise.
std::pair<int, int> parse_shard(const std::string& s);

}  // namespace nf
