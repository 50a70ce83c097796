#pragma once
// Open3D-backed parts of mesh_io (internal): confined to mesh_open3d.cpp so that only one
// translation unit pays for Open3D's headers. Stubs throw when built without Open3D.
#include <ATen/ATen.h>

#include <string>

#include "datasets/mesh_io.h"

namespace nf::detail {

// Compiled with NORMFIELD_WITH_OPEN3D.
bool open3d_available();

// open3d::io::ReadTriangleMesh; throws naming the file when it fails. Not validated.
Mesh read_mesh_open3d(const std::string& path);

// Whether Open3D's RaycastingScene finds hits in this build (probed once on one triangle).
// Debian's Open3D 0.16 against Debian's Embree 3.13.5 finds none: Embree was built with ray
// masks on, Open3D 0.16 casts its rays with mask 0, so every ray misses (ComputeOccupancy and
// the sign of ComputeSignedDistance are wrong too). Then this is false.
bool open3d_raycast_works();

// points: [N, 3] float32 CPU contiguous -> [N] float32 {0, 1}: parity of ray hits counted by
// RaycastingScene::CountIntersections, majority vote over the 3 directions dirs.
at::Tensor raycast_occupancy(const Mesh& mesh, const at::Tensor& points,
                             const double (&dirs)[3][3]);

}  // namespace nf::detail
