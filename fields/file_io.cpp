#include "fields/file_io.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace nf {
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& path, int err) {
  if (err == ENOSPC || err == EDQUOT) throw std::runtime_error("disk full writing " + path.string());
  throw std::runtime_error(path.string() + ": cannot write (" + std::strerror(err) + ")");
}

void fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort for folders (some file systems refuse)
  ::close(fd);
}

// rename tmp -> path, then make the rename durable.
void commit(const fs::path& tmp, const fs::path& path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail(path, err);
  }
  fsync_path(path.has_parent_path() ? path.parent_path() : fs::path("."), O_RDONLY | O_DIRECTORY);
}

void make_parent(const fs::path& path) {
  if (!path.has_parent_path()) return;
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) throw std::runtime_error(path.string() + ": cannot create folder " + path.parent_path().string() + " (" +
                                   ec.message() + ")");
}

}  // namespace

void write_file_atomic(const fs::path& path, const std::string& bytes) {
  make_parent(path);
  const fs::path tmp = temp_path_for(path);
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail(path, errno);
  int err = write_all_and_sync(fd, bytes);
  if (::close(fd) != 0 && !err) err = errno;
  if (err) {
    ::unlink(tmp.c_str());
    fail(path, err);
  }
  commit(tmp, path);
}

int write_all_and_sync(int fd, const std::string& bytes, size_t* written) {
  size_t done = 0;
  int err = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      err = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (!err && ::fsync(fd) != 0 && errno != EINVAL) err = errno;  // EINVAL: /dev/null-like targets
  if (written) *written = done;
  return err;
}

fs::path temp_path_for(const fs::path& path) { return fs::path(path.string() + ".tmp"); }

void commit_temp_file(const fs::path& tmp, const fs::path& path) { commit(tmp, path); }

std::string read_file_bytes(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw std::runtime_error(path.string() + ": cannot open file (no such file)");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path.string() + ": cannot open file (" + std::strerror(errno) + ")");
  std::string buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error(path.string() + ": cannot read");
  return buf;
}

}  // namespace nf
