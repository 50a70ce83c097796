#pragma once
// Reading triangle meshes (nf::Mesh, fields/mesh.h) for the occupancy task, chamfer and
// make-scene: loading (.obj, .ply), normalisation into [-1, 1]^3, and inside/outside labels of
// query points. Loaders return float32 vertices and int64 faces on the CPU (no normals/colours).
//
// Loaders: .obj through tinyobjloader (NORMFIELD_WITH_TINYOBJ; else a small built-in reader of
// v / f lines), .ply always through the built-in reader (ascii and binary little/big endian,
// vertex x y z, face list; Open3D's reader segfaults on malformed faces). Polygons are
// fan-triangulated. The PLY reader checks the header's counts against the file size first.
//
// Occupancy: ray parity through Embree (datasets/ray_caster.h), or generalised winding numbers
// (Jacobson et al. 2013), which tolerate holes and self-intersections.
#include <ATen/ATen.h>

#include <cstdint>
#include <string>

#include "fields/mesh.h"

namespace nf {

// Loads a .obj or .ply (extension, case-insensitive) and validates it. Throws one-line
// std::runtime_error naming the file: unreadable / missing, unknown extension, parse error,
// no faces, non-finite vertices, face index out of range.
Mesh load_mesh(const std::string& path);

// The built-in readers (no third-party library). read_ply_builtin refuses (naming the file)
// headers whose counts cannot fit the body, non-finite or out-of-range indices; load_mesh adds
// validate_mesh.
Mesh read_obj_builtin(const std::string& path);
Mesh read_ply_builtin(const std::string& path);

// Throws (naming `what`, e.g. the file) unless the mesh has faces, finite [V, 3] vertices and
// [F, 3] indices in [0, V).
void validate_mesh(const Mesh& mesh, const std::string& what);

// Centres the bounding box at the origin and scales uniformly (aspect kept) so that the longest
// side spans [-(1 - margin), 1 - margin]. margin in [0, 1): 0.1 -> longest side in [-0.9, 0.9].
Mesh normalize_to_cube(const Mesh& mesh, double margin = 0.0);

enum class OccupancyMethod {
  Auto,           // Raycast when normfield was built with Embree, else WindingNumber
  Raycast,        // parity of surface crossings, majority vote over 3 fixed ray directions,
                  // counted by Embree (RayCaster::count_hits); throws when built without Embree
  WindingNumber,  // |generalised winding number| >= 0.5 (points outside the bbox: 0)
};

// True when this library was compiled with Open3D (read_mesh_open3d; not used by load_mesh).
bool built_with_open3d();

// True when Raycast occupancy is available (normfield was built with Embree).
bool have_raycast_occupancy();

// points: [N, 3] (any float dtype, CPU or CUDA). Returns [N] float32 {0, 1} (1 = inside) on the
// points' device. Robust to small holes: Raycast votes over several rays, WindingNumber is
// continuous in the mesh. Ray casting runs on the CPU; winding numbers on the points' device.
at::Tensor occupancy_labels(const Mesh& mesh, const at::Tensor& points,
                            OccupancyMethod method = OccupancyMethod::Auto);

// Generalised winding number of every point: sum over faces of the signed solid angle / 4 pi
// (faces counter-clockwise seen from outside give ~1 inside, ~0 outside).
// points: [N, 3]; returns [N] float32 on the points' device. Exact, O(N * F): CPU runs a
// parallel loop in double precision; CUDA points use chunked tensor ops on the GPU.
at::Tensor winding_numbers(const Mesh& mesh, const at::Tensor& points);

}  // namespace nf
