#include "tasks/sweep.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <stdexcept>

namespace nf {

Sweep::Sweep(SweepOptions options)
    : options_(std::move(options)), store_(std::filesystem::path(options_.out) / "results.jsonl") {
  const auto [k, n] = parse_shard(options_.shard);
  k_ = k;
  n_ = n;
  for (const auto& other : options_.merge) store_.merge_from(other);
}

std::vector<const SweepJob*> Sweep::shard_jobs(const std::vector<SweepJob>& all) const {
  std::vector<const SweepJob*> mine;
  for (size_t i = 0; i < all.size(); ++i)
    if (static_cast<int>(i % static_cast<size_t>(n_)) == k_ - 1) mine.push_back(&all[i]);
  return mine;
}

SweepCounts Sweep::run(const std::vector<SweepJob>& all, const std::function<std::string(const nlohmann::json&)>& describe,
                       const std::string& header) {
  SweepCounts c;
  if (options_.table_only) return c;
  const auto mine = shard_jobs(all);
  c.in_shard = static_cast<int64_t>(mine.size());
  for (const auto* j : mine) c.stored += store_.has(j->key);
  const int64_t todo = c.in_shard - c.stored;
  if (!options_.quiet) {
    std::printf("%s: %lld runs in shard %d/%d (%zu in all), %lld already in %s\n", options_.name.c_str(),
                static_cast<long long>(c.in_shard), k_, n_, all.size(), static_cast<long long>(c.stored),
                store_.path().c_str());
    if (!header.empty()) std::printf("%s\n", header.c_str());
    std::fflush(stdout);
  }
  const auto t0 = std::chrono::steady_clock::now();
  for (const auto* j : mine) {
    if (!store_.claim(j->key)) continue;  // stored, or another sweep on this --out runs it
    nlohmann::json rec = j->run();
    rec["key"] = j->key;
    store_.append(rec);
    ++c.ran;
    if (options_.quiet) continue;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double eta = el / static_cast<double>(c.ran) * static_cast<double>(std::max<int64_t>(0, todo - c.ran));
    std::printf("[%lld/%lld] %s  (eta %.1f min)\n", static_cast<long long>(c.ran), static_cast<long long>(todo),
                describe ? describe(rec).c_str() : j->key.c_str(), eta / 60.0);
    std::fflush(stdout);
  }
  return c;
}

std::vector<nlohmann::json> Sweep::records(const std::string& protocol) const {
  std::vector<nlohmann::json> out;
  for (const auto& r : store_.records())
    if (r.value("protocol", "") == protocol) out.push_back(r);
  return out;
}

std::string protocol_folder(const std::string& tag) {
  std::string out;
  size_t pos = 0;
  while (pos <= tag.size()) {
    size_t end = tag.find(',', pos);
    if (end == std::string::npos) end = tag.size();
    std::string kv = tag.substr(pos, end - pos);
    pos = end + 1;
    if (kv.empty() || kv == "iters=config") continue;
    const auto eq = kv.find('=');
    std::string k = kv.substr(0, eq), v = eq == std::string::npos ? "" : kv.substr(eq + 1);
    if (v == "-1") v = "all";
    std::string part = v.empty() ? k : k + "-" + v;
    for (auto& c : part)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '_';
    out += (out.empty() ? "" : ".") + part;
  }
  return out.empty() ? "config" : out;
}

std::vector<std::filesystem::path> list_scene_folders(const std::vector<std::string>& sources,
                                                      const std::function<bool(const std::filesystem::path&)>& is_scene,
                                                      const std::string& what) {
  namespace fs = std::filesystem;
  std::vector<fs::path> out;
  for (const auto& s : sources) {
    if (!fs::is_directory(s)) throw std::runtime_error("--scenes " + s + ": no such folder");
    if (is_scene(s)) {
      out.push_back(s);
      continue;
    }
    std::vector<fs::path> sub;
    for (const auto& e : fs::directory_iterator(s))
      if (e.is_directory() && is_scene(e.path())) sub.push_back(e.path());
    if (sub.empty()) throw std::runtime_error("--scenes " + s + ": no " + what + " in it or its subfolders");
    std::sort(sub.begin(), sub.end());
    out.insert(out.end(), sub.begin(), sub.end());
  }
  return out;
}

}  // namespace nf
