#pragma once
// Chamfer distance between surfaces as DTU's evaluation measures it: sample the surfaces at a given
// density, thin the samples with a radius, then mean nearest-neighbour distances both ways
// (nanoflann KD-trees). Meshes are nf::Mesh (fields/mesh.h; only vertices and faces are used).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "fields/mesh.h"

namespace nf {

// Uniform random points on a triangle mesh: round(area * density) points (at least 1), triangles
// chosen with probability proportional to their area, uniform barycentric coordinates inside.
// Deterministic for a given seed. mesh: vertices [V, 3] float, faces [F, 3] int64, any device
// -> [N, 3] float32 on the CPU. Throws for density <= 0, a mesh of zero area or more than 1e8 points.
at::Tensor sample_surface(const Mesh& mesh, double density, uint64_t seed = 0);

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

struct MeshChamferOptions {
  double radius = 0;         // downsample radius (DTU: 0.2 mm); > 0, in scene units
  double density = 0;        // surface samples per unit area; 0 = 4 / radius^2 (~DTU's spacing)
  double max_dist = 0;       // cap (DTU: 20 mm); 0 = 100 * radius
  bool drop_far = false;     // leave distances >= max_dist out (DTU eval.py) instead of capping
  uint64_t seed = 0;
};

// The DTU protocol for a mesh against ground-truth points: sample the mesh at `density`, thin the
// samples and the ground truth with `radius`, then chamfer(max_dist). gt_points: [G, 3] (e.g.
// load_points of the reference mesh or scan).
ChamferResult mesh_chamfer(const Mesh& mesh, const at::Tensor& gt_points, const MeshChamferOptions& o);

// A point cloud from a file: a PLY with vertices only (no faces) gives its vertices; a mesh (.obj,
// or .ply with faces) is sampled with sample_surface(density, seed). -> [N, 3] float32.
// Errors are one line naming the file.
at::Tensor load_points(const std::string& path, double density, uint64_t seed = 0);

}  // namespace nf
