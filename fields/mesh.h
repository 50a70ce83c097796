#pragma once
// nf::Mesh, the one triangle-mesh type of normfield: loaders (datasets/mesh_io.h) return it,
// marching cubes (render/marching_cubes.h) produces it, writers and topology utilities
// (render/mesh.h), chamfer, make-scene, occupancy and the fuzz harnesses take it.
//
// Why it lives in fields/: it is a plain struct of tensors (ATen only), and both render/ (which
// makes and writes meshes) and datasets/ (which reads and measures them) need it. render and
// datasets are siblings (app -> tasks -> {render, datasets} -> fields); putting the struct in the
// library both already depend on keeps them siblings instead of making datasets depend on all of
// render (cameras, volume rendering, CUDA kernels) for one struct. The functions that work on a
// mesh stay with their library: I/O of mesh files in datasets (read) and render (write).
//
// Orientation convention used throughout normfield: faces are counter-clockwise seen from
// outside, so the geometric normal (b - a) x (c - a) points out of the enclosed volume.
#include <ATen/ATen.h>

#include <cstdint>

namespace nf {

struct Mesh {
  at::Tensor vertices;  // [V, 3] float (loaders: float32 on the CPU)
  at::Tensor faces;     // [F, 3] int64, indices into vertices
  at::Tensor normals;   // [V, 3] float unit vectors, or undefined
  at::Tensor colors;    // [V, 3] float in [0, 1], or undefined

  int64_t num_vertices() const { return vertices.defined() ? vertices.size(0) : 0; }
  int64_t num_faces() const { return faces.defined() ? faces.size(0) : 0; }
};

}  // namespace nf
