// Built-in OBJ and PLY readers (no third-party library): the fallback of load_mesh where
// tinyobjloader / Open3D are not installed. Polygons are fan-triangulated.
#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "datasets/mesh_io.h"

namespace nf {
namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open file");
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Mesh to_mesh(const std::vector<float>& v, const std::vector<int64_t>& f) {
  Mesh m;
  m.vertices = at::tensor(v, at::kFloat).view({-1, 3});
  m.faces = f.empty() ? at::empty({0, 3}, at::kLong) : at::tensor(f, at::kLong).view({-1, 3});
  return m;
}

// Appends polygon `poly` as a triangle fan.
void fan(const std::vector<int64_t>& poly, std::vector<int64_t>& faces) {
  for (size_t k = 1; k + 1 < poly.size(); ++k) {
    faces.push_back(poly[0]);
    faces.push_back(poly[k]);
    faces.push_back(poly[k + 1]);
  }
}

// ---- PLY
enum class PlyType { I8, U8, I16, U16, I32, U32, F32, F64 };

PlyType ply_type(const std::string& path, const std::string& s) {
  if (s == "char" || s == "int8") return PlyType::I8;
  if (s == "uchar" || s == "uint8") return PlyType::U8;
  if (s == "short" || s == "int16") return PlyType::I16;
  if (s == "ushort" || s == "uint16") return PlyType::U16;
  if (s == "int" || s == "int32") return PlyType::I32;
  if (s == "uint" || s == "uint32") return PlyType::U32;
  if (s == "float" || s == "float32") return PlyType::F32;
  if (s == "double" || s == "float64") return PlyType::F64;
  throw std::runtime_error(path + ": unknown PLY property type '" + s + "'");
}

size_t ply_size(PlyType t) {
  switch (t) {
    case PlyType::I8: case PlyType::U8: return 1;
    case PlyType::I16: case PlyType::U16: return 2;
    case PlyType::I32: case PlyType::U32: case PlyType::F32: return 4;
    default: return 8;
  }
}

struct PlyProperty {
  std::string name;
  PlyType type;
  bool is_list = false;
  PlyType count_type = PlyType::U8;
};

struct PlyElement {
  std::string name;
  int64_t count = 0;
  std::vector<PlyProperty> props;
};

// Reads one value of type t from the body, ascii (token) or binary (swap = big endian).
class PlyBody {
 public:
  PlyBody(const std::string& path, const std::string& data, size_t pos, bool ascii, bool swap)
      : path_(path), data_(data), pos_(pos), ascii_(ascii), swap_(swap) {}

  double read(PlyType t) {
    if (ascii_) {
      while (pos_ < data_.size() && std::isspace(static_cast<unsigned char>(data_[pos_]))) ++pos_;
      if (pos_ >= data_.size()) throw std::runtime_error(path_ + ": PLY body ends early");
      char* end = nullptr;
      const double v = std::strtod(data_.c_str() + pos_, &end);
      if (end == data_.c_str() + pos_) throw std::runtime_error(path_ + ": bad PLY ascii value");
      pos_ = static_cast<size_t>(end - data_.c_str());
      return v;
    }
    const size_t n = ply_size(t);
    if (pos_ + n > data_.size()) throw std::runtime_error(path_ + ": PLY body ends early");
    unsigned char b[8];
    std::memcpy(b, data_.data() + pos_, n);
    pos_ += n;
    if (swap_) std::reverse(b, b + n);
    switch (t) {
      case PlyType::I8: { int8_t x; std::memcpy(&x, b, 1); return x; }
      case PlyType::U8: return b[0];
      case PlyType::I16: { int16_t x; std::memcpy(&x, b, 2); return x; }
      case PlyType::U16: { uint16_t x; std::memcpy(&x, b, 2); return x; }
      case PlyType::I32: { int32_t x; std::memcpy(&x, b, 4); return x; }
      case PlyType::U32: { uint32_t x; std::memcpy(&x, b, 4); return x; }
      case PlyType::F32: { float x; std::memcpy(&x, b, 4); return x; }
      default: { double x; std::memcpy(&x, b, 8); return x; }
    }
  }

 private:
  const std::string& path_;
  const std::string& data_;
  size_t pos_;
  bool ascii_, swap_;
};

}  // namespace

Mesh read_obj_builtin(const std::string& path) {
  const std::string text = read_file(path);
  std::vector<float> v;
  std::vector<int64_t> faces, poly;
  size_t pos = 0;
  int64_t line_no = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string::npos) eol = text.size();
    const std::string line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    const char* p = line.c_str();
    while (*p == ' ' || *p == '\t') ++p;
    if (p[0] == 'v' && (p[1] == ' ' || p[1] == '\t')) {
      char* end = nullptr;
      const char* q = p + 1;
      for (int k = 0; k < 3; ++k) {
        const double x = std::strtod(q, &end);
        if (end == q)
          throw std::runtime_error(path + ": line " + std::to_string(line_no) + ": bad vertex");
        v.push_back(static_cast<float>(x));
        q = end;
      }
    } else if (p[0] == 'f' && (p[1] == ' ' || p[1] == '\t')) {
      poly.clear();
      std::istringstream ls(p + 1);
      std::string tok;
      const int64_t nv = static_cast<int64_t>(v.size() / 3);
      while (ls >> tok) {
        char* end = nullptr;
        const long long idx = std::strtoll(tok.c_str(), &end, 10);  // "a", "a/b", "a//c", "a/b/c"
        if (end == tok.c_str() || idx == 0)
          throw std::runtime_error(path + ": line " + std::to_string(line_no) + ": bad face");
        poly.push_back(idx > 0 ? idx - 1 : nv + idx);  // negative = relative to the end
      }
      fan(poly, faces);
    }
  }
  return to_mesh(v, faces);
}

Mesh read_ply_builtin(const std::string& path) {
  const std::string data = read_file(path);
  size_t pos = 0;
  auto next_line = [&]() {
    const size_t eol = data.find('\n', pos);
    if (eol == std::string::npos) throw std::runtime_error(path + ": PLY header has no end_header");
    std::string line = data.substr(pos, eol - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    pos = eol + 1;
    return line;
  };
  if (next_line() != "ply") throw std::runtime_error(path + ": not a PLY file");
  std::string format;
  std::vector<PlyElement> elements;
  for (std::string line = next_line(); line != "end_header"; line = next_line()) {
    std::istringstream ls(line);
    std::string w;
    ls >> w;
    if (w == "format") {
      ls >> format;
    } else if (w == "element") {
      PlyElement e;
      ls >> e.name >> e.count;
      elements.push_back(e);
    } else if (w == "property") {
      if (elements.empty()) throw std::runtime_error(path + ": PLY property before element");
      PlyProperty p;
      std::string t;
      ls >> t;
      if (t == "list") {
        std::string ct, it;
        ls >> ct >> it >> p.name;
        p.is_list = true;
        p.count_type = ply_type(path, ct);
        p.type = ply_type(path, it);
      } else {
        p.type = ply_type(path, t);
        ls >> p.name;
      }
      elements.back().props.push_back(p);
    }
  }
  if (format != "ascii" && format != "binary_little_endian" && format != "binary_big_endian")
    throw std::runtime_error(path + ": unsupported PLY format '" + format + "'");
  // The header's counts must fit the body (a header declaring 2e9 vertices in a 1 KB file is
  // refused here, before anything is allocated): each ascii value takes >= 2 bytes with its
  // separator, each binary value its size (lists at least their count).
  const bool ascii = format == "ascii";
  double min_bytes = 0;
  for (const PlyElement& e : elements) {
    if (e.count < 0) throw std::runtime_error(path + ": PLY element '" + e.name + "' has a negative count");
    double row = 0;
    for (const PlyProperty& p : e.props) row += ascii ? 2.0 : static_cast<double>(ply_size(p.is_list ? p.count_type : p.type));
    min_bytes += row * static_cast<double>(e.count);
  }
  const double body_bytes = static_cast<double>(data.size() - pos);
  if (min_bytes > body_bytes + 1)
    throw std::runtime_error(path + ": PLY header declares more data than the file holds (at least " +
                             std::to_string(static_cast<long long>(min_bytes)) + " bytes, the body has " +
                             std::to_string(static_cast<long long>(body_bytes)) + ")");
  PlyBody body(path, data, pos, ascii, format == "binary_big_endian");
  std::vector<float> v;
  std::vector<int64_t> faces, poly;
  for (const PlyElement& e : elements) {
    const bool is_vertex = e.name == "vertex", is_face = e.name == "face";
    int xyz[3] = {-1, -1, -1};
    for (size_t k = 0; k < e.props.size(); ++k)
      for (int a = 0; a < 3; ++a)
        if (e.props[k].name == std::string(1, static_cast<char>('x' + a))) xyz[a] = int(k);
    if (is_vertex && (xyz[0] < 0 || xyz[1] < 0 || xyz[2] < 0))
      throw std::runtime_error(path + ": PLY vertex element lacks x, y or z");
    if (e.props.empty()) continue;  // rows without data: counting to 9e18 would hang
    double pt[3] = {0, 0, 0};
    for (int64_t r = 0; r < e.count; ++r) {
      for (size_t k = 0; k < e.props.size(); ++k) {
        const PlyProperty& p = e.props[k];
        if (p.is_list) {
          const double nd = body.read(p.count_type);
          if (!(nd >= 0 && nd <= 1e6))
            throw std::runtime_error(path + ": PLY " + e.name + " " + std::to_string(r) + ": bad list length");
          const int64_t n = static_cast<int64_t>(nd);
          const bool indices = is_face && (p.name == "vertex_indices" || p.name == "vertex_index");
          if (indices) poly.clear();
          for (int64_t q = 0; q < n; ++q) {
            const double x = body.read(p.type);
            if (indices) {
              if (!(x >= 0 && x < 9.2e18))  // also NaN; the range against V is validate_mesh's
                throw std::runtime_error(path + ": PLY face " + std::to_string(r) + ": bad vertex index");
              poly.push_back(static_cast<int64_t>(x));
            }
          }
          if (indices) fan(poly, faces);
        } else {
          const double x = body.read(p.type);
          if (is_vertex)
            for (int a = 0; a < 3; ++a)
              if (xyz[a] == int(k)) pt[a] = x;
        }
      }
      if (is_vertex)
        for (int a = 0; a < 3; ++a) v.push_back(static_cast<float>(pt[a]));
    }
  }
  return to_mesh(v, faces);
}

}  // namespace nf
