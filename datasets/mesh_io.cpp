// Mesh loading, validation, normalisation and occupancy dispatch (see mesh_io.h).
#include "datasets/mesh_io.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <filesystem>
#include <stdexcept>

#include "datasets/mesh_open3d.h"

#ifdef NORMFIELD_WITH_TINYOBJ
#include <tiny_obj_loader.h>  // Debian ships the compiled implementation: no IMPLEMENTATION macro
#endif

namespace nf {
namespace {

// tinyobjloader reads "v nan 0 0" and "v inf 0 0" as 0: find such vertices first (strtod parses
// nan/inf), so a broken OBJ is refused like a broken PLY instead of becoming a plausible mesh.
void check_obj_vertices_finite(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string line;
  int64_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    size_t p = line.find_first_not_of(" \t");
    if (p == std::string::npos || line[p] != 'v' || p + 1 >= line.size() || (line[p + 1] != ' ' && line[p + 1] != '\t'))
      continue;
    const char* q = line.c_str() + p + 1;
    for (int k = 0; k < 3; ++k) {
      char* end = nullptr;
      const double x = std::strtod(q, &end);
      if (end == q) break;  // tinyobjloader reports syntax errors itself
      if (!std::isfinite(x))
        throw std::runtime_error(path + ": line " + std::to_string(line_no) + ": non-finite vertex coordinate");
      q = end;
    }
  }
}

#ifdef NORMFIELD_WITH_TINYOBJ
Mesh read_obj_tinyobj(const std::string& path) {
  tinyobj::ObjReaderConfig config;
  config.triangulate = true;
  config.vertex_color = false;
  tinyobj::ObjReader reader;
  if (!reader.ParseFromFile(path, config)) {
    std::string err = reader.Error();
    err = err.substr(0, err.find('\n'));
    throw std::runtime_error(path + ": cannot read OBJ" + (err.empty() ? "" : " (" + err + ")"));
  }
  const auto& attrib = reader.GetAttrib();
  std::vector<int64_t> faces;
  for (const auto& shape : reader.GetShapes()) {
    size_t offset = 0;
    for (const auto nfv : shape.mesh.num_face_vertices) {
      // Triangulated: nfv == 3 (tinyobj may leave degenerate polygons; fan them anyway).
      for (size_t k = 1; k + 1 < nfv; ++k)
        for (size_t q : {size_t(0), k, k + 1})
          faces.push_back(shape.mesh.indices[offset + q].vertex_index);
      offset += nfv;
    }
  }
  Mesh m;
  std::vector<float> v(attrib.vertices.begin(), attrib.vertices.end());
  m.vertices = at::tensor(v, at::kFloat).view({-1, 3});
  m.faces = faces.empty() ? at::empty({0, 3}, at::kLong) : at::tensor(faces, at::kLong).view({-1, 3});
  return m;
}
#endif

std::string lower_extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext;
}

}  // namespace

void validate_mesh(const Mesh& mesh, const std::string& what) {
  if (!mesh.vertices.defined() || mesh.vertices.dim() != 2 || mesh.vertices.size(1) != 3)
    throw std::runtime_error(what + ": vertices must be [V, 3]");
  if (!mesh.faces.defined() || mesh.faces.numel() == 0)
    throw std::runtime_error(what + ": mesh has no faces");
  if (mesh.faces.dim() != 2 || mesh.faces.size(1) != 3)
    throw std::runtime_error(what + ": faces must be [F, 3]");
  const at::Tensor bad = (~at::isfinite(mesh.vertices)).any(1).nonzero();
  if (bad.numel() > 0)
    throw std::runtime_error(what + ": non-finite coordinates at vertex " +
                             std::to_string(bad[0][0].item<int64_t>()) + " (" +
                             std::to_string(bad.size(0)) + " vertices)");
  const int64_t V = mesh.vertices.size(0);
  const int64_t lo = mesh.faces.min().item<int64_t>(), hi = mesh.faces.max().item<int64_t>();
  if (lo < 0 || hi >= V)
    throw std::runtime_error(what + ": face index " + std::to_string(lo < 0 ? lo : hi) +
                             " out of range [0, " + std::to_string(V) + ")");
}

Mesh load_mesh(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec))
    throw std::runtime_error(path + ": no such file");
  const std::string ext = lower_extension(path);
  Mesh m;
  if (ext == ".obj") {
    check_obj_vertices_finite(path);
#ifdef NORMFIELD_WITH_TINYOBJ
    m = read_obj_tinyobj(path);
#else
    m = read_obj_builtin(path);
#endif
  } else if (ext == ".ply") {
    // Always the built-in reader: Open3D's PLY reader hands out-of-range polygon indices and header
    // counts that disagree with the body to its ear clipping, which segfaults (issue 16). The
    // built-in reader checks the body's size against the header before reading and every index.
    m = read_ply_builtin(path);
  } else {
    throw std::runtime_error(path + ": unsupported mesh format '" + ext + "' (want .obj or .ply)");
  }
  validate_mesh(m, path);
  return m;
}

Mesh normalize_to_cube(const Mesh& mesh, double margin) {
  if (margin < 0.0 || margin >= 1.0)
    throw std::runtime_error("normalize_to_cube: margin must be in [0, 1)");
  const at::Tensor v = mesh.vertices.to(at::kDouble);  // [V, 3]
  const at::Tensor lo = std::get<0>(v.min(0)), hi = std::get<0>(v.max(0));
  const at::Tensor centre = (lo + hi) / 2;
  const double half = ((hi - lo).max() / 2).item<double>();
  const double scale = half > 0 ? (1.0 - margin) / half : 1.0;
  Mesh out;
  out.vertices = ((v - centre) * scale).to(at::kFloat);
  out.faces = mesh.faces;
  return out;
}

}  // namespace nf
