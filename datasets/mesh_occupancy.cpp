// Occupancy labels (see mesh_io.h):
// - generalised winding numbers (Jacobson, Kavan, Sorkine-Hornung 2013), brute force O(N * F):
//   w(p) = sum_f Omega_f(p) / (4 pi), with the signed solid angle of triangle (a, b, c) seen
//   from p given by Van Oosterom & Strackee: tan(Omega / 2) = a.(b x c) /
//   (|a||b||c| + (a.b)|c| + (b.c)|a| + (c.a)|b|),   a, b, c relative to p;
// - ray parity: surface crossings along 3 fixed rays counted by Embree (RayCaster::count_hits,
//   datasets/ray_caster.h), majority vote.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "datasets/mesh_io.h"
#include "datasets/mesh_open3d.h"
#include "datasets/ray_caster.h"

namespace nf {
namespace {

constexpr double kTwoPi = 6.283185307179586476925286766559;

// Ray directions for parity votes: fixed, irrational-looking, so rays rarely graze the edges
// or vertices of axis-aligned meshes.
constexpr float kRayDirs[3][3] = {{1.0f, 0.3137f, 0.1729f}, {-0.2718f, 1.0f, 0.4142f},
                                  {0.1618f, -0.5772f, 1.0f}};

// Ray parity through Embree: points [N, 3] float32 CPU -> [N] float {0, 1}, 1 where at least 2
// of the 3 rays cross the surface an odd number of times.
at::Tensor ray_parity(const Mesh& mesh, const at::Tensor& points) {
  const RayCaster caster(mesh);
  at::Tensor votes = at::zeros({points.size(0)}, at::kLong);  // [N]
  for (const auto& d : kRayDirs) {
    const at::Tensor dirs = at::tensor({d[0], d[1], d[2]}, at::kFloat).expand({points.size(0), 3});  // [N, 3]
    votes += caster.count_hits(points, dirs).remainder(2);
  }
  return votes.ge(2).to(at::kFloat);
}

// CPU: parallel over points, double accumulation. tri: [F, 9] double, pts: [N, 3] double.
at::Tensor winding_cpu(const at::Tensor& tri, const at::Tensor& pts) {
  const int64_t F = tri.size(0), N = pts.size(0);
  at::Tensor out = at::empty({N}, at::kDouble);  // [N]
  const double* t = tri.data_ptr<double>();
  const double* p = pts.data_ptr<double>();
  double* o = out.data_ptr<double>();
  at::parallel_for(0, N, 16, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const double px = p[3 * i], py = p[3 * i + 1], pz = p[3 * i + 2];
      double sum = 0.0;
      for (int64_t f = 0; f < F; ++f) {
        const double* q = t + 9 * f;
        const double ax = q[0] - px, ay = q[1] - py, az = q[2] - pz;
        const double bx = q[3] - px, by = q[4] - py, bz = q[5] - pz;
        const double cx = q[6] - px, cy = q[7] - py, cz = q[8] - pz;
        const double la = std::sqrt(ax * ax + ay * ay + az * az);
        const double lb = std::sqrt(bx * bx + by * by + bz * bz);
        const double lc = std::sqrt(cx * cx + cy * cy + cz * cz);
        const double det = ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) +
                           az * (bx * cy - by * cx);
        const double den = la * lb * lc + (ax * bx + ay * by + az * bz) * lc +
                           (bx * cx + by * cy + bz * cz) * la + (cx * ax + cy * ay + cz * az) * lb;
        sum += std::atan2(det, den);
      }
      o[i] = sum / kTwoPi;  // sum of Omega/2, over 2 pi = sum Omega / (4 pi)
    }
  });
  return out;
}

// Any device: chunked tensor ops (used for CUDA points). tri: [F, 9], pts: [N, 3], same device.
at::Tensor winding_tensor(const at::Tensor& tri, const at::Tensor& pts) {
  const int64_t F = tri.size(0), N = pts.size(0);
  const int64_t chunk = std::max<int64_t>(1, (int64_t(1) << 24) / std::max<int64_t>(F, 1));
  const at::Tensor A = tri.slice(1, 0, 3), B = tri.slice(1, 3, 6), C = tri.slice(1, 6, 9);
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < N; s += chunk) {
    const at::Tensor p = pts.slice(0, s, std::min(N, s + chunk)).unsqueeze(1);  // [n, 1, 3]
    const at::Tensor a = A.unsqueeze(0) - p, b = B.unsqueeze(0) - p, c = C.unsqueeze(0) - p;
    const at::Tensor la = a.norm(2, {2}), lb = b.norm(2, {2}), lc = c.norm(2, {2});  // [n, F]
    const at::Tensor det = (a * at::cross(b, c, 2)).sum(2);
    const at::Tensor den = la * lb * lc + (a * b).sum(2) * lc + (b * c).sum(2) * la +
                           (c * a).sum(2) * lb;
    parts.push_back(at::atan2(det, den).sum(1) / kTwoPi);  // [n]
  }
  return parts.empty() ? at::zeros({0}, pts.options()) : at::cat(parts);
}

}  // namespace

at::Tensor winding_numbers(const Mesh& mesh, const at::Tensor& points) {
  if (!points.defined() || points.dim() != 2 || points.size(1) != 3)
    throw std::runtime_error("winding_numbers: points must be [N, 3]");
  const at::Tensor f = mesh.faces.to(at::kLong).reshape(-1);
  const bool cpu = points.is_cpu();
  // [F, 9]: the three corners of every face; double on the CPU, float32 on a GPU.
  const auto dt = cpu ? at::kDouble : at::kFloat;
  const at::Tensor tri = mesh.vertices.to(dt).index_select(0, f).reshape({-1, 9}).contiguous();
  if (cpu) return winding_cpu(tri, points.to(at::kDouble).contiguous()).to(at::kFloat);
  return winding_tensor(tri.to(points.device()), points.to(at::kFloat)).to(at::kFloat);
}

bool built_with_open3d() { return detail::open3d_available(); }

bool have_raycast_occupancy() { return RayCaster::available(); }

at::Tensor occupancy_labels(const Mesh& mesh, const at::Tensor& points,
                            OccupancyMethod method) {
  if (!points.defined() || points.dim() != 2 || points.size(1) != 3)
    throw std::runtime_error("occupancy_labels: points must be [N, 3]");
  validate_mesh(mesh, "occupancy_labels");
  if (method == OccupancyMethod::Auto)
    method = have_raycast_occupancy() ? OccupancyMethod::Raycast : OccupancyMethod::WindingNumber;
  const at::Tensor p = points.detach().to(at::kFloat);  // [N, 3]
  if (method == OccupancyMethod::Raycast) return ray_parity(mesh, p.cpu().contiguous()).to(points.device());
  // Winding numbers only where a point can be inside: within the (slightly padded) bbox.
  const at::Tensor v = mesh.vertices.to(p.device(), at::kFloat);
  const at::Tensor lo = std::get<0>(v.min(0)), hi = std::get<0>(v.max(0));
  const at::Tensor pad = (hi - lo).max() * 1e-4;
  const at::Tensor in_box = (p >= lo - pad).all(1) & (p <= hi + pad).all(1);  // [N]
  const at::Tensor idx = in_box.nonzero().view(-1);
  at::Tensor out = at::zeros({p.size(0)}, p.options());  // [N]
  if (idx.numel() > 0) {
    // |w| >= 0.5: also right for meshes wound inside-out.
    const at::Tensor w = winding_numbers(mesh, p.index_select(0, idx));
    out.index_put_({idx}, w.abs().ge(0.5).to(at::kFloat));
  }
  return out;
}

}  // namespace nf
