#pragma once
// Ray-triangle-mesh intersection through Embree 3 (the first hit along each ray).
// Open3D's bundled RaycastingScene finds no hits on Debian (see mesh_io.h); this uses Embree
// directly, with every ray's mask set so that masked-ray builds hit too.
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

  // True when normfield was built with Embree.
  static bool available();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace nf
