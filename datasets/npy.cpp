// NumPy .npy reading and writing (see npy.h).
#include "datasets/npy.h"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <vector>

#include "fields/file_io.h"
#include "datasets/printable.h"

namespace nf {
namespace {


// The value text after 'key': in a .npy header dict (trimmed, up to the next ',' or '}' at depth 0;
// a parenthesised tuple is returned whole). Empty when the key is missing.
std::string dict_value(const std::string& header, const std::string& key) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string::npos) pos = header.find("\"" + key + "\"");
  if (pos == std::string::npos) return {};
  pos = header.find(':', pos);
  if (pos == std::string::npos) return {};
  ++pos;
  while (pos < header.size() && std::isspace(static_cast<unsigned char>(header[pos]))) ++pos;
  if (pos >= header.size()) return {};
  if (header[pos] == '(') {
    const size_t end = header.find(')', pos);
    return end == std::string::npos ? std::string{} : header.substr(pos, end - pos + 1);
  }
  if (header[pos] == '\'' || header[pos] == '"') {
    const size_t end = header.find(header[pos], pos + 1);
    return end == std::string::npos ? std::string{} : header.substr(pos + 1, end - pos - 1);
  }
  size_t end = pos;
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  std::string v = header.substr(pos, end - pos);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  return v;
}

// "(96, 96, 96)" / "(5,)" / "()" -> sizes; false on anything else.
bool parse_shape(const std::string& tuple, std::vector<int64_t>& shape) {
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') return false;
  std::string item;
  for (size_t i = 1; i < tuple.size(); ++i) {
    const char ch = tuple[i];
    if (ch == ',' || ch == ')') {
      while (!item.empty() && (item.back() == 'L' || item.back() == ' ')) item.pop_back();
      if (!item.empty()) {
        // Digits only, at most 18 (std::stoll throws std::out_of_range past int64).
        if (item.size() > 18 || !std::all_of(item.begin(), item.end(), [](char c) { return std::isdigit(c); }))
          return false;
        shape.push_back(std::stoll(item));
      }
      item.clear();
    } else if (!std::isspace(static_cast<unsigned char>(ch))) {
      item += ch;
    }
  }
  return true;
}

}  // namespace

at::Tensor parse_npy(const std::string& buf, const std::string& what) {
  auto fail = [&](const std::string& problem) { throw std::runtime_error(what + ": " + problem); };
  if (buf.size() < 10 || buf.compare(0, 6, "\x93NUMPY") != 0) fail("not a .npy file (bad magic)");
  const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
  const int major = b[6];
  size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = b[8] | (static_cast<size_t>(b[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (buf.size() < 12) fail("truncated header");
    hlen = b[8] | (static_cast<size_t>(b[9]) << 8) | (static_cast<size_t>(b[10]) << 16) |
           (static_cast<size_t>(b[11]) << 24);
    hstart = 12;
  } else {
    fail("unsupported .npy format version " + std::to_string(major));
  }
  if (hstart + hlen > buf.size()) fail("truncated header");
  const std::string header = buf.substr(hstart, hlen);

  const std::string descr = dict_value(header, "descr");
  const std::string fortran = dict_value(header, "fortran_order");
  std::vector<int64_t> shape;
  if (descr.empty()) fail("header has no 'descr'");
  if (fortran == "True") fail("fortran_order arrays are not supported (save in C order)");
  if (fortran != "False") fail("header has no valid 'fortran_order'");
  if (!parse_shape(dict_value(header, "shape"), shape)) fail("header has no valid 'shape'");

  struct Kind { const char* descr; at::ScalarType type; size_t item; };
  static const Kind kKinds[] = {
      {"|u1", at::kByte, 1},  {"<u1", at::kByte, 1},  {"|b1", at::kBool, 1},
      {"<u2", at::kInt, 2},   {"<i2", at::kShort, 2}, {"<i4", at::kInt, 4},
      {"<i8", at::kLong, 8},  {"<f4", at::kFloat, 4}, {"<f8", at::kDouble, 8}};
  const Kind* kind = nullptr;
  for (const auto& k : kKinds)
    if (descr == k.descr) kind = &k;
  if (!kind) fail("unsupported dtype '" + printable(descr) + "' (|u1 |b1 <u2 <i2 <i4 <i8 <f4 <f8, little-endian)");
  const uint16_t probe = 1;
  if (*reinterpret_cast<const unsigned char*>(&probe) != 1) fail("big-endian host not supported");

  size_t numel = 1;
  for (int64_t s : shape) {
    if (s < 0 || (s > 0 && numel > std::numeric_limits<size_t>::max() / 16 / s))
      fail("invalid shape");
    numel *= static_cast<size_t>(s);
  }
  const size_t offset = hstart + hlen, need = numel * kind->item, have = buf.size() - offset;
  if (have < need)
    fail("truncated data (expected " + std::to_string(need) + " bytes, found " +
         std::to_string(have) + ")");

  auto out = at::empty(shape, at::TensorOptions().dtype(kind->type));
  const char* src = buf.data() + offset;
  if (std::string(kind->descr) == "<u2") {  // no uint16 tensors in LibTorch 1.13: widen
    auto* dst = out.data_ptr<int32_t>();
    for (size_t i = 0; i < numel; ++i) {
      uint16_t v;
      std::memcpy(&v, src + 2 * i, 2);
      dst[i] = v;
    }
  } else if (kind->type == at::kBool) {  // any non-zero byte is True (a bool holding 2 is UB)
    auto bytes = at::empty(shape, at::TensorOptions().dtype(at::kByte));
    if (need > 0) std::memcpy(bytes.data_ptr(), src, need);
    out = bytes.ne(0);
  } else if (need > 0) {
    std::memcpy(out.data_ptr(), src, need);
  }
  return out;
}

at::Tensor load_npy(const std::filesystem::path& path) {
  return parse_npy(read_file_bytes(path), path.string());
}

std::string encode_npy(const at::Tensor& t, const std::string& what) {
  if (!t.defined()) throw std::runtime_error(what + ": cannot save an undefined tensor");
  std::string descr;
  const at::Tensor c = t.to(at::kCPU).contiguous();
  switch (c.scalar_type()) {
    case at::kByte: descr = "|u1"; break;
    case at::kBool: descr = "|b1"; break;
    case at::kShort: descr = "<i2"; break;
    case at::kInt: descr = "<i4"; break;
    case at::kLong: descr = "<i8"; break;
    case at::kFloat: descr = "<f4"; break;
    case at::kDouble: descr = "<f8"; break;
    default:
      throw std::runtime_error(what + ": .npy output supports uint8, bool, int16, int32, int64, "
                               "float32 and float64, not " + std::string(c10::toString(c.scalar_type())));
  }
  std::string shape = "(";
  for (int64_t i = 0; i < c.dim(); ++i) shape += (i ? ", " : "") + std::to_string(c.size(i));
  shape += c.dim() == 1 ? ",)" : ")";
  std::string header = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
  const size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  if (header.size() > 65535) throw std::runtime_error(what + ": .npy header too long");
  std::string out("\x93NUMPY\x01\x00", 8);
  out += static_cast<char>(header.size() & 0xff);
  out += static_cast<char>(header.size() >> 8);
  out += header;
  out.append(static_cast<const char*>(c.data_ptr()), c.nbytes());
  return out;
}

void save_npy(const std::filesystem::path& path, const at::Tensor& t) {
  write_file_atomic(path, encode_npy(t, path.string()));
}

}  // namespace nf
