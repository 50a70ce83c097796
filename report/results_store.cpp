#include "report/results_store.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>

#include "fields/file_io.h"

namespace nf {

namespace {

// An exclusive flock on "<store>.lock" for the life of the object.
class StoreLock {
 public:
  explicit StoreLock(const std::filesystem::path& store) {
    if (store.has_parent_path()) std::filesystem::create_directories(store.parent_path());
    const auto p = store.string() + ".lock";
    fd_ = ::open(p.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) throw std::runtime_error(p + ": cannot open lock file (" + std::strerror(errno) + ")");
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~StoreLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  StoreLock(const StoreLock&) = delete;
  StoreLock& operator=(const StoreLock&) = delete;

 private:
  int fd_ = -1;
};

std::string host_name() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
  return buf;
}

}  // namespace

ResultsStore::ResultsStore(std::filesystem::path path) : path_(std::move(path)) {
  if (std::filesystem::exists(path_)) {
    StoreLock lock(path_);
    read(path_, /*repair=*/true);
  }
}

void ResultsStore::refresh() {
  if (!std::filesystem::exists(path_)) return;
  StoreLock lock(path_);
  read(path_, /*repair=*/true);
}

void ResultsStore::read(const std::filesystem::path& p, bool repair) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error(p.string() + ": cannot read results store");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  in.close();
  size_t pos = 0, good_end = 0;
  int64_t n = 0;
  bool torn_tail = false;
  while (pos < text.size()) {
    const size_t eol = text.find('\n', pos);
    const bool complete = eol != std::string::npos;
    const std::string line = text.substr(pos, complete ? eol - pos : std::string::npos);
    const size_t next = complete ? eol + 1 : text.size();
    ++n;
    bool ok = false;
    if (!line.empty()) {
      try {
        auto j = nlohmann::json::parse(line);
        if (!j.contains("key") || !j["key"].is_string()) throw std::runtime_error("no key");
        ok = complete;  // a record without its newline was cut while being written
        if (ok && keys_.insert(j["key"].get<std::string>()).second) records_.push_back(std::move(j));
      } catch (const std::exception&) {
      }
    } else {
      ok = complete;
    }
    if (ok) {
      good_end = next;
    } else if (next == text.size()) {
      torn_tail = true;  // the last line: a run killed while appending
    } else {
      std::cerr << "note: " << p.string() << ": line " << n << " is not a complete record, ignored\n";
      good_end = next;
    }
    pos = next;
  }
  if (torn_tail) {
    if (repair) {
      std::filesystem::resize_file(p, good_end);
      std::cerr << "note: " << p.string() << ": removed a torn last line (line " << n
                << ", a run interrupted while its record was written; it is run again)\n";
    } else {
      std::cerr << "note: " << p.string() << ": line " << n << " is not a complete record, ignored\n";
    }
  }
}

void ResultsStore::merge_from(const std::filesystem::path& other) {
  if (!std::filesystem::exists(other)) throw std::runtime_error(other.string() + ": no such results store");
  read(other, /*repair=*/false);
}

std::filesystem::path ResultsStore::claim_path(const std::string& key) const {
  const auto h = std::hash<std::string>{}(key);
  char name[32];
  std::snprintf(name, sizeof name, "%016llx", static_cast<unsigned long long>(h));
  return std::filesystem::path(path_.string() + ".claims") / name;
}

bool ResultsStore::claim(const std::string& key) {
  StoreLock lock(path_);
  if (std::filesystem::exists(path_)) read(path_, /*repair=*/true);
  if (has(key)) return false;
  const auto cp = claim_path(key);
  const std::string me = host_name() + " " + std::to_string(::getpid());
  if (std::filesystem::exists(cp)) {
    std::ifstream in(cp);
    std::string host;
    long long pid = 0;
    in >> host >> pid;
    const bool mine = host + " " + std::to_string(pid) == me;
    const bool alive = host != host_name() || (pid > 0 && (::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM));
    if (!mine && alive) return false;  // another sweep is running it now
  }
  std::filesystem::create_directories(cp.parent_path());
  write_file_atomic(cp, me + "\n" + key + "\n");
  return true;
}

void ResultsStore::append(const nlohmann::json& record) {
  const auto key = record.at("key").get<std::string>();
  StoreLock lock(path_);
  const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::runtime_error(path_.string() + ": cannot append to results store (" + std::strerror(errno) + ")");
  const std::string line = record.dump() + "\n";
  size_t done = 0;
  const int err = write_all_and_sync(fd, line, &done);
  ::close(fd);
  if (err) {
    if (done > 0) {  // do not leave half a line behind for the next append to glue onto
      std::error_code ec;
      const auto size = std::filesystem::file_size(path_, ec);
      if (!ec && size >= done) std::filesystem::resize_file(path_, size - done, ec);
    }
    if (err == ENOSPC || err == EDQUOT) throw std::runtime_error("disk full writing " + path_.string());
    throw std::runtime_error(path_.string() + ": cannot append to results store (" + std::strerror(err) + ")");
  }
  std::error_code ec;
  std::filesystem::remove(claim_path(key), ec);
  if (keys_.insert(key).second) records_.push_back(record);
}

std::pair<int, int> parse_shard(const std::string& s) {
  auto slash = s.find('/');
  try {
    if (slash == std::string::npos) throw std::invalid_argument("");
    const std::string ks = s.substr(0, slash), ns = s.substr(slash + 1);
    size_t a = 0, b = 0;
    int k = std::stoi(ks, &a), n = std::stoi(ns, &b);
    // The whole text must be "k/n": "1/2/3", "1.5/2" and "1/2x" are refused, not truncated.
    if (a != ks.size() || b != ns.size() || ks.find_first_not_of("0123456789") != std::string::npos ||
        ns.find_first_not_of("0123456789") != std::string::npos)
      throw std::invalid_argument("");
    if (n < 1 || k < 1 || k > n) throw std::invalid_argument("");
    return {k, n};
  } catch (const std::exception&) {
    throw std::runtime_error("--shard: '" + s + "' is not k/n with 1 <= k <= n (e.g. 3/8)");
  }
}

}  // namespace nf
