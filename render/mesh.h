#pragma once
// Writing meshes (PLY, OBJ) and small topology utilities for nf::Mesh (fields/mesh.h: the one
// mesh type, its orientation convention and why it lives in fields/).
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "fields/mesh.h"

namespace nf {

// Binary little-endian PLY: x y z [nx ny nz] [red green blue (uchar)], faces as
// `list uchar int vertex_indices`. Writes `path.tmp` and renames it over `path` (atomic);
// errors are one line naming the file. Tensors may live on any device.
void write_ply(const std::string& path, const Mesh& mesh);

// Wavefront OBJ: `v x y z [r g b]`, `vn` lines when normals exist, 1-based `f a//a b//b c//c`
// (or `f a b c` without normals). Atomic like write_ply.
void write_obj(const std::string& path, const Mesh& mesh);

// Area-weighted vertex normals from the face winding (outward for normfield meshes).
// Returns [V, 3] float unit vectors (zero for vertices without faces), on the mesh's device.
at::Tensor compute_vertex_normals(const Mesh& mesh);

// Undirected edges of the mesh, each once: [E, 2] int64 with e[0] < e[1], sorted.
// `counts` (optional out) receives [E] int64: how many faces use each edge.
at::Tensor unique_edges(const Mesh& mesh, at::Tensor* counts = nullptr);

// V - E + F (V counts every vertex, referenced or not). 2 for a closed sphere-like surface.
int64_t euler_characteristic(const Mesh& mesh);

// Edges used by exactly one face (0 for a closed surface).
int64_t count_boundary_edges(const Mesh& mesh);

// Edges used by more than two faces (0 for a 2-manifold).
int64_t count_nonmanifold_edges(const Mesh& mesh);

// Total triangle area.
double surface_area(const Mesh& mesh);

// Signed enclosed volume (divergence theorem); positive for a closed, outward-oriented mesh.
double signed_volume(const Mesh& mesh);

// Merges vertices that snap to the same cell of a `tol` grid (exact duplicates always merge),
// averaging their positions / normals / colours, remaps faces and drops faces that became
// degenerate. The merged vertices keep the order of their first occurrence.
// Marching cubes here already shares vertices, so this is for meshes from other sources.
Mesh weld_vertices(const Mesh& mesh, double tol = 1e-7);

}  // namespace nf
