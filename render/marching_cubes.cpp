// Marching cubes: CPU path (the oracle), CUDA dispatch, and block-wise field sampling.
// See marching_cubes.h for conventions and render/mc_tables.h for the tables.
//
// CPU algorithm, parallel over slices i of grid axis 0 (at::parallel_for):
//  1. count, per slice i, the crossing edges owned by its nodes (edge (i,j,k,axis) belongs to
//     slice i) and the triangles of its cells (i, *, *);
//  2. exclusive prefix sums over slices give each slice its first vertex and face index;
//  3. each slice writes its vertices (in edge-id order) and, using a per-slice map from
//     (j, k, axis) to vertex id for slices i and i+1, its triangles.
// Memory beyond the output: two [Ny*Nz*3] int64 maps per worker thread.
#include "render/marching_cubes.h"

#include <ATen/Parallel.h>
#include <c10/core/DeviceGuard.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <array>
#include <stdexcept>
#include <string>
#include <vector>

#include "fields/compat.h"
#include "render/mc_tables.h"

#ifdef NORMFIELD_WITH_CUDA
#include "render/cuda/marching_cubes.h"
#endif

namespace nf {
namespace {

struct CpuGrid {
  const float* v;  // [nx, ny, nz]
  int64_t nx, ny, nz;
  float level;
  bool greater;
  float bmin[3], step[3];

  bool in(int64_t node) const { return mc::mc_inside(v[node], level, greater); }
  int64_t node(int64_t i, int64_t j, int64_t k) const { return (i * ny + j) * nz + k; }
  // Whether edge (node at (i,j,k), axis) exists and is crossed.
  bool crossing(int64_t i, int64_t j, int64_t k, int axis) const {
    const int64_t n = node(i, j, k);
    if (axis == 0) return i + 1 < nx && in(n) != in(n + ny * nz);
    if (axis == 1) return j + 1 < ny && in(n) != in(n + nz);
    return k + 1 < nz && in(n) != in(n + 1);
  }
  int cell_case(int64_t i, int64_t j, int64_t k) const {
    int cube = 0;
    for (int b = 0; b < 8; ++b)
      if (in(node(i + mc::kMcCorner[b][0], j + mc::kMcCorner[b][1], k + mc::kMcCorner[b][2])))
        cube |= 1 << b;
    return cube;
  }
};

// Fills map [ny*nz*3] with the vertex id of every crossing edge of slice i (others -1), ids
// starting at first_vertex in edge-id order; optionally writes the vertex positions.
void slice_vertices(const CpuGrid& g, int64_t i, int64_t first_vertex, std::vector<int64_t>& map,
                    float* vertices /* [V, 3] or nullptr */) {
  int64_t id = first_vertex;
  for (int64_t j = 0; j < g.ny; ++j)
    for (int64_t k = 0; k < g.nz; ++k)
      for (int a = 0; a < 3; ++a) {
        const int64_t slot = (j * g.nz + k) * 3 + a;
        if (!g.crossing(i, j, k, a)) {
          map[slot] = -1;
          continue;
        }
        map[slot] = id;
        if (vertices) {
          const int64_t n = g.node(i, j, k);
          const int64_t stride = a == 0 ? g.ny * g.nz : (a == 1 ? g.nz : 1);
          const float t = mc::mc_edge_t(g.v[n], g.v[n + stride], g.level);
          const int64_t idx[3] = {i, j, k};
          for (int c = 0; c < 3; ++c)
            vertices[3 * id + c] = mc::mc_coord(g.bmin[c], g.step[c], idx[c], c == a ? t : 0.0f);
        }
        ++id;
      }
}

Mesh marching_cubes_cpu(const CpuGrid& g, const at::TensorOptions& fopt) {
  std::vector<int64_t> vcount(g.nx, 0), tcount(g.nx, 0);
  at::parallel_for(0, g.nx, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      int64_t nv = 0, nt = 0;
      for (int64_t j = 0; j < g.ny; ++j)
        for (int64_t k = 0; k < g.nz; ++k) {
          for (int a = 0; a < 3; ++a) nv += g.crossing(i, j, k, a);
          if (i + 1 < g.nx && j + 1 < g.ny && k + 1 < g.nz)
            nt += mc::kMcTriCount[g.cell_case(i, j, k)];
        }
      vcount[i] = nv;
      tcount[i] = nt;
    }
  });
  std::vector<int64_t> voff(g.nx + 1, 0), toff(g.nx + 1, 0);
  for (int64_t i = 0; i < g.nx; ++i) {
    voff[i + 1] = voff[i] + vcount[i];
    toff[i + 1] = toff[i] + tcount[i];
  }
  Mesh mesh;
  mesh.vertices = at::empty({voff[g.nx], 3}, fopt);                     // [V, 3]
  mesh.faces = at::empty({toff[g.nx], 3}, fopt.dtype(at::kLong));       // [F, 3]
  float* vp = mesh.vertices.data_ptr<float>();
  int64_t* fp = mesh.faces.data_ptr<int64_t>();
  at::parallel_for(0, g.nx, 1, [&](int64_t begin, int64_t end) {
    std::vector<int64_t> map0(g.ny * g.nz * 3), map1(g.ny * g.nz * 3);
    for (int64_t i = begin; i < end; ++i) {
      slice_vertices(g, i, voff[i], map0, vp);
      if (i + 1 >= g.nx) continue;
      slice_vertices(g, i + 1, voff[i + 1], map1, nullptr);
      int64_t out = toff[i];
      for (int64_t j = 0; j + 1 < g.ny; ++j)
        for (int64_t k = 0; k + 1 < g.nz; ++k) {
          const int cube = g.cell_case(i, j, k);
          for (int s = 0; s < 15 && mc::kMcTriTable[cube][s] >= 0; s += 3, ++out) {
            int64_t v[3];
            for (int q = 0; q < 3; ++q) {
              const int* e = mc::kMcEdge[mc::kMcTriTable[cube][s + q]];
              const auto& map = e[0] ? map1 : map0;
              v[q] = map[((j + e[1]) * g.nz + (k + e[2])) * 3 + e[3]];
            }
            // The table's winding faces the inside; (a, c, b) makes normals point outward.
            fp[3 * out + 0] = v[0];
            fp[3 * out + 1] = v[2];
            fp[3 * out + 2] = v[1];
          }
        }
    }
  });
  return mesh;
}

#ifdef NORMFIELD_WITH_CUDA
Mesh marching_cubes_cuda(const cuda::McGrid& g, const at::TensorOptions& fopt) {
  void* stream = current_cuda_stream();
  const auto lopt = fopt.dtype(at::kLong);
  Mesh mesh;
  const int64_t nv = cuda::mc_count_vertices(g, stream);
  at::Tensor edge_ids = at::empty({nv}, lopt);  // [V]
  mesh.vertices = at::empty({nv, 3}, fopt);     // [V, 3]
  cuda::mc_emit_vertices(g, edge_ids.data_ptr<int64_t>(), mesh.vertices.data_ptr<float>(), nv,
                         stream);
  const int64_t na = cuda::mc_count_active_cells(g, stream);
  at::Tensor cells = at::empty({na}, lopt);            // [A]
  at::Tensor tri_offsets = at::empty({na + 1}, lopt);  // [A + 1]
  const int64_t nf = cuda::mc_scan_active_cells(g, cells.data_ptr<int64_t>(),
                                                tri_offsets.data_ptr<int64_t>(), na, stream);
  mesh.faces = at::empty({nf, 3}, lopt);  // [F, 3]
  cuda::mc_emit_faces(g, cells.data_ptr<int64_t>(), tri_offsets.data_ptr<int64_t>(), na,
                      edge_ids.data_ptr<int64_t>(), nv, mesh.faces.data_ptr<int64_t>(), stream);
  return mesh;
}
#endif

// bbox tensor [3] -> host doubles, with a one-line error naming the argument.
std::array<double, 3> bbox3(const at::Tensor& t, const char* name) {
  if (!t.defined() || t.numel() != 3)
    throw std::runtime_error(std::string("marching_cubes: ") + name + " must have 3 elements");
  const at::Tensor h = t.detach().to(at::kCPU, at::kDouble).contiguous().view({3});
  return {h[0].item<double>(), h[1].item<double>(), h[2].item<double>()};
}

}  // namespace

Mesh marching_cubes(const at::Tensor& grid, double level, const at::Tensor& bbox_min,
                    const at::Tensor& bbox_max, bool inside_is_greater) {
  if (!grid.defined() || grid.dim() != 3 || grid.size(0) < 2 || grid.size(1) < 2 ||
      grid.size(2) < 2)
    throw std::runtime_error("marching_cubes: grid must be [Nx, Ny, Nz] with every N >= 2");
  const auto lo = bbox3(bbox_min, "bbox_min"), hi = bbox3(bbox_max, "bbox_max");
  const at::Tensor g = grid.detach().to(at::kFloat).contiguous();  // [Nx, Ny, Nz]
  const c10::DeviceGuard guard(g.device());
  const int64_t n[3] = {g.size(0), g.size(1), g.size(2)};
  float bmin[3], step[3];
  for (int a = 0; a < 3; ++a) {
    bmin[a] = static_cast<float>(lo[a]);
    step[a] = static_cast<float>((hi[a] - lo[a]) / static_cast<double>(n[a] - 1));
  }
  const auto fopt = g.options().dtype(at::kFloat);
  Mesh mesh;
#ifdef NORMFIELD_WITH_CUDA
  if (cuda_dispatch(g)) {
    cuda::McGrid cg{g.data_ptr<float>(), n[0], n[1], n[2], static_cast<float>(level),
                    inside_is_greater, {bmin[0], bmin[1], bmin[2]}, {step[0], step[1], step[2]}};
    mesh = marching_cubes_cuda(cg, fopt);
  } else
#endif
  {
    if (!g.is_cpu()) throw std::runtime_error("marching_cubes: grid on an unsupported device");
    CpuGrid cg{g.data_ptr<float>(), n[0], n[1], n[2], static_cast<float>(level),
               inside_is_greater, {bmin[0], bmin[1], bmin[2]}, {step[0], step[1], step[2]}};
    mesh = marching_cubes_cpu(cg, fopt);
  }
  mesh.normals = compute_vertex_normals(mesh);
  return mesh;
}

at::Tensor sample_grid(const FieldFn& field_fn, int64_t resolution, const at::Tensor& bbox_min,
                       const at::Tensor& bbox_max, int64_t block) {
  if (resolution < 2) throw std::runtime_error("extract_mesh: resolution must be >= 2");
  if (block < 1) throw std::runtime_error("extract_mesh: block must be >= 1");
  const auto lo = bbox3(bbox_min, "bbox_min"), hi = bbox3(bbox_max, "bbox_max");
  const auto fopt = at::TensorOptions().dtype(at::kFloat).device(bbox_min.device());
  // Node coordinates per axis, same formula as the vertices: bmin + idx * step (float).
  std::vector<at::Tensor> axis(3);
  for (int a = 0; a < 3; ++a) {
    const float step = static_cast<float>((hi[a] - lo[a]) / static_cast<double>(resolution - 1));
    axis[a] = at::arange(resolution, fopt) * step + static_cast<float>(lo[a]);  // [R]
  }
  const c10::NoGradGuard no_grad;
  at::Tensor grid = at::empty({resolution, resolution, resolution}, fopt);  // [R, R, R]
  for (int64_t i0 = 0; i0 < resolution; i0 += block)
    for (int64_t j0 = 0; j0 < resolution; j0 += block)
      for (int64_t k0 = 0; k0 < resolution; k0 += block) {
        const int64_t bi = std::min(block, resolution - i0), bj = std::min(block, resolution - j0),
                      bk = std::min(block, resolution - k0);
        const at::Tensor x = axis[0].slice(0, i0, i0 + bi).view({bi, 1, 1}).expand({bi, bj, bk});
        const at::Tensor y = axis[1].slice(0, j0, j0 + bj).view({1, bj, 1}).expand({bi, bj, bk});
        const at::Tensor z = axis[2].slice(0, k0, k0 + bk).view({1, 1, bk}).expand({bi, bj, bk});
        const at::Tensor pts = at::stack({x, y, z}, 3).reshape({bi * bj * bk, 3});  // [B, 3]
        const at::Tensor val = field_fn(pts);                                        // [B]
        if (val.numel() != bi * bj * bk)
          throw std::runtime_error("extract_mesh: field_fn returned " +
                                   std::to_string(val.numel()) + " values for " +
                                   std::to_string(bi * bj * bk) + " points");
        grid.slice(0, i0, i0 + bi).slice(1, j0, j0 + bj).slice(2, k0, k0 + bk).copy_(
            val.detach().reshape({bi, bj, bk}));
      }
  return grid;
}

Mesh extract_mesh(const FieldFn& field_fn, int64_t resolution, double level,
                  const at::Tensor& bbox_min, const at::Tensor& bbox_max, int64_t block,
                  bool inside_is_greater) {
  const at::Tensor grid = sample_grid(field_fn, resolution, bbox_min, bbox_max, block);
  return marching_cubes(grid, level, bbox_min, bbox_max, inside_is_greater);
}

}  // namespace nf
