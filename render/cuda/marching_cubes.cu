// CUDA marching cubes: see render/cuda/marching_cubes.h for the pipeline and contracts.
// Edge- and cell-level predicates run through thrust (count_if / copy_if / exclusive_scan on
// counting iterators, so no per-node or per-cell buffer is allocated: memory is the grid plus
// the outputs plus thrust's temporaries). Vertex ids of cell edges are found by binary search
// in the sorted crossing-edge list. Tables live in __constant__ memory (mc_tables.h).
#include "render/cuda/marching_cubes.h"

#include <cuda_runtime.h>
#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/execution_policy.h>
#include <thrust/iterator/counting_iterator.h>
#include <thrust/iterator/transform_iterator.h>
#include <thrust/scan.h>

#include <stdexcept>
#include <string>

#include "render/mc_tables.h"

namespace nf::cuda {
namespace {

void check(cudaError_t err, const char* what) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("marching_cubes (CUDA): ") + what + ": " +
                             cudaGetErrorString(err));
}

inline auto policy(void* stream) {
  return thrust::cuda::par.on(static_cast<cudaStream_t>(stream));
}

// Case index of cell c (bit b set when corner b is inside).
__device__ inline int cell_case(const McGrid& g, int64_t c, int64_t& i, int64_t& j, int64_t& k) {
  const int64_t cy = g.ny - 1, cz = g.nz - 1;
  i = c / (cy * cz);
  j = (c / cz) % cy;
  k = c % cz;
  int cube = 0;
  for (int b = 0; b < 8; ++b) {
    const int64_t n = ((i + mc::kMcCorner[b][0]) * g.ny + (j + mc::kMcCorner[b][1])) * g.nz +
                      (k + mc::kMcCorner[b][2]);
    if (mc::mc_inside(g.values[n], g.level, g.inside_is_greater)) cube |= 1 << b;
  }
  return cube;
}

// True when grid edge e = node * 3 + axis is crossed by the surface.
struct EdgeCrossing {
  McGrid g;
  __device__ bool operator()(int64_t e) const {
    const int64_t node = e / 3;
    const int axis = static_cast<int>(e % 3);
    const int64_t i = node / (g.ny * g.nz), j = (node / g.nz) % g.ny, k = node % g.nz;
    int64_t stride;
    if (axis == 0) {
      if (i + 1 >= g.nx) return false;
      stride = g.ny * g.nz;
    } else if (axis == 1) {
      if (j + 1 >= g.ny) return false;
      stride = g.nz;
    } else {
      if (k + 1 >= g.nz) return false;
      stride = 1;
    }
    return mc::mc_inside(g.values[node], g.level, g.inside_is_greater) !=
           mc::mc_inside(g.values[node + stride], g.level, g.inside_is_greater);
  }
};

// True when cell c has at least one triangle.
struct CellActive {
  McGrid g;
  __device__ bool operator()(int64_t c) const {
    int64_t i, j, k;
    return mc::kMcTriCount[cell_case(g, c, i, j, k)] > 0;
  }
};

// Triangle count of the active cell cells[t]; 0 for t == n (the scan's total slot).
struct CellTriCount {
  McGrid g;
  const int64_t* cells;
  int64_t n;
  __device__ int64_t operator()(int64_t t) const {
    if (t >= n) return 0;
    int64_t i, j, k;
    return mc::kMcTriCount[cell_case(g, cells[t], i, j, k)];
  }
};

// One thread per crossing edge: edge_ids [n] -> vertices [n, 3].
__global__ void emit_vertices_kernel(McGrid g, const int64_t* edge_ids, float* vertices,
                                     int64_t n) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t >= n) return;
  const int64_t e = edge_ids[t], node = e / 3;
  const int axis = static_cast<int>(e % 3);
  const int64_t idx[3] = {node / (g.ny * g.nz), (node / g.nz) % g.ny, node % g.nz};
  const int64_t stride = axis == 0 ? g.ny * g.nz : (axis == 1 ? g.nz : 1);
  const float tt = mc::mc_edge_t(g.values[node], g.values[node + stride], g.level);
  for (int a = 0; a < 3; ++a)
    vertices[3 * t + a] = mc::mc_coord(g.bmin[a], g.step[a], idx[a], a == axis ? tt : 0.0f);
}

// Index of `key` in the ascending array ids [n] (it is always present).
__device__ inline int64_t find_edge(const int64_t* ids, int64_t n, int64_t key) {
  int64_t lo = 0, hi = n - 1;
  while (lo < hi) {
    const int64_t mid = (lo + hi) >> 1;
    if (ids[mid] < key) lo = mid + 1; else hi = mid;
  }
  return lo;
}

// One thread per active cell: writes its triangles at tri_offsets[t], winding (a, c, b).
__global__ void emit_faces_kernel(McGrid g, const int64_t* cells, const int64_t* tri_offsets,
                                  int64_t n_active, const int64_t* edge_ids, int64_t n_vertices,
                                  int64_t* faces) {
  const int64_t t = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x;
  if (t >= n_active) return;
  int64_t i, j, k;
  const int cube = cell_case(g, cells[t], i, j, k);
  int64_t out = tri_offsets[t];
  for (int s = 0; s < 15 && mc::kMcTriTable[cube][s] >= 0; s += 3, ++out) {
    int64_t v[3];
    for (int q = 0; q < 3; ++q) {
      const int e = mc::kMcTriTable[cube][s + q];
      const int64_t node = ((i + mc::kMcEdge[e][0]) * g.ny + (j + mc::kMcEdge[e][1])) * g.nz +
                           (k + mc::kMcEdge[e][2]);
      v[q] = find_edge(edge_ids, n_vertices, node * 3 + mc::kMcEdge[e][3]);
    }
    faces[3 * out + 0] = v[0];
    faces[3 * out + 1] = v[2];
    faces[3 * out + 2] = v[1];
  }
}

int64_t num_edges(const McGrid& g) { return g.nx * g.ny * g.nz * 3; }
int64_t num_cells(const McGrid& g) { return (g.nx - 1) * (g.ny - 1) * (g.nz - 1); }
unsigned blocks_for(int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

}  // namespace

int64_t mc_count_vertices(const McGrid& g, void* stream) {
  thrust::counting_iterator<int64_t> first(0);
  return thrust::count_if(policy(stream), first, first + num_edges(g), EdgeCrossing{g});
}

void mc_emit_vertices(const McGrid& g, int64_t* edge_ids, float* vertices, int64_t n_vertices,
                      void* stream) {
  if (n_vertices == 0) return;
  thrust::counting_iterator<int64_t> first(0);
  thrust::copy_if(policy(stream), first, first + num_edges(g), edge_ids, EdgeCrossing{g});
  const int threads = 256;
  emit_vertices_kernel<<<blocks_for(n_vertices, threads), threads, 0,
                         static_cast<cudaStream_t>(stream)>>>(g, edge_ids, vertices, n_vertices);
  check(cudaGetLastError(), "emit_vertices launch");
}

int64_t mc_count_active_cells(const McGrid& g, void* stream) {
  thrust::counting_iterator<int64_t> first(0);
  return thrust::count_if(policy(stream), first, first + num_cells(g), CellActive{g});
}

int64_t mc_scan_active_cells(const McGrid& g, int64_t* cells, int64_t* tri_offsets,
                             int64_t n_active, void* stream) {
  if (n_active == 0) return 0;
  thrust::counting_iterator<int64_t> first(0);
  thrust::copy_if(policy(stream), first, first + num_cells(g), cells, CellActive{g});
  // Scan n_active + 1 counts (the extra one is 0), so tri_offsets[n_active] is the total.
  auto counts = thrust::make_transform_iterator(first, CellTriCount{g, cells, n_active});
  thrust::exclusive_scan(policy(stream), counts, counts + n_active + 1, tri_offsets, int64_t(0));
  int64_t total = 0;
  auto s = static_cast<cudaStream_t>(stream);
  check(cudaMemcpyAsync(&total, tri_offsets + n_active, sizeof(int64_t), cudaMemcpyDeviceToHost,
                        s), "copy triangle count");
  check(cudaStreamSynchronize(s), "synchronize");
  return total;
}

void mc_emit_faces(const McGrid& g, const int64_t* cells, const int64_t* tri_offsets,
                   int64_t n_active, const int64_t* edge_ids, int64_t n_vertices, int64_t* faces,
                   void* stream) {
  if (n_active == 0) return;
  const int threads = 128;
  emit_faces_kernel<<<blocks_for(n_active, threads), threads, 0,
                      static_cast<cudaStream_t>(stream)>>>(g, cells, tri_offsets, n_active,
                                                           edge_ids, n_vertices, faces);
  check(cudaGetLastError(), "emit_faces launch");
}

}  // namespace nf::cuda
