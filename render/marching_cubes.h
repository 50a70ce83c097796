#pragma once
// Marching cubes (Lorensen & Cline, 256-case tables in render/mc_tables.h) on a regular grid,
// CPU (at::parallel_for over slices of axis 0) and CUDA (two-pass count / scan / emit).
//
// Grid convention: grid[i][j][k] is the field at the node
//   p = bbox_min + (i, j, k) * (bbox_max - bbox_min) / (N - 1)      (per axis, N = grid.size(a))
// so axis 0 of the grid is x, axis 1 is y, axis 2 is z, and the nodes include both bbox corners.
//
// Inside/outside: a node is inside when value > level (inside_is_greater = true: occupancy,
// density) or value < level (inside_is_greater = false: signed distance, inside < 0). NaN is
// outside. Faces are oriented counter-clockwise seen from outside: the normals (and the
// returned per-vertex `normals`) point out of the inside region, i.e. toward "outside" values.
//
// Topology: one vertex per grid edge crossed by the surface, shared by the (up to 4) cells
// around that edge, so a surface that does not touch the grid border is closed and
// edge-manifold (no welding needed). Output order is canonical and identical on CPU and CUDA:
// vertices sorted by grid-edge id ((i*Ny + j)*Nz + k)*3 + axis, faces by cell id
// (i*(Ny-1) + j)*(Nz-1) + k then by table order.
#include <ATen/ATen.h>

#include <cstdint>
#include <functional>

#include "render/mesh.h"

namespace nf {

// grid: [Nx, Ny, Nz] (any float dtype, converted to float32; Nx, Ny, Nz >= 2), CPU or CUDA.
// bbox_min, bbox_max: [3] (any device/dtype) world-space corners of the grid.
// Returns vertices [V, 3] float, faces [F, 3] int64, normals [V, 3] (area-weighted, outward)
// on grid's device; colors undefined. An empty surface gives V = F = 0.
Mesh marching_cubes(const at::Tensor& grid, double level, const at::Tensor& bbox_min,
                    const at::Tensor& bbox_max, bool inside_is_greater = true);

// A field evaluated at points: [N, 3] float -> [N] (or [N, 1]) values.
using FieldFn = std::function<at::Tensor(const at::Tensor&)>;

// Samples field_fn on the resolution^3 node grid of the bbox (same node positions as
// marching_cubes), block^3 nodes per call, under no-grad. Points are created on bbox_min's
// device. Returns [resolution, resolution, resolution] float on that device.
at::Tensor sample_grid(const FieldFn& field_fn, int64_t resolution, const at::Tensor& bbox_min,
                       const at::Tensor& bbox_max, int64_t block = 64);

// sample_grid + marching_cubes. Memory: the network sees at most block^3 points per call (the
// activations stay bounded); the float grid itself is kept whole (512^3 -> 512 MiB), which
// keeps the result identical to marching_cubes on the full grid.
// For norm layers evaluate in `frozen` mode so the result does not depend on the blocking.
Mesh extract_mesh(const FieldFn& field_fn, int64_t resolution, double level,
                  const at::Tensor& bbox_min, const at::Tensor& bbox_max, int64_t block = 64,
                  bool inside_is_greater = true);

}  // namespace nf
