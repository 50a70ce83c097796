#pragma once
// Chamfer distance between surfaces as DTU's evaluation measures it: sample the surfaces at a given
// density, thin the samples with a radius, then mean nearest-neighbour distances both ways
// (nanoflann KD-trees). Meshes are passed as vertex / face tensors (any mesh type has them).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace nf {

// Uniform random points on a triangle mesh: round(area * density) points (at least 1), triangles
// chosen with probability proportional to their area, uniform barycentric coordinates inside.
// Deterministic for a given seed. vertices: [V, 3] float; faces: [F, 3] int64 -> [N, 3] float32.
// Throws for density <= 0, a mesh of zero area or more than 1e8 points.
at::Tensor sample_surface(const at::Tensor& vertices, const at::Tensor& faces, double density,
                          uint64_t seed = 0);

// Greedy thinning as DTU's eval.py does it: walk the points in order; a point still kept removes
// every other point within `radius` of it. points: [N, 3] -> [M, 3] (same dtype; order kept).
at::Tensor radius_downsample(const at::Tensor& points, double radius);

// Distance from each query to its nearest point (KD-tree). queries: [Q, 3]; points: [N, 3], N > 0.
// -> [Q] float64
at::Tensor nearest_distances(const at::Tensor& queries, const at::Tensor& points);

struct ChamferResult {
  double accuracy = 0;      // mean over pred of the distance to gt (pred -> gt)
  double completeness = 0;  // mean over gt of the distance to pred (gt -> pred)
  double overall = 0;       // (accuracy + completeness) / 2
  int64_t n_pred = 0, n_gt = 0;
};

// Chamfer distances with each nearest-neighbour distance capped at max_dist (> 0; pass infinity for
// no cap). drop_far = true leaves distances >= max_dist out of the means instead, as DTU's eval.py
// does (a side with no distance left has mean 0). pred: [P, 3]; gt: [G, 3]; both non-empty.
ChamferResult chamfer(const at::Tensor& pred, const at::Tensor& gt, double max_dist, bool drop_far = false);

// A point cloud from a file: a PLY with vertices only (no faces) gives its vertices; a mesh (.obj,
// or .ply with faces) is sampled with sample_surface(density, seed). -> [N, 3] float32.
// Errors are one line naming the file.
at::Tensor load_points(const std::string& path, double density, uint64_t seed = 0);

}  // namespace nf
