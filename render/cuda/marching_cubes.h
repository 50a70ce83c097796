#pragma once
// CUDA marching cubes launchers (render/cuda/marching_cubes.cu). Plain header: no CUDA or
// torch types. All pointers are device pointers; `stream` is a cudaStream_t (nullptr = legacy
// default stream). Functions returning a count synchronise the stream.
//
// Pipeline (the host glue in render/marching_cubes.cpp allocates every output):
//   nv = mc_count_vertices(g)                      crossing grid edges
//   mc_emit_vertices(g, edge_ids[nv], vertices[nv,3])
//   na = mc_count_active_cells(g)                  cells with >= 1 triangle
//   nf = mc_scan_active_cells(g, cells[na], tri_offsets[na + 1])
//   mc_emit_faces(g, cells, tri_offsets, na, edge_ids, nv, faces[nf,3])
// Results equal the CPU path exactly (same order, same float formulas; see mc_tables.h).
#include <cstdint>

namespace nf::cuda {

struct McGrid {
  const float* values;     // [nx, ny, nz] contiguous, device
  int64_t nx, ny, nz;      // >= 2 each
  float level;             // iso level
  bool inside_is_greater;  // inside = value > level (else value < level)
  float bmin[3];           // world position of node (0, 0, 0)
  float step[3];           // node spacing per axis
};

// Number of grid edges whose end nodes differ in inside-ness (= number of output vertices).
int64_t mc_count_vertices(const McGrid& g, void* stream);

// edge_ids: [n_vertices] int64 out, the crossing edge ids ((i*ny + j)*nz + k)*3 + axis, ascending.
// vertices: [n_vertices, 3] float out, the interpolated crossing points.
void mc_emit_vertices(const McGrid& g, int64_t* edge_ids, float* vertices, int64_t n_vertices,
                      void* stream);

// Number of cells whose case has at least one triangle.
int64_t mc_count_active_cells(const McGrid& g, void* stream);

// cells: [n_active] int64 out, active cell ids (i*(ny-1) + j)*(nz-1) + k ascending;
// tri_offsets: [n_active + 1] int64 out, exclusive scan of their triangle counts (the last
// entry is the total). Returns the total number of triangles.
int64_t mc_scan_active_cells(const McGrid& g, int64_t* cells, int64_t* tri_offsets,
                             int64_t n_active, void* stream);

// faces: [n_faces, 3] int64 out, vertex indices (into the edge_ids order), outward winding.
// cells, tri_offsets: as filled by mc_scan_active_cells; edge_ids: as filled by mc_emit_vertices.
void mc_emit_faces(const McGrid& g, const int64_t* cells, const int64_t* tri_offsets,
                   int64_t n_active, const int64_t* edge_ids, int64_t n_vertices, int64_t* faces,
                   void* stream);

}  // namespace nf::cuda
