#pragma once
// Open3D-backed parts of mesh_io (internal): confined to mesh_open3d.cpp so that only one
// translation unit pays for Open3D's headers. Stubs throw when built without Open3D. Ray casting
// is Embree's own (datasets/ray_caster.h): Debian's Open3D RaycastingScene finds no hits.
#include <ATen/ATen.h>

#include <string>

#include "datasets/mesh_io.h"

namespace nf::detail {

// Compiled with NORMFIELD_WITH_OPEN3D.
bool open3d_available();

// open3d::io::ReadTriangleMesh; throws naming the file when it fails. Not validated.
Mesh read_mesh_open3d(const std::string& path);

}  // namespace nf::detail
