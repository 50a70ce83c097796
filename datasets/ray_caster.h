#pragma once
// Ray-triangle-mesh intersection through Embree 3: the first hit along each ray (make-scene's
// images) and the number of surface crossings along each ray (ray-parity occupancy, mesh_io.h).
// Open3D's bundled RaycastingScene finds no hits on Debian (Debian's Open3D 0.16 casts rays with
// mask 0 against an Embree built with ray masks); this uses Embree directly, with every ray's mask
// set so that masked-ray builds hit too.
#include <ATen/ATen.h>

#include <memory>

#include "fields/mesh.h"

namespace nf {

struct RayHits {
  at::Tensor t;     // [N] float32 distance along the (unit or not) direction; +inf on a miss
  at::Tensor face;  // [N] int64 index of the hit triangle; -1 on a miss
};

class RayCaster {
 public:
  // mesh: vertices [V, 3] float, faces [F, 3] int64 in [0, V), any device (copied to Embree's
  // buffers). Builds the BVH (throws one line when normfield was built without Embree, or for
  // malformed inputs).
  explicit RayCaster(const Mesh& mesh);
  ~RayCaster();
  RayCaster(const RayCaster&) = delete;
  RayCaster& operator=(const RayCaster&) = delete;

  // First hit of each ray origin + t * dir with t in [t_near, inf). origins, dirs: [N, 3] float
  // (CPU). Parallel over rays.
  RayHits intersect(const at::Tensor& origins, const at::Tensor& dirs, float t_near = 0.0f) const;

  // Number of surface crossings along each ray origin + t * dir, t >= 0: first hits, each search
  // continuing 1e-6 mesh diagonals past the last hit, so a ray through an edge or vertex shared
  // by several faces counts one crossing there. origins, dirs: [N, 3] float (CPU) -> [N] int64
  // (0 for a zero direction). Parallel over rays.
  at::Tensor count_hits(const at::Tensor& origins, const at::Tensor& dirs) const;

  // True when normfield was built with Embree.
  static bool available();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nf
