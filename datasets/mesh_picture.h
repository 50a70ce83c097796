#pragma once
// Pictures of meshes a person can look at: grey, head-lit renders by Embree ray casting (the ray
// caster of make-scene), several views around an up axis, one row per mesh. All meshes of one picture
// are framed by the same sphere (the first mesh's bounding sphere, or a given one) so a reconstruction
// and its ground truth line up view by view. Used by `normfield render-mesh`.
#include <ATen/ATen.h>

#include <string>
#include <vector>

#include "datasets/ray_caster.h"
#include "fields/mesh.h"

namespace nf {

struct MeshPictureOptions {
  int views = 4;                 // azimuths evenly spaced over 360 degrees
  int width = 256, height = 256;
  double elevation_deg = 20.0;   // camera height above the plane orthogonal to `up`
  double azimuth0_deg = 30.0;    // azimuth of the first view
  std::string up = "y";          // world up axis: x, y, z, -x, -y or -z
  double fov_y_deg = 35.0;
  int gap = 4;                   // white columns / rows between tiles
};

// The sphere every view frames: centre [3] float64 and radius.
struct FramingSphere {
  at::Tensor centre;
  double radius = 0;
};

// The bounding sphere about the bounding-box centre of vertices [V, 3]. Throws for an empty mesh.
FramingSphere framing_sphere(const at::Tensor& vertices);

// One view of `mesh` (the caster built on it): shade = 0.15 + 0.85 |n . d| (n the hit face's normal,
// d the ray), light grey on a white background. K [3, 3]; w2c [3, 4] (OpenCV axes). -> [H, W, 3] float32.
at::Tensor render_mesh_view(const RayCaster& caster, const Mesh& mesh, const at::Tensor& K, const at::Tensor& w2c,
                            int width, int height);

// The cameras of a picture: K [3, 3] float64 and w2c [views, 3, 4] float64. Throws one line for bad options.
std::pair<at::Tensor, at::Tensor> mesh_picture_cameras(const FramingSphere& sphere, const MeshPictureOptions& o);

// Rows = meshes, columns = views. -> [rows*H + gaps, views*W + gaps, 3].
at::Tensor mesh_picture(const std::vector<Mesh>& meshes, const FramingSphere& sphere, const MeshPictureOptions& o);

}  // namespace nf
