#include "tasks/results_store.h"

#include <fstream>
#include <iostream>
#include <stdexcept>

namespace nf {

ResultsStore::ResultsStore(std::filesystem::path path) : path_(std::move(path)) {
  if (std::filesystem::exists(path_)) read(path_);
}

void ResultsStore::read(const std::filesystem::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error(p.string() + ": cannot read results store");
  std::string line;
  int64_t n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty()) continue;
    try {
      auto j = nlohmann::json::parse(line);
      if (!j.contains("key") || !j["key"].is_string()) throw std::runtime_error("no key");
      if (keys_.insert(j["key"].get<std::string>()).second) records_.push_back(std::move(j));
    } catch (const std::exception&) {
      // A run killed while writing leaves a partial last line: skip it (the run is redone).
      std::cerr << "note: " << p.string() << ": line " << n << " is not a complete record, ignored\n";
    }
  }
}

void ResultsStore::merge_from(const std::filesystem::path& other) {
  if (!std::filesystem::exists(other)) throw std::runtime_error(other.string() + ": no such results store");
  read(other);
}

void ResultsStore::append(const nlohmann::json& record) {
  const auto key = record.at("key").get<std::string>();
  if (path_.has_parent_path()) std::filesystem::create_directories(path_.parent_path());
  std::ofstream out(path_, std::ios::app);
  if (!out) throw std::runtime_error(path_.string() + ": cannot append to results store");
  out << record.dump() << "\n";
  out.flush();
  if (keys_.insert(key).second) records_.push_back(record);
}

std::pair<int, int> parse_shard(const std::string& s) {
  auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    int k = std::stoi(s.substr(0, slash)), n = std::stoi(s.substr(slash + 1));
    if (n < 1 || k < 1 || k > n) throw std::invalid_argument("");
    return {k, n};
  } catch (const std::exception&) {
    throw std::runtime_error("--shard: '" + s + "' is not k/n with 1 <= k <= n (e.g. 3/8)");
  }
}

}  // namespace nf
