#pragma once
// Triangle meshes produced by marching cubes: export (PLY, OBJ) and small topology utilities.
//
// Orientation convention used throughout normfield: faces are counter-clockwise seen from
// outside, so the geometric normal (b - a) x (c - a) points out of the enclosed volume.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

namespace nf {

struct Mesh {
  at::Tensor vertices;  // [V, 3] float
  at::Tensor faces;     // [F, 3] int64, indices into vertices
  at::Tensor normals;   // [V, 3] float unit vectors, or undefined
  at::Tensor colors;    // [V, 3] float in [0, 1], or undefined

  int64_t num_vertices() const { return vertices.defined() ? vertices.size(0) : 0; }
  int64_t num_faces() const { return faces.defined() ? faces.size(0) : 0; }
};

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
