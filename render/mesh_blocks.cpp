// Slab-wise marching cubes with stitching by global grid-edge id (see mesh_blocks.h).
#include "render/mesh_blocks.h"

#include <c10/core/GradMode.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "render/mc_tables.h"

namespace nf {
namespace {

std::array<double, 3> corner(const at::Tensor& t, const char* name) {
  if (!t.defined() || t.numel() != 3)
    throw std::runtime_error(std::string("extract_mesh_blockwise: ") + name + " must have 3 elements");
  const at::Tensor h = t.detach().to(at::kCPU, at::kDouble).contiguous().view({3});
  return {h[0].item<double>(), h[1].item<double>(), h[2].item<double>()};
}

// Which grid edges of a slab are crossed: [n, R, R, 3] bool flattened in edge-id order
// ((i * R + j) * R + k) * 3 + axis, the order marching_cubes numbers its vertices in.
// slab: [n, R, R] float
at::Tensor crossing_edges(const at::Tensor& slab, double level, bool greater) {
  const at::Tensor in = greater ? slab.gt(level) : slab.lt(level);  // NaN: outside, as mc_inside
  const int64_t n = slab.size(0), ny = slab.size(1), nz = slab.size(2);
  at::Tensor c = at::zeros({n, ny, nz, 3}, in.options());
  c.select(3, 0).slice(0, 0, n - 1).copy_(in.slice(0, 0, n - 1).ne(in.slice(0, 1, n)));
  c.select(3, 1).slice(1, 0, ny - 1).copy_(in.slice(1, 0, ny - 1).ne(in.slice(1, 1, ny)));
  c.select(3, 2).slice(2, 0, nz - 1).copy_(in.slice(2, 0, nz - 1).ne(in.slice(2, 1, nz)));
  return c.reshape({-1});
}

}  // namespace

Mesh extract_mesh_blockwise(const FieldFn& field_fn, const at::Tensor& bbox_min, const at::Tensor& bbox_max,
                            const BlockMeshOptions& o) {
  const int64_t R = o.resolution, L = o.block;
  if (R < 2) throw std::runtime_error("extract_mesh_blockwise: resolution must be >= 2");
  if (L < 1) throw std::runtime_error("extract_mesh_blockwise: block must be >= 1");
  const auto lo = corner(bbox_min, "bbox_min"), hi = corner(bbox_max, "bbox_max");
  const auto fopt = at::TensorOptions().dtype(at::kFloat).device(bbox_min.device());
  const c10::NoGradGuard no_grad;
  // Node coordinates per axis and the vertex formula's constants, exactly as sample_grid and
  // marching_cubes compute them.
  std::vector<at::Tensor> axis(3);
  float bmin[3], step[3];
  for (int a = 0; a < 3; ++a) {
    step[a] = static_cast<float>((hi[a] - lo[a]) / static_cast<double>(R - 1));
    bmin[a] = static_cast<float>(lo[a]);
    axis[a] = at::arange(R, fopt) * step[a] + static_cast<float>(lo[a]);  // [R]
  }
  const float level = static_cast<float>(o.level);
  const double outside = o.inside_is_greater ? o.level - 1.0 : o.level + 1.0;
  // Samples node layers [i0, i1) into dst [i1 - i0, R, R], in blocks of at most L^3 points.
  auto sample = [&](int64_t i0, int64_t i1, at::Tensor dst) {
    for (int64_t a0 = i0; a0 < i1; a0 += L)
      for (int64_t j0 = 0; j0 < R; j0 += L)
        for (int64_t k0 = 0; k0 < R; k0 += L) {
          const int64_t bi = std::min(L, i1 - a0), bj = std::min(L, R - j0), bk = std::min(L, R - k0);
          const at::Tensor x = axis[0].slice(0, a0, a0 + bi).view({bi, 1, 1}).expand({bi, bj, bk});
          const at::Tensor y = axis[1].slice(0, j0, j0 + bj).view({1, bj, 1}).expand({bi, bj, bk});
          const at::Tensor z = axis[2].slice(0, k0, k0 + bk).view({1, 1, bk}).expand({bi, bj, bk});
          const at::Tensor pts = at::stack({x, y, z}, 3).reshape({bi * bj * bk, 3});  // [B, 3]
          const at::Tensor val = field_fn(pts);                                        // [B]
          if (val.numel() != bi * bj * bk)
            throw std::runtime_error("extract_mesh_blockwise: field_fn returned " + std::to_string(val.numel()) +
                                     " values for " + std::to_string(bi * bj * bk) + " points");
          dst.slice(0, a0 - i0, a0 - i0 + bi).slice(1, j0, j0 + bj).slice(2, k0, k0 + bk).copy_(
              val.detach().reshape({bi, bj, bk}));
        }
  };
  auto close = [&](at::Tensor slab, int64_t first_layer) {  // slab: [n, R, R], global layers from first_layer
    if (!o.close_border) return;
    auto clamp = [&](at::Tensor t) { o.inside_is_greater ? t.clamp_max_(outside) : t.clamp_min_(outside); };
    for (int64_t a = 1; a < 3; ++a) {
      clamp(slab.select(a, 0));
      clamp(slab.select(a, R - 1));
    }
    if (first_layer == 0) clamp(slab.select(0, 0));
    if (first_layer + slab.size(0) == R) clamp(slab.select(0, slab.size(0) - 1));  // (already clamped ones stay)
  };

  const int64_t layer_edges = R * R * 3;
  std::vector<at::Tensor> ids, va, vb, faces;  // per slab: kept vertices' global edge ids / end values; faces (edge ids)
  at::Tensor last;                             // [R, R] the previous slab's last node layer
  // Slab s samples node layers [s L, (s + 1) L) (the same field calls as sample_grid with this
  // block) and runs marching cubes on them together with the previous slab's last layer.
  for (int64_t c0 = 0; c0 < R; c0 += L) {
    const int64_t c1 = std::min(c0 + L, R), a = c0 == 0 ? 0 : c0 - 1, b = c1 - 1, n = b - a + 1;
    at::Tensor slab = at::empty({n, R, R}, fopt);  // [n, R, R] node layers a..b
    if (c0 > 0) slab.select(0, 0).copy_(last);
    sample(c0, c1, slab.slice(0, c0 - a, n));
    close(slab, a);
    last = slab.select(0, n - 1).clone();
    if (n < 2) continue;  // a single node layer (block 1, first slab): no cells yet
    // Faces from marching cubes (its vertex positions are not used: they are recomputed below with
    // the global formula); vertex v of this slab sits on local edge ids_local[v].
    const at::Tensor zero = at::zeros({3}, at::kFloat), one = at::ones({3}, at::kFloat);
    const Mesh m = marching_cubes(slab, o.level, zero, one, o.inside_is_greater);
    const at::Tensor ids_local = crossing_edges(slab, o.level, o.inside_is_greater).nonzero().view({-1});  // [V_s]
    if (ids_local.size(0) != m.num_vertices())
      throw std::runtime_error("extract_mesh_blockwise: internal error: " + std::to_string(ids_local.size(0)) +
                               " crossing edges but " + std::to_string(m.num_vertices()) + " vertices");
    const at::Tensor gid = ids_local + a * layer_edges;  // [V_s] global edge ids
    if (m.num_faces() > 0) faces.push_back(gid.index_select(0, m.faces.to(gid.device()).view({-1})).view({-1, 3}));
    // The last node layer's edges belong to the next slab (except in the last slab).
    const at::Tensor keep = b == R - 1 ? ids_local : ids_local.masked_select(ids_local.lt((n - 1) * layer_edges));
    const at::Tensor node = at::div(keep, 3, "floor"), ax = at::remainder(keep, 3);
    const at::Tensor stride = at::where(ax.eq(0), at::full_like(ax, R * R), at::where(ax.eq(1), at::full_like(ax, R), at::ones_like(ax)));
    const at::Tensor flat = slab.reshape({-1});
    ids.push_back(keep + a * layer_edges);
    va.push_back(flat.index_select(0, node));
    vb.push_back(flat.index_select(0, node + stride));
    if (o.progress && !o.progress(static_cast<double>(c1) / static_cast<double>(R))) throw MeshCancelled();
  }

  // Vertex positions, with the CPU marching_cubes formula (same floats as the whole-grid path).
  const at::Tensor all_ids = at::cat(ids).to(at::kCPU).contiguous();  // [V] ascending
  const at::Tensor a_val = at::cat(va).to(at::kCPU).contiguous(), b_val = at::cat(vb).to(at::kCPU).contiguous();
  const int64_t V = all_ids.size(0);
  at::Tensor verts = at::empty({V, 3}, at::kFloat);  // [V, 3]
  {
    const int64_t* e = all_ids.data_ptr<int64_t>();
    const float* pa = a_val.data_ptr<float>();
    const float* pb = b_val.data_ptr<float>();
    float* pv = verts.data_ptr<float>();
    for (int64_t v = 0; v < V; ++v) {
      const int axis_v = static_cast<int>(e[v] % 3);
      const int64_t node = e[v] / 3;
      const int64_t idx[3] = {node / (R * R), (node / R) % R, node % R};
      const float t = mc::mc_edge_t(pa[v], pb[v], level);
      for (int c = 0; c < 3; ++c) pv[3 * v + c] = mc::mc_coord(bmin[c], step[c], idx[c], c == axis_v ? t : 0.0f);
    }
  }
  Mesh mesh;
  mesh.vertices = verts.to(fopt.device());
  if (faces.empty()) {
    mesh.faces = at::empty({0, 3}, fopt.dtype(at::kLong));
  } else {
    const at::Tensor fe = at::cat(faces).to(at::kCPU);                             // [F, 3] edge ids
    const at::Tensor f = at::searchsorted(all_ids, fe.reshape({-1})).view({-1, 3});  // [F, 3] vertex ids
    if (!at::equal(all_ids.index_select(0, f.reshape({-1}).clamp_max(std::max<int64_t>(V - 1, 0))), fe.reshape({-1})))
      throw std::runtime_error("extract_mesh_blockwise: internal error: a face refers to a vertex of no slab");
    mesh.faces = f.to(fopt.device());
  }
  mesh.normals = compute_vertex_normals(mesh);
  return mesh;
}

}  // namespace nf
