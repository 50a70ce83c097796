// Built-in .npz (zip, stored members) reader and writer, for builds without libzip (see npz.h).
#include <cstdint>
#include <cstring>
#include <stdexcept>

#include "fields/file_io.h"
#include "datasets/npy.h"
#include "datasets/npz.h"
#include "datasets/printable.h"

namespace nf {

namespace fs = std::filesystem;

namespace {

uint32_t crc32(const std::string& s) {
  static uint32_t table[256];
  static const bool init = [] {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
      table[i] = c;
    }
    return true;
  }();
  (void)init;
  uint32_t c = 0xffffffffu;
  for (unsigned char ch : s) c = table[(c ^ ch) & 0xff] ^ (c >> 8);
  return ~c;
}

uint64_t rd(const std::string& b, size_t pos, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[pos + size_t(i)]);
  return v;
}

void wr(std::string& b, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

std::map<std::string, at::Tensor> load_npz_builtin(const fs::path& path) {
  const std::string ps = path.string();
  auto fail = [&](const std::string& what) { throw std::runtime_error(ps + ": " + what); };
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) fail("no such file");
  const std::string b = read_file_bytes(path);
  // End of central directory: the last "PK\5\6" within the final 64 KiB + 22 bytes.
  size_t eocd = std::string::npos;
  if (b.size() >= 22) {
    const size_t lo = b.size() > 65557 ? b.size() - 65557 : 0;
    for (size_t p = b.size() - 22 + 1; p-- > lo;)
      if (b.compare(p, 4, "PK\x05\x06", 4) == 0) {
        eocd = p;
        break;
      }
  }
  if (eocd == std::string::npos) fail("not a readable .npz (zip) archive, or truncated: no end of central directory");
  uint64_t n = rd(b, eocd + 10, 2), cd_size = rd(b, eocd + 12, 4), cd_off = rd(b, eocd + 16, 4);
  if (n == 0xffff || cd_off == 0xffffffffu || cd_size == 0xffffffffu) {  // zip64 end of central directory
    if (eocd < 20 || b.compare(eocd - 20, 4, "PK\x06\x07", 4) != 0) fail("zip64 archive without a locator");
    const uint64_t z64 = rd(b, eocd - 20 + 8, 8);
    if (z64 > b.size() || b.size() - z64 < 56 || b.compare(size_t(z64), 4, "PK\x06\x06", 4) != 0)
      fail("bad zip64 end of central directory");
    n = rd(b, size_t(z64) + 32, 8);
    cd_size = rd(b, size_t(z64) + 40, 8);
    cd_off = rd(b, size_t(z64) + 48, 8);
  }
  if (cd_off > b.size() || cd_size > b.size() - cd_off) fail("truncated (central directory past the end of the file)");
  std::map<std::string, at::Tensor> out;
  size_t p = size_t(cd_off);
  for (uint64_t i = 0; i < n; ++i) {
    if (p + 46 > b.size() || b.compare(p, 4, "PK\x01\x02", 4) != 0) fail("bad central directory entry " + std::to_string(i));
    const uint64_t method = rd(b, p + 10, 2), crc = rd(b, p + 16, 4);
    uint64_t csize = rd(b, p + 20, 4), usize = rd(b, p + 24, 4), loff = rd(b, p + 42, 4);
    const size_t nlen = size_t(rd(b, p + 28, 2)), xlen = size_t(rd(b, p + 30, 2)), clen = size_t(rd(b, p + 32, 2));
    if (p + 46 + nlen + xlen + clen > b.size()) fail("bad central directory entry " + std::to_string(i));
    const std::string name = b.substr(p + 46, nlen);
    // zip64 extra field: the 0xffffffff fields, in the order usize, csize, offset (each present
    // only where its 32-bit field is 0xffffffff; all within the field's len bytes).
    const size_t xend = p + 46 + nlen + xlen;
    for (size_t x = p + 46 + nlen; x + 4 <= xend;) {
      const uint64_t id = rd(b, x, 2), len = rd(b, x + 2, 2);
      if (x + 4 + len > xend) fail("bad central directory entry " + std::to_string(i) + " (extra field)");
      if (id == 1) {
        size_t q = x + 4;
        const size_t qend = q + size_t(len);
        auto next = [&](uint64_t& v) {
          if (v != 0xffffffffu) return;
          if (q + 8 > qend) fail("bad central directory entry " + std::to_string(i) + " (zip64 field)");
          v = rd(b, q, 8);
          q += 8;
        };
        next(usize), next(csize), next(loff);
      }
      x += 4 + size_t(len);
    }
    p += 46 + nlen + xlen + clen;
    if (!name.empty() && name.back() == '/') continue;
    const std::string key = ends_with(name, ".npy") ? name.substr(0, name.size() - 4) : name;
    const std::string where = ps + ": member '" + printable(key) + "'";
    if (out.count(key)) throw std::runtime_error(where + ": duplicate member");
    if (method != 0) throw std::runtime_error(where + ": compressed members need libzip (normfield built without it)");
    if (loff > b.size() || b.size() - loff < 30 || b.compare(size_t(loff), 4, "PK\x03\x04", 4) != 0)
      throw std::runtime_error(where + ": bad local header");
    const size_t data = size_t(loff) + 30 + size_t(rd(b, size_t(loff) + 26, 2)) + size_t(rd(b, size_t(loff) + 28, 2));
    if (data > b.size() || csize > b.size() - data) throw std::runtime_error(where + ": truncated");
    if (usize != csize)
      throw std::runtime_error(where + ": stored member with sizes " + std::to_string(csize) + " != " +
                               std::to_string(usize) + " (corrupt)");
    const std::string bytes = b.substr(data, size_t(usize));
    if (crc32(bytes) != crc) throw std::runtime_error(where + ": CRC error (corrupt member)");
    out[key] = parse_npy(bytes, where);
  }
  return out;
}

void save_npz_builtin(const fs::path& path, const std::map<std::string, at::Tensor>& arrays) {
  const std::string ps = path.string();
  std::string zip, cd;
  uint64_t count = 0;
  for (const auto& [key, t] : arrays) {
    if (key.empty()) throw std::runtime_error(ps + ": empty member name");
    const std::string name = key + ".npy";
    const std::string data = encode_npy(t, ps + ": member '" + key + "'");
    if (data.size() >= 0xffffffffu || zip.size() >= 0xffffffffu)
      throw std::runtime_error(ps + ": member '" + key + "': over 4 GiB needs libzip");
    const uint32_t crc = crc32(data);
    const uint64_t off = zip.size();
    wr(zip, 0x04034b50, 4), wr(zip, 20, 2), wr(zip, 0x0800, 2), wr(zip, 0, 2), wr(zip, 0, 2), wr(zip, 0x21, 2);
    wr(zip, crc, 4), wr(zip, data.size(), 4), wr(zip, data.size(), 4), wr(zip, name.size(), 2), wr(zip, 0, 2);
    zip += name;
    zip += data;
    wr(cd, 0x02014b50, 4), wr(cd, 20, 2), wr(cd, 20, 2), wr(cd, 0x0800, 2), wr(cd, 0, 2), wr(cd, 0, 2), wr(cd, 0x21, 2);
    wr(cd, crc, 4), wr(cd, data.size(), 4), wr(cd, data.size(), 4), wr(cd, name.size(), 2), wr(cd, 0, 2), wr(cd, 0, 2);
    wr(cd, 0, 2), wr(cd, 0, 2), wr(cd, 0, 4), wr(cd, off, 4);
    cd += name;
    ++count;
  }
  if (count >= 0xffff) throw std::runtime_error(ps + ": too many members for the built-in writer");
  const uint64_t cd_off = zip.size();
  zip += cd;
  wr(zip, 0x06054b50, 4), wr(zip, 0, 2), wr(zip, 0, 2), wr(zip, count, 2), wr(zip, count, 2);
  wr(zip, cd.size(), 4), wr(zip, cd_off, 4), wr(zip, 0, 2);
  write_file_atomic(path, zip);
}

}  // namespace nf
