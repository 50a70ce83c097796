// Fast winding numbers (see fast_winding.h).
//
// Far field of a cluster seen from q, with d = centre - q, r = |d|: the Taylor expansion of the
// dipole kernel g(x) = (x - q) / |x - q|^3 around the centre, integrated over the triangles:
//   Omega ~= N . d / r^3                                              (order 0)
//          + tr(M) / r^3 - 3 d^T M d / r^5                             (order 1)
//          + (1/2) [-3 (2 sum_ik d_k Q_iik + sum_i d_i Q_ijj) / r^5
//                   + 15 sum_ijk d_i d_j d_k Q_ijk / r^7]               (order 2)
// with N = sum_t n_t, M_ij = sum_t (c_t - centre)_i n_t,j and
// Q_ijk = sum_t n_t,i / 12 (sum_v e_vj e_vk + 9 e_cj e_ck), e = (vertex or centroid) - centre
// (the exact second moment of a triangle: int_t x x^T dA = A / 12 (sum_v v v^T + 9 c c^T)).
#include "datasets/fast_winding.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace nf {
namespace {
constexpr double kTwoPi = 6.283185307179586476925286766559;
// Index of the symmetric pair (j, k) in the 6 stored entries 00 01 02 11 12 22.
constexpr int kSym[3][3] = {{0, 1, 2}, {1, 3, 4}, {2, 4, 5}};

// Half the signed solid angle of triangle q[0..8] seen from p (Van Oosterom & Strackee).
inline double half_solid_angle(const double* q, const double* p) {
  const double ax = q[0] - p[0], ay = q[1] - p[1], az = q[2] - p[2];
  const double bx = q[3] - p[0], by = q[4] - p[1], bz = q[5] - p[2];
  const double cx = q[6] - p[0], cy = q[7] - p[1], cz = q[8] - p[2];
  const double la = std::sqrt(ax * ax + ay * ay + az * az);
  const double lb = std::sqrt(bx * bx + by * by + bz * bz);
  const double lc = std::sqrt(cx * cx + cy * cy + cz * cz);
  const double det = ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
  const double den = la * lb * lc + (ax * bx + ay * by + az * bz) * lc + (bx * cx + by * cy + bz * cz) * la +
                     (cx * ax + cy * ay + cz * az) * lb;
  return std::atan2(det, den);
}
}  // namespace

FastWinding::FastWinding(const Mesh& mesh, double beta, int leaf_size)
    : beta_(beta), leaf_size_(std::max(1, leaf_size)) {
  validate_mesh(mesh, "FastWinding");
  const at::Tensor v = mesh.vertices.to(at::kCPU, at::kDouble).contiguous();  // [V, 3]
  const at::Tensor tri = v.index_select(0, mesh.faces.to(at::kCPU, at::kLong).reshape(-1))
                             .reshape({-1, 9})
                             .contiguous();  // [F, 9]
  const int64_t F = tri.size(0);
  if (F > (int64_t(1) << 30)) throw std::runtime_error("FastWinding: too many faces");
  tri_.assign(tri.data_ptr<double>(), tri.data_ptr<double>() + F * 9);
  area_n_.resize(static_cast<size_t>(F) * 3);
  std::vector<double> centroids(static_cast<size_t>(F) * 3);
  for (int64_t f = 0; f < F; ++f) {
    const double* q = tri_.data() + 9 * f;
    const double e1[3] = {q[3] - q[0], q[4] - q[1], q[5] - q[2]};
    const double e2[3] = {q[6] - q[0], q[7] - q[1], q[8] - q[2]};
    area_n_[3 * f + 0] = 0.5 * (e1[1] * e2[2] - e1[2] * e2[1]);
    area_n_[3 * f + 1] = 0.5 * (e1[2] * e2[0] - e1[0] * e2[2]);
    area_n_[3 * f + 2] = 0.5 * (e1[0] * e2[1] - e1[1] * e2[0]);
    for (int a = 0; a < 3; ++a) centroids[3 * f + a] = (q[a] + q[3 + a] + q[6 + a]) / 3.0;
  }
  const at::Tensor lo = std::get<0>(v.min(0)), hi = std::get<0>(v.max(0));
  const double pad = (hi - lo).max().item<double>() * 1e-4;
  for (int a = 0; a < 3; ++a) {
    lo_[a] = lo[a].item<double>() - pad;
    hi_[a] = hi[a].item<double>() + pad;
  }
  nodes_.reserve(static_cast<size_t>(2 * F / leaf_size_ + 2));
  build(0, static_cast<int32_t>(F), centroids);
}

// Sorts triangles [begin, end) (tri_, area_n_, centroids in step) into a subtree; returns its index.
int32_t FastWinding::build(int32_t begin, int32_t end, std::vector<double>& centroids) {
  const int32_t id = static_cast<int32_t>(nodes_.size());
  nodes_.emplace_back();
  Node node;
  double area = 0, c[3] = {0, 0, 0}, clo[3] = {1e300, 1e300, 1e300}, chi[3] = {-1e300, -1e300, -1e300};
  for (int a = 0; a < 3; ++a) node.n[a] = 0;
  for (int32_t t = begin; t < end; ++t) {
    const double* an = area_n_.data() + 3 * t;
    const double A = std::sqrt(an[0] * an[0] + an[1] * an[1] + an[2] * an[2]);
    area += A;
    for (int a = 0; a < 3; ++a) {
      c[a] += A * centroids[3 * t + a];
      node.n[a] += an[a];
      clo[a] = std::min(clo[a], centroids[3 * t + a]);
      chi[a] = std::max(chi[a], centroids[3 * t + a]);
    }
  }
  for (int a = 0; a < 3; ++a) node.centre[a] = area > 0 ? c[a] / area : 0.5 * (clo[a] + chi[a]);
  node.radius = 0;
  for (double& x : node.m) x = 0;
  for (double& x : node.q) x = 0;
  for (int32_t t = begin; t < end; ++t) {
    const double* q = tri_.data() + 9 * t;
    for (int k = 0; k < 3; ++k) {
      const double dx = q[3 * k] - node.centre[0], dy = q[3 * k + 1] - node.centre[1],
                   dz = q[3 * k + 2] - node.centre[2];
      node.radius = std::max(node.radius, std::sqrt(dx * dx + dy * dy + dz * dz));
    }
    double ec[3], ev[3][3];
    for (int a = 0; a < 3; ++a) {
      ec[a] = centroids[3 * t + a] - node.centre[a];
      for (int k = 0; k < 3; ++k) ev[k][a] = q[3 * k + a] - node.centre[a];
    }
    for (int i = 0; i < 3; ++i)
      for (int j = 0; j < 3; ++j) node.m[3 * i + j] += ec[i] * area_n_[3 * t + j];
    for (int j = 0; j < 3; ++j)
      for (int k = j; k < 3; ++k) {
        const double s2 = (ev[0][j] * ev[0][k] + ev[1][j] * ev[1][k] + ev[2][j] * ev[2][k] + 9 * ec[j] * ec[k]) / 12;
        for (int i = 0; i < 3; ++i) node.q[6 * i + kSym[j][k]] += area_n_[3 * t + i] * s2;
      }
  }
  node.begin = begin;
  node.end = end;
  if (end - begin > leaf_size_) {
    int axis = 0;
    for (int a = 1; a < 3; ++a)
      if (chi[a] - clo[a] > chi[axis] - clo[axis]) axis = a;
    const int32_t mid = begin + (end - begin) / 2;
    std::vector<int32_t> idx(static_cast<size_t>(end - begin));
    std::iota(idx.begin(), idx.end(), begin);
    std::nth_element(idx.begin(), idx.begin() + (mid - begin), idx.end(), [&](int32_t x, int32_t y) {
      return centroids[3 * x + axis] < centroids[3 * y + axis];
    });
    // Apply the permutation to the three per-triangle arrays.
    std::vector<double> t9(idx.size() * 9), n3(idx.size() * 3), c3(idx.size() * 3);
    for (size_t k = 0; k < idx.size(); ++k) {
      std::copy_n(tri_.data() + 9 * idx[k], 9, t9.data() + 9 * k);
      std::copy_n(area_n_.data() + 3 * idx[k], 3, n3.data() + 3 * k);
      std::copy_n(centroids.data() + 3 * idx[k], 3, c3.data() + 3 * k);
    }
    std::copy(t9.begin(), t9.end(), tri_.begin() + 9 * begin);
    std::copy(n3.begin(), n3.end(), area_n_.begin() + 3 * begin);
    std::copy(c3.begin(), c3.end(), centroids.begin() + 3 * begin);
    node.left = build(begin, mid, centroids);
    node.right = build(mid, end, centroids);
  }
  nodes_[id] = node;
  return id;
}

// Winding number at p (double[3]).
double FastWinding::query(const double* p) const {
  double half_omega = 0;  // sum of Omega / 2
  int32_t stack[128];
  int sp = 0;
  stack[sp++] = 0;
  while (sp > 0) {
    const Node& nd = nodes_[stack[--sp]];
    const double d[3] = {nd.centre[0] - p[0], nd.centre[1] - p[1], nd.centre[2] - p[2]};
    const double r2 = d[0] * d[0] + d[1] * d[1] + d[2] * d[2];
    const double br = beta_ * nd.radius;
    if (r2 > br * br) {
      const double r = std::sqrt(r2), inv3 = 1.0 / (r2 * r), inv5 = inv3 / r2;
      const double* m = nd.m;
      const double dmd = d[0] * (m[0] * d[0] + m[1] * d[1] + m[2] * d[2]) +
                         d[1] * (m[3] * d[0] + m[4] * d[1] + m[5] * d[2]) +
                         d[2] * (m[6] * d[0] + m[7] * d[1] + m[8] * d[2]);
      // Order 2: a = sum_ik d_k Q_iik, b = sum_i d_i Q_ijj, c = sum_ijk d_i d_j d_k Q_ijk.
      const double* qq = nd.q;
      double a2 = 0, b2 = 0, c2 = 0;
      for (int i = 0; i < 3; ++i) {
        const double* Qi = qq + 6 * i;
        for (int k = 0; k < 3; ++k) a2 += d[k] * Qi[kSym[i][k]];
        b2 += d[i] * (Qi[0] + Qi[3] + Qi[5]);
        const double dQd = Qi[0] * d[0] * d[0] + Qi[3] * d[1] * d[1] + Qi[5] * d[2] * d[2] +
                           2 * (Qi[1] * d[0] * d[1] + Qi[2] * d[0] * d[2] + Qi[4] * d[1] * d[2]);
        c2 += d[i] * dQd;
      }
      const double inv7 = inv5 / r2;
      const double omega = (nd.n[0] * d[0] + nd.n[1] * d[1] + nd.n[2] * d[2]) * inv3 +
                           (m[0] + m[4] + m[8]) * inv3 - 3.0 * dmd * inv5 +
                           0.5 * (-3.0 * (2 * a2 + b2) * inv5 + 15.0 * c2 * inv7);
      half_omega += 0.5 * omega;
    } else if (nd.left < 0) {
      for (int32_t t = nd.begin; t < nd.end; ++t) half_omega += half_solid_angle(tri_.data() + 9 * t, p);
    } else {
      if (sp + 2 > 128) throw std::runtime_error("FastWinding: tree too deep");
      stack[sp++] = nd.left;
      stack[sp++] = nd.right;
    }
  }
  return half_omega / kTwoPi;
}

namespace {

// out[i] = f(points[i]) for [N, 3] points (as double, CPU, in parallel) -> [N] float on points' device.
template <class F>
at::Tensor per_point(const at::Tensor& points, F f) {
  if (!points.defined() || points.dim() != 2 || points.size(1) != 3)
    throw std::runtime_error("FastWinding: points must be [N, 3]");
  const at::Tensor p = points.detach().to(at::kCPU, at::kDouble).contiguous();  // [N, 3]
  const int64_t N = p.size(0);
  at::Tensor out = at::empty({N}, at::TensorOptions().dtype(at::kFloat));  // [N]
  const double* pp = p.data_ptr<double>();
  float* o = out.data_ptr<float>();
  at::parallel_for(0, N, 256, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) o[i] = f(pp + 3 * i);
  });
  return out.to(points.device());
}

}  // namespace

at::Tensor FastWinding::winding_numbers(const at::Tensor& points) const {
  return per_point(points, [&](const double* q) { return static_cast<float>(query(q)); });
}

at::Tensor FastWinding::occupancy(const at::Tensor& points) const {
  return per_point(points, [&](const double* q) {
    bool in_box = true;
    for (int a = 0; a < 3; ++a) in_box = in_box && q[a] >= lo_[a] && q[a] <= hi_[a];
    return in_box && std::abs(query(q)) >= 0.5 ? 1.0f : 0.0f;
  });
}

}  // namespace nf
