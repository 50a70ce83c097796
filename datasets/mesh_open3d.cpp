// Open3D glue for mesh_io: PLY/OBJ reading (see mesh_open3d.h).
#include "datasets/mesh_open3d.h"

#include <stdexcept>

#ifdef NORMFIELD_WITH_OPEN3D
#include <open3d/core/Tensor.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/io/TriangleMeshIO.h>
#include <open3d/utility/Logging.h>

#include <cmath>
#include <vector>
#endif

namespace nf::detail {

#ifdef NORMFIELD_WITH_OPEN3D

bool open3d_available() { return true; }

Mesh read_mesh_open3d(const std::string& path) {
  open3d::geometry::TriangleMesh o3d;
  open3d::utility::VerbosityContextManager quiet(open3d::utility::VerbosityLevel::Error);
  quiet.Enter();
  const bool ok = open3d::io::ReadTriangleMesh(path, o3d);
  quiet.Exit();
  if (!ok) throw std::runtime_error(path + ": Open3D could not read the mesh");
  const int64_t V = static_cast<int64_t>(o3d.vertices_.size());
  const int64_t F = static_cast<int64_t>(o3d.triangles_.size());
  Mesh m;
  m.vertices = at::empty({V, 3}, at::kFloat);
  m.faces = at::empty({F, 3}, at::kLong);
  float* v = m.vertices.data_ptr<float>();
  int64_t* f = m.faces.data_ptr<int64_t>();
  for (int64_t i = 0; i < V; ++i)
    for (int a = 0; a < 3; ++a) v[3 * i + a] = static_cast<float>(o3d.vertices_[i](a));
  for (int64_t i = 0; i < F; ++i)
    for (int a = 0; a < 3; ++a) f[3 * i + a] = o3d.triangles_[i](a);
  return m;
}

#else  // no Open3D

bool open3d_available() { return false; }

Mesh read_mesh_open3d(const std::string& path) {
  throw std::runtime_error(path + ": this build has no Open3D");
}

#endif

}  // namespace nf::detail
