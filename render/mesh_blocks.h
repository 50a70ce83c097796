#pragma once
// Marching cubes of a field in slabs: bounded memory at any resolution.
//
// extract_mesh (render/marching_cubes.h) keeps the whole resolution^3 float grid (512^3: 512 MiB).
// extract_mesh_blockwise walks the grid in slabs along x: slab s samples node layers
// [s block, (s + 1) block) x R x R (the same field calls of at most block^3 points as sample_grid
// makes), prepends the previous slab's last node layer (not evaluated again), runs marching_cubes on
// that and stitches: a vertex lives on a grid edge, the edges of a shared node layer belong to the
// later slab, and faces refer to vertices by their global edge id.
// Memory: one slab of floats (and its [block + 1, R, R, 3] crossing mask) plus the mesh; at R = 512,
// block = 64 about 140 MB (65 x 512^2 floats + the crossing mask) instead of 512 MiB.
//
// Result: bit for bit marching_cubes(sample_grid(field_fn, R, .., block)) on the whole grid (the
// same field calls, vertex order by grid-edge id, face order by cell id, the same float formula for
// the vertex positions). For a field whose value at a point does not depend on the other points of
// the call (frozen norm mode) the mesh then does not depend on the block size.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>
#include <stdexcept>

#include "render/marching_cubes.h"
#include "render/mesh.h"

namespace nf {

struct BlockMeshOptions {
  int64_t resolution = 128;        // nodes per axis (>= 2), node convention of marching_cubes.h
  double level = 0;                // iso level
  bool inside_is_greater = true;   // density / occupancy: inside > level; SDF: false (inside < level)
  int64_t block = 64;              // >= 1: node layers per slab; field calls of at most block^3 points
  bool close_border = false;       // the outermost node layer counts as outside (value moved to
                                   // level -/+ 1): the surface cannot leave the box, the mesh is closed
  // Called after every slab with the fraction done (0, 1]; returning false stops the extraction
  // (extract_mesh_blockwise then throws MeshCancelled).
  std::function<bool(double)> progress;
};

// Thrown when BlockMeshOptions::progress asked to stop.
struct MeshCancelled : std::runtime_error {
  MeshCancelled() : std::runtime_error("mesh extraction cancelled") {}
};

// field_fn: [N, 3] float -> [N] (or [N, 1]); points are made on bbox_min's device.
// bbox_min, bbox_max: [3]. Returns vertices [V, 3] float, faces [F, 3] int64, normals [V, 3]
// (outward) on bbox_min's device; an empty surface gives V = F = 0. Runs without grad.
Mesh extract_mesh_blockwise(const FieldFn& field_fn, const at::Tensor& bbox_min, const at::Tensor& bbox_max,
                            const BlockMeshOptions& options);

}  // namespace nf
