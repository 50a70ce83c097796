// Mesh export (PLY, OBJ) and topology utilities; see mesh.h.
#include "render/mesh.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <vector>

#include "fields/file_io.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "write_ply assumes a little-endian host"
#endif

namespace nf {
namespace {

// Host copies of the mesh arrays in the dtypes the writers need.
struct HostMesh {
  at::Tensor v, f, n, c;  // [V,3] float, [F,3] int64, [V,3] float or undef, [V,3] uint8 or undef
};

HostMesh to_host(const std::string& path, const Mesh& mesh) {
  if (!mesh.vertices.defined() || mesh.vertices.dim() != 2 || mesh.vertices.size(1) != 3)
    throw std::runtime_error(path + ": mesh vertices must be [V, 3]");
  const int64_t V = mesh.vertices.size(0);
  HostMesh h;
  h.v = mesh.vertices.detach().to(at::kCPU, at::kFloat).contiguous();
  if (mesh.faces.defined() && mesh.faces.numel() > 0) {
    if (mesh.faces.dim() != 2 || mesh.faces.size(1) != 3)
      throw std::runtime_error(path + ": mesh faces must be [F, 3]");
    h.f = mesh.faces.to(at::kCPU, at::kLong).contiguous();
    if (h.f.min().item<int64_t>() < 0 || h.f.max().item<int64_t>() >= V)
      throw std::runtime_error(path + ": face index out of range [0, " + std::to_string(V) + ")");
  } else {
    h.f = at::empty({0, 3}, at::kLong);
  }
  if (mesh.normals.defined()) {
    if (mesh.normals.sizes() != mesh.vertices.sizes())
      throw std::runtime_error(path + ": normals must be [V, 3] like vertices");
    h.n = mesh.normals.detach().to(at::kCPU, at::kFloat).contiguous();
  }
  if (mesh.colors.defined()) {
    if (mesh.colors.sizes() != mesh.vertices.sizes())
      throw std::runtime_error(path + ": colors must be [V, 3] like vertices");
    h.c = (mesh.colors.detach().to(at::kCPU, at::kFloat).clamp(0, 1) * 255.0f)
              .round()
              .to(at::kByte)
              .contiguous();
  }
  return h;
}

// Writes `bytes` to `path` through `path.tmp` + fsync + rename (fields/file_io.h).
void write_atomic(const std::string& path, const std::string& bytes) { write_file_atomic(path, bytes); }

template <typename T>
void append_raw(std::string& s, const T& value) {
  s.append(reinterpret_cast<const char*>(&value), sizeof(T));
}

}  // namespace

void write_ply(const std::string& path, const Mesh& mesh) {
  HostMesh h = to_host(path, mesh);
  const int64_t V = h.v.size(0), F = h.f.size(0);
  if (V > INT32_MAX) throw std::runtime_error(path + ": too many vertices for 32-bit PLY indices");
  std::string s;
  s += "ply\nformat binary_little_endian 1.0\ncomment written by normfield\n";
  s += "element vertex " + std::to_string(V) + "\n";
  s += "property float x\nproperty float y\nproperty float z\n";
  if (h.n.defined()) s += "property float nx\nproperty float ny\nproperty float nz\n";
  if (h.c.defined()) s += "property uchar red\nproperty uchar green\nproperty uchar blue\n";
  s += "element face " + std::to_string(F) + "\n";
  s += "property list uchar int vertex_indices\nend_header\n";
  const size_t vstride = 12 + (h.n.defined() ? 12 : 0) + (h.c.defined() ? 3 : 0);
  s.reserve(s.size() + V * vstride + F * 13);
  const float* v = h.v.data_ptr<float>();
  const float* n = h.n.defined() ? h.n.data_ptr<float>() : nullptr;
  const uint8_t* c = h.c.defined() ? h.c.data_ptr<uint8_t>() : nullptr;
  for (int64_t i = 0; i < V; ++i) {
    s.append(reinterpret_cast<const char*>(v + 3 * i), 12);
    if (n) s.append(reinterpret_cast<const char*>(n + 3 * i), 12);
    if (c) s.append(reinterpret_cast<const char*>(c + 3 * i), 3);
  }
  const int64_t* f = h.f.data_ptr<int64_t>();
  for (int64_t i = 0; i < F; ++i) {
    append_raw(s, static_cast<uint8_t>(3));
    for (int k = 0; k < 3; ++k) append_raw(s, static_cast<int32_t>(f[3 * i + k]));
  }
  write_atomic(path, s);
}

void write_obj(const std::string& path, const Mesh& mesh) {
  HostMesh h = to_host(path, mesh);
  const int64_t V = h.v.size(0), F = h.f.size(0);
  std::string s = "# written by normfield\n";
  s.reserve(V * (h.n.defined() ? 80 : 40) + F * 40);
  char buf[160];
  const float* v = h.v.data_ptr<float>();
  const uint8_t* c = h.c.defined() ? h.c.data_ptr<uint8_t>() : nullptr;
  for (int64_t i = 0; i < V; ++i) {
    int len;
    if (c)
      len = std::snprintf(buf, sizeof buf, "v %.9g %.9g %.9g %.6g %.6g %.6g\n", v[3 * i],
                          v[3 * i + 1], v[3 * i + 2], c[3 * i] / 255.0, c[3 * i + 1] / 255.0,
                          c[3 * i + 2] / 255.0);
    else
      len = std::snprintf(buf, sizeof buf, "v %.9g %.9g %.9g\n", v[3 * i], v[3 * i + 1],
                          v[3 * i + 2]);
    s.append(buf, len);
  }
  if (h.n.defined()) {
    const float* n = h.n.data_ptr<float>();
    for (int64_t i = 0; i < V; ++i) {
      int len = std::snprintf(buf, sizeof buf, "vn %.7g %.7g %.7g\n", n[3 * i], n[3 * i + 1],
                              n[3 * i + 2]);
      s.append(buf, len);
    }
  }
  const int64_t* f = h.f.data_ptr<int64_t>();
  for (int64_t i = 0; i < F; ++i) {
    const long long a = f[3 * i] + 1, b = f[3 * i + 1] + 1, d = f[3 * i + 2] + 1;
    int len = h.n.defined()
                  ? std::snprintf(buf, sizeof buf, "f %lld//%lld %lld//%lld %lld//%lld\n", a, a,
                                  b, b, d, d)
                  : std::snprintf(buf, sizeof buf, "f %lld %lld %lld\n", a, b, d);
    s.append(buf, len);
  }
  write_atomic(path, s);
}

at::Tensor compute_vertex_normals(const Mesh& mesh) {
  const at::Tensor v = mesh.vertices.to(at::kFloat);  // [V, 3]
  at::Tensor n = at::zeros_like(v);                   // [V, 3]
  if (mesh.num_faces() == 0) return n;
  const at::Tensor f = mesh.faces.to(at::kLong);  // [F, 3]
  const at::Tensor v0 = v.index_select(0, f.select(1, 0));
  const at::Tensor v1 = v.index_select(0, f.select(1, 1));
  const at::Tensor v2 = v.index_select(0, f.select(1, 2));
  const at::Tensor fn = at::cross(v1 - v0, v2 - v0, 1);  // [F, 3], length = 2 * area
  for (int k = 0; k < 3; ++k) n.index_add_(0, f.select(1, k), fn);
  return n / n.norm(2, {1}, true).clamp_min(1e-20);
}

at::Tensor unique_edges(const Mesh& mesh, at::Tensor* counts) {
  const int64_t V = std::max<int64_t>(mesh.num_vertices(), 1);
  const at::Tensor f = mesh.faces.defined() ? mesh.faces.to(at::kLong)
                                            : at::empty({0, 3}, at::kLong);  // [F, 3]
  // All directed face edges (a->b, b->c, c->a) as undirected keys lo * V + hi.
  const at::Tensor a = at::cat({f.select(1, 0), f.select(1, 1), f.select(1, 2)});
  const at::Tensor b = at::cat({f.select(1, 1), f.select(1, 2), f.select(1, 0)});
  const at::Tensor keys = std::get<0>((at::minimum(a, b) * V + at::maximum(a, b)).sort());
  auto uc = at::unique_consecutive(keys, false, true);  // (values, inverse, counts)
  const at::Tensor u = std::get<0>(uc);
  if (counts) *counts = std::get<2>(uc);
  return at::stack({at::div(u, V, "floor"), at::remainder(u, V)}, 1);  // [E, 2]
}

int64_t euler_characteristic(const Mesh& mesh) {
  const int64_t E = unique_edges(mesh).size(0);
  return mesh.num_vertices() - E + mesh.num_faces();
}

int64_t count_boundary_edges(const Mesh& mesh) {
  at::Tensor counts;
  unique_edges(mesh, &counts);
  return counts.eq(1).sum().item<int64_t>();
}

int64_t count_nonmanifold_edges(const Mesh& mesh) {
  at::Tensor counts;
  unique_edges(mesh, &counts);
  return counts.gt(2).sum().item<int64_t>();
}

namespace {
// The three corner positions of every face, in double: [F, 3] each.
std::array<at::Tensor, 3> face_corners(const Mesh& mesh) {
  const at::Tensor v = mesh.vertices.to(at::kDouble);
  const at::Tensor f = mesh.faces.to(at::kLong);
  return {v.index_select(0, f.select(1, 0)), v.index_select(0, f.select(1, 1)),
          v.index_select(0, f.select(1, 2))};
}
}  // namespace

double surface_area(const Mesh& mesh) {
  if (mesh.num_faces() == 0) return 0.0;
  auto c = face_corners(mesh);
  return 0.5 * at::cross(c[1] - c[0], c[2] - c[0], 1).norm(2, {1}).sum().item<double>();
}

double signed_volume(const Mesh& mesh) {
  if (mesh.num_faces() == 0) return 0.0;
  auto c = face_corners(mesh);
  return (c[0] * at::cross(c[1], c[2], 1)).sum().item<double>() / 6.0;
}

Mesh weld_vertices(const Mesh& mesh, double tol) {
  const int64_t V = mesh.num_vertices();
  if (V == 0) return mesh;
  const at::Tensor keys = (mesh.vertices.to(at::kDouble) / tol).round().to(at::kLong);  // [V, 3]
  const auto uq = at::unique_dim(keys, 0, true, true, true);  // (values, inverse, counts)
  at::Tensor inverse = std::get<1>(uq);                         // [V] vertex -> group
  const at::Tensor counts = std::get<2>(uq);                    // [U]
  const int64_t U = counts.size(0);
  // Renumber groups by their first occurrence so untouched meshes keep their order: a stable
  // sort of `inverse` lists each group's members in index order, the first one at its start.
  const at::Tensor members = std::get<1>(at::sort(inverse, /*stable=*/true, 0, false));  // [V]
  const at::Tensor first = members.index_select(0, counts.cumsum(0) - counts);          // [U]
  const at::Tensor order = first.argsort();  // new -> old group
  const at::Tensor rank = at::empty_like(order).index_put_({order}, at::arange(U, order.options()));
  inverse = rank.index_select(0, inverse);  // [V] vertex -> merged id
  const at::Tensor cnt = counts.index_select(0, order).to(at::kFloat).unsqueeze(1);  // [U, 1]
  auto average = [&](const at::Tensor& t) {  // [V, 3] -> [U, 3]
    const at::Tensor tf = t.to(at::kFloat);
    return at::zeros({U, 3}, tf.options()).index_add_(0, inverse, tf) / cnt;
  };
  Mesh out;
  out.vertices = average(mesh.vertices);
  if (mesh.normals.defined()) {
    at::Tensor n = average(mesh.normals);
    out.normals = n / n.norm(2, {1}, true).clamp_min(1e-20);
  }
  if (mesh.colors.defined()) out.colors = average(mesh.colors);
  if (mesh.num_faces() > 0) {
    at::Tensor f = inverse.index_select(0, mesh.faces.to(at::kLong).reshape(-1)).view({-1, 3});
    const at::Tensor ok = f.select(1, 0).ne(f.select(1, 1)) & f.select(1, 1).ne(f.select(1, 2)) &
                          f.select(1, 2).ne(f.select(1, 0));
    out.faces = f.index({ok});
  } else {
    out.faces = at::empty({0, 3}, mesh.vertices.options().dtype(at::kLong));
  }
  return out;
}

}  // namespace nf
