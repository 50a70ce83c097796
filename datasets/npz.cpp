// NumPy .npz reading and writing through libzip (see npz.h).
#include "datasets/npz.h"

#ifdef NORMFIELD_WITH_LIBZIP
#include <zip.h>
#endif

#include <algorithm>
#include <memory>
#include <stdexcept>
#include <vector>

#include "fields/file_io.h"
#include "fields/memory_check.h"
#include "datasets/npy.h"
#include "datasets/printable.h"

namespace nf {

namespace fs = std::filesystem;

#ifdef NORMFIELD_WITH_LIBZIP
namespace {

std::string zip_message(int code) {
  zip_error_t ze;
  zip_error_init_with_code(&ze, code);
  std::string msg = zip_error_strerror(&ze);
  zip_error_fini(&ze);
  return msg;
}

struct ZipCloser {
  void operator()(zip_t* z) const {
    if (z) zip_discard(z);
  }
};

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool npz_uses_libzip() { return true; }

std::map<std::string, at::Tensor> load_npz(const fs::path& path) {
  const std::string ps = path.string();
  auto fail = [&](const std::string& what) { throw std::runtime_error(ps + ": " + what); };
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("no such file");
  int err = 0;
  std::unique_ptr<zip_t, ZipCloser> z(zip_open(ps.c_str(), ZIP_RDONLY | ZIP_CHECKCONS, &err));
  if (!z) fail("not a readable .npz (zip) archive, or truncated: " + zip_message(err));
  const zip_int64_t n = zip_get_num_entries(z.get(), 0);
  if (n < 0) fail("cannot list the archive");
  std::map<std::string, at::Tensor> out;
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(z.get(), zip_uint64_t(i), 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE))
      fail("cannot read entry " + std::to_string(i) + ": " + printable(zip_strerror(z.get()), 200));
    std::string name = st.name;
    if (!name.empty() && name.back() == '/') continue;  // a folder entry
    std::string key = ends_with(name, ".npy") ? name.substr(0, name.size() - 4) : name;
    const std::string where = ps + ": member '" + printable(key) + "'";
    if (out.count(key)) throw std::runtime_error(where + ": duplicate member");
    // The sizes come from the file: refuse what cannot fit before reading, and read in chunks so
    // a member claiming more than it holds allocates only what it holds.
    require_memory(double(st.size), where);
    zip_file_t* f = zip_fopen_index(z.get(), zip_uint64_t(i), 0);
    if (!f) throw std::runtime_error(where + ": cannot open: " + printable(zip_strerror(z.get()), 200));
    std::string buf;
    zip_int64_t got = 0;
    char chunk[1 << 16];
    while (zip_uint64_t(buf.size()) < st.size) {
      const zip_uint64_t want = std::min<zip_uint64_t>(sizeof chunk, st.size - buf.size());
      got = zip_fread(f, chunk, want);
      if (got <= 0) break;
      buf.append(chunk, size_t(got));
    }
    std::string ferr = got < 0 ? zip_file_strerror(f) : "";
    zip_fclose(f);
    if (got < 0) throw std::runtime_error(where + ": cannot read: " + printable(ferr, 200));
    if (zip_uint64_t(buf.size()) != st.size)
      throw std::runtime_error(where + ": truncated (" + std::to_string(buf.size()) + " of " +
                               std::to_string(st.size) + " bytes)");
    out[key] = parse_npy(buf, where);
  }
  return out;
}

void save_npz(const fs::path& path, const std::map<std::string, at::Tensor>& arrays) {
  const std::string ps = path.string();
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  if (arrays.empty()) {  // libzip writes no file for an empty archive: an empty zip by hand
    write_file_atomic(path, std::string("PK\x05\x06", 4) + std::string(18, '\0'));
    return;
  }
  // Encode first: the buffers must live until zip_close.
  std::vector<std::string> bufs;
  bufs.reserve(arrays.size());
  for (const auto& [key, t] : arrays) {
    if (key.empty()) throw std::runtime_error(ps + ": empty member name");
    bufs.push_back(encode_npy(t, ps + ": member '" + key + "'"));
  }
  const fs::path tmp = temp_path_for(path);
  const std::string ts = tmp.string();
  int err = 0;
  std::unique_ptr<zip_t, ZipCloser> z(zip_open(ts.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &err));
  if (!z) throw std::runtime_error(ps + ": cannot write: " + zip_message(err));
  size_t k = 0;
  for (const auto& kv : arrays) {
    const std::string& b = bufs[k++];
    const std::string where = ps + ": member '" + kv.first + "'";
    zip_source_t* src = zip_source_buffer(z.get(), b.data(), b.size(), 0);
    if (!src) throw std::runtime_error(where + ": " + zip_strerror(z.get()));
    const zip_int64_t idx = zip_file_add(z.get(), (kv.first + ".npy").c_str(), src, ZIP_FL_ENC_UTF_8);
    if (idx < 0) {
      zip_source_free(src);
      throw std::runtime_error(where + ": " + zip_strerror(z.get()));
    }
    if (zip_set_file_compression(z.get(), zip_uint64_t(idx), ZIP_CM_STORE, 0) != 0)
      throw std::runtime_error(where + ": " + zip_strerror(z.get()));
  }
  zip_t* raw = z.release();
  if (zip_close(raw) != 0) {
    const std::string msg = zip_strerror(raw);
    zip_discard(raw);
    fs::remove(tmp, ec);
    throw std::runtime_error(ps + ": cannot write: " + msg);
  }
  commit_temp_file(tmp, path);
}

#else  // built without libzip

bool npz_uses_libzip() { return false; }
std::map<std::string, at::Tensor> load_npz(const fs::path& path) { return load_npz_builtin(path); }
void save_npz(const fs::path& path, const std::map<std::string, at::Tensor>& arrays) {
  save_npz_builtin(path, arrays);
}

#endif

const at::Tensor& npz_member(const std::map<std::string, at::Tensor>& npz, const std::string& key,
                             const fs::path& path) {
  auto it = npz.find(key);
  if (it == npz.end()) throw std::runtime_error(path.string() + ": missing key '" + key + "'");
  return it->second;
}

}  // namespace nf
