// Surface sampling, radius thinning and chamfer distances (see chamfer.h).
#include "datasets/chamfer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "datasets/mesh_io.h"

#ifdef NORMFIELD_WITH_NANOFLANN
#include <nanoflann.hpp>
#endif

namespace nf {

namespace {

// [N, 3] float64 contiguous CPU copy, checked.
at::Tensor as_points(const at::Tensor& p, const char* what) {
  if (!p.defined() || p.dim() != 2 || p.size(1) != 3)
    throw std::runtime_error(std::string(what) + ": expected points of shape [N, 3]");
  return p.to(at::kCPU, at::kDouble).contiguous();
}

#ifdef NORMFIELD_WITH_NANOFLANN
struct Cloud {
  const double* p = nullptr;
  size_t n = 0;
  size_t kdtree_get_point_count() const { return n; }
  double kdtree_get_pt(size_t i, size_t d) const { return p[3 * i + d]; }
  template <class Box>
  bool kdtree_get_bbox(Box&) const { return false; }
};
using Tree = nanoflann::KDTreeSingleIndexAdaptor<nanoflann::L2_Simple_Adaptor<double, Cloud>, Cloud, 3, size_t>;

// Collects the indices within a squared radius (the interface nanoflann's RadiusResultSet has).
struct RadiusCollector {
  double r2;
  std::vector<size_t>* out;
  void init() { out->clear(); }
  void clear() { out->clear(); }
  size_t size() const { return out->size(); }
  bool empty() const { return out->empty(); }
  bool full() const { return true; }
  bool addPoint(double dist, size_t index) {
    if (dist < r2) out->push_back(index);
    return true;
  }
  double worstDist() const { return r2; }
  void sort() {}
};
#endif

#ifndef NORMFIELD_WITH_NANOFLANN
[[noreturn]] void no_nanoflann() {
  throw std::runtime_error("chamfer: normfield was built without nanoflann (install libnanoflann-dev)");
}
#endif

}  // namespace

at::Tensor sample_surface(const Mesh& mesh, double density, uint64_t seed) {
  const at::Tensor& vertices = mesh.vertices;  // [V, 3]
  const at::Tensor& faces = mesh.faces;        // [F, 3]
  if (!(density > 0) || !std::isfinite(density))
    throw std::runtime_error("sample_surface: density must be > 0, got " + std::to_string(density));
  const at::Tensor v = as_points(vertices, "sample_surface: vertices");
  if (!faces.defined() || faces.dim() != 2 || faces.size(1) != 3 || faces.size(0) == 0)
    throw std::runtime_error("sample_surface: expected faces of shape [F, 3], F > 0");
  const at::Tensor f = faces.to(at::kCPU, at::kLong).contiguous();
  if (f.min().item<int64_t>() < 0 || f.max().item<int64_t>() >= v.size(0))
    throw std::runtime_error("sample_surface: face index out of range");
  const at::Tensor a = v.index_select(0, f.select(1, 0)), b = v.index_select(0, f.select(1, 1)),
                   c = v.index_select(0, f.select(1, 2));  // [F, 3] each
  const at::Tensor area = at::cross(b - a, c - a, 1).norm(2, 1) * 0.5;  // [F]
  const double total = area.sum().item<double>();
  if (!(total > 0) || !std::isfinite(total)) throw std::runtime_error("sample_surface: the mesh has zero area");
  const double want = std::round(total * density);
  if (want > 1e8) throw std::runtime_error("sample_surface: " + std::to_string(want) + " points (> 1e8): lower the density");
  const int64_t n = std::max<int64_t>(1, int64_t(want));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  const at::Tensor cdf = at::cumsum(area, 0);
  const at::Tensor pick = at::rand({n}, gen, at::kDouble) * total;
  const at::Tensor face = at::searchsorted(cdf, pick).clamp_max(f.size(0) - 1);  // [N]
  at::Tensor uv = at::rand({n, 2}, gen, at::kDouble);
  at::Tensor u = uv.select(1, 0), w = uv.select(1, 1);
  const at::Tensor flip = (u + w) > 1;  // reflect into the triangle
  u = at::where(flip, 1 - u, u).unsqueeze(1);
  w = at::where(flip, 1 - w, w).unsqueeze(1);
  const at::Tensor A = a.index_select(0, face), B = b.index_select(0, face), C = c.index_select(0, face);
  return (A + u * (B - A) + w * (C - A)).to(at::kFloat);
}

at::Tensor radius_downsample(const at::Tensor& points, double radius) {
  if (!(radius >= 0)) throw std::runtime_error("radius_downsample: radius must be >= 0");
  const at::Tensor p = as_points(points, "radius_downsample");
  const size_t n = size_t(p.size(0));
  if (n == 0 || radius == 0) return points;
#ifdef NORMFIELD_WITH_NANOFLANN
  Cloud cloud{p.data_ptr<double>(), n};
  Tree tree(3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(10));
  std::vector<char> keep(n, 1);
  std::vector<size_t> found;
  RadiusCollector rc{radius * radius, &found};
  for (size_t i = 0; i < n; ++i) {
    if (!keep[i]) continue;
    rc.init();
    tree.radiusSearchCustomCallback(cloud.p + 3 * i, rc);
    for (size_t j : found) keep[j] = 0;
    keep[i] = 1;
  }
  std::vector<int64_t> idx;
  for (size_t i = 0; i < n; ++i)
    if (keep[i]) idx.push_back(int64_t(i));
  return points.index_select(0, at::tensor(idx, at::kLong).to(points.device()));
#else
  no_nanoflann();
#endif
}

at::Tensor nearest_distances(const at::Tensor& queries, const at::Tensor& points) {
  const at::Tensor q = as_points(queries, "nearest_distances: queries");
  const at::Tensor p = as_points(points, "nearest_distances: points");
  if (p.size(0) == 0) throw std::runtime_error("nearest_distances: no points to search");
#ifdef NORMFIELD_WITH_NANOFLANN
  Cloud cloud{p.data_ptr<double>(), size_t(p.size(0))};
  Tree tree(3, cloud, nanoflann::KDTreeSingleIndexAdaptorParams(10));
  at::Tensor out = at::empty({q.size(0)}, at::kDouble);
  const double* qp = q.data_ptr<double>();
  double* o = out.data_ptr<double>();
  at::parallel_for(0, q.size(0), 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      size_t idx = 0;
      double d2 = 0;
      tree.knnSearch(qp + 3 * i, 1, &idx, &d2);
      o[i] = std::sqrt(d2);
    }
  });
  return out;
#else
  no_nanoflann();
#endif
}

ChamferResult chamfer(const at::Tensor& pred, const at::Tensor& gt, double max_dist, bool drop_far) {
  if (!(max_dist > 0)) throw std::runtime_error("chamfer: max_dist must be > 0");
  if (!pred.defined() || pred.dim() != 2 || pred.size(0) == 0)
    throw std::runtime_error("chamfer: the predicted point set is empty");
  if (!gt.defined() || gt.dim() != 2 || gt.size(0) == 0)
    throw std::runtime_error("chamfer: the ground-truth point set is empty");
  auto mean_of = [&](const at::Tensor& d) {
    if (!drop_far) return d.clamp_max(max_dist).mean().item<double>();
    const at::Tensor near = d.masked_select(d < max_dist);
    return near.numel() ? near.mean().item<double>() : 0.0;
  };
  ChamferResult r;
  r.n_pred = pred.size(0);
  r.n_gt = gt.size(0);
  r.accuracy = mean_of(nearest_distances(pred, gt));
  r.completeness = mean_of(nearest_distances(gt, pred));
  r.overall = 0.5 * (r.accuracy + r.completeness);
  return r;
}

ChamferResult mesh_chamfer(const Mesh& mesh, const at::Tensor& gt_points, const MeshChamferOptions& o) {
  if (!(o.radius > 0)) throw std::runtime_error("mesh_chamfer: radius must be > 0");
  const double density = o.density > 0 ? o.density : 4.0 / (o.radius * o.radius);
  const double max_dist = o.max_dist > 0 ? o.max_dist : 100.0 * o.radius;
  const at::Tensor pred = radius_downsample(sample_surface(mesh, density, o.seed), o.radius);
  const at::Tensor gt = radius_downsample(gt_points, o.radius);
  return chamfer(pred, gt, max_dist, o.drop_far);
}

at::Tensor load_points(const std::string& path, double density, uint64_t seed) {
  std::string ext = path.size() >= 4 ? path.substr(path.size() - 4) : "";
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char ch) { return std::tolower(ch); });
  if (ext == ".ply") {
    const Mesh m = read_ply_builtin(path);
    if (m.num_faces() == 0) {
      if (m.num_vertices() == 0) throw std::runtime_error(path + ": PLY has no vertices");
      if (!at::isfinite(m.vertices).all().item<bool>()) throw std::runtime_error(path + ": non-finite vertices");
      return m.vertices.to(at::kFloat);
    }
  }
  const Mesh m = load_mesh(path);  // validates; errors name the file
  try {
    return sample_surface(m, density, seed);
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(path + ": " + e.what());
  }
}

}  // namespace nf
