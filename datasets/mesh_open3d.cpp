// Open3D glue for mesh_io: PLY/OBJ reading and ray-cast occupancy (see mesh_open3d.h).
#include "datasets/mesh_open3d.h"

#include <stdexcept>

#ifdef NORMFIELD_WITH_OPEN3D
#include <open3d/core/Tensor.h>
#include <open3d/geometry/TriangleMesh.h>
#include <open3d/io/TriangleMeshIO.h>
#include <open3d/t/geometry/RaycastingScene.h>
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

bool open3d_raycast_works() {
  static const bool works = [] {
    namespace core = open3d::core;
    const float v[9] = {0, 0, 0, 1, 0, 0, 0, 1, 0};
    const uint32_t f[3] = {0, 1, 2};
    const float ray[6] = {0.2f, 0.2f, 1.0f, 0.0f, 0.0f, -1.0f};
    open3d::t::geometry::RaycastingScene scene;
    scene.AddTriangles(core::Tensor(v, {3, 3}, core::Float32),
                       core::Tensor(f, {1, 3}, core::UInt32));
    const core::Tensor hits = scene.CountIntersections(core::Tensor(ray, {1, 6}, core::Float32));
    return hits.To(core::Int32).ToFlatVector<int32_t>().at(0) == 1;
  }();
  return works;
}

at::Tensor raycast_occupancy(const Mesh& mesh, const at::Tensor& points,
                             const double (&dirs)[3][3]) {
  namespace core = open3d::core;
  const at::Tensor v = mesh.vertices.to(at::kFloat).contiguous();  // [V, 3]
  const at::Tensor f = mesh.faces.to(at::kInt).contiguous();       // [F, 3] (uint32 bits)
  const int64_t V = v.size(0), F = f.size(0), N = points.size(0);
  open3d::t::geometry::RaycastingScene scene;
  scene.AddTriangles(core::Tensor(v.data_ptr<float>(), {V, 3}, core::Float32),
                     core::Tensor(reinterpret_cast<const uint32_t*>(f.data_ptr<int32_t>()),
                                  {F, 3}, core::UInt32));
  const float* p = points.data_ptr<float>();
  std::vector<int> votes(N, 0);
  std::vector<float> rays(N * 6);
  for (const auto& d : dirs) {
    for (int64_t i = 0; i < N; ++i)
      for (int a = 0; a < 3; ++a) {
        rays[6 * i + a] = p[3 * i + a];
        rays[6 * i + 3 + a] = static_cast<float>(d[a]);
      }
    const core::Tensor hits =
        scene.CountIntersections(core::Tensor(rays.data(), {N, 6}, core::Float32))
            .To(core::Int32);
    const std::vector<int32_t> h = hits.ToFlatVector<int32_t>();
    for (int64_t i = 0; i < N; ++i) votes[i] += h[i] & 1;
  }
  at::Tensor out = at::empty({N}, at::kFloat);  // [N]
  float* o = out.data_ptr<float>();
  for (int64_t i = 0; i < N; ++i) o[i] = votes[i] >= 2 ? 1.0f : 0.0f;
  return out;
}

#else  // no Open3D

bool open3d_available() { return false; }

bool open3d_raycast_works() { return false; }

Mesh read_mesh_open3d(const std::string& path) {
  throw std::runtime_error(path + ": this build has no Open3D");
}

at::Tensor raycast_occupancy(const Mesh&, const at::Tensor&, const double (&)[3][3]) {
  throw std::runtime_error("occupancy_labels: Raycast needs Open3D (NORMFIELD_WITH_OPEN3D)");
}

#endif

}  // namespace nf::detail
