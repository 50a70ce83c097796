#pragma once
// Synthetic DTU-style scenes from a mesh with known geometry (for NeuS with a measurable chamfer):
// ray-cast (Embree) images of the mesh with a procedural 3-D texture in object space and fixed
// Lambert + ambient lighting on a black background, their masks, and cameras_sphere.npz in the
// NeuS layout, so that load_dtu reads the result.
//
// Output folder:
//   image/000000.png ...   RGB renders (8-bit)
//   mask/000.png ...       255 where the pixel-centre ray hits the mesh, else 0 (RGB, like DTU)
//   cameras_sphere.npz     world_mat_i = [K R | K t; 0 0 0 1] (world = the mesh file's coordinates),
//                          scale_mat_i = [s I | c; 0 0 0 1] (the unit sphere -> a sphere `margin`
//                          times the mesh's bounding sphere), their inverses, camera_mat_i = [K 0; 0 1]
//   gt_mesh.<ext>          a copy of the mesh file (ground truth, world coordinates)
//   scene.json             how the scene was made (mesh, views, size, bounding sphere, light, K)
#include <ATen/ATen.h>

#include <filesystem>
#include <string>

#include "datasets/ray_caster.h"

namespace nf {

struct MakeSceneOptions {
  int views = 48;
  int width = 200, height = 150;
  double fov_y_deg = 40.0;  // vertical field of view; fx = 1.03 fy, principal point off the centre
  double margin = 1.1;      // unit sphere radius (world) = margin * bounding-sphere radius
};

struct SceneCameras {
  at::Tensor K;       // [F, 3, 3] float64 intrinsics (pixel centres at integer coordinates)
  at::Tensor w2c;     // [F, 3, 4] float64 [R | t] world-to-camera, OpenCV axes
  at::Tensor centre;  // [3] float64 bounding-sphere centre (bounding-box centre)
  double radius = 0;  // bounding-sphere radius of the vertices about centre
  double sphere = 0;  // radius of the normalisation sphere (margin * radius)
};

// Cameras on a sphere around the mesh (Fibonacci directions over the whole sphere, up = +y, or +z
// when looking along y), at the distance where the normalisation sphere fits in the image.
// vertices: [V, 3]. Throws for bad options (views < 1, size < 8 pixels, fov outside (1, 170)).
SceneCameras make_scene_cameras(const at::Tensor& vertices, const MakeSceneOptions& o);

// Albedo of the procedural texture at normalised object-space points q = (p - centre) / radius.
// q: [N, 3] -> [N, 3] float32 in [0.15, 0.85].
at::Tensor scene_albedo(const at::Tensor& q);

struct RenderedView {
  at::Tensor image;  // [H, W, 3] float32 in [0, 1], black background
  at::Tensor mask;   // [H, W] float32 {0, 1}
};

// Renders one view: one ray per pixel centre (u, v) through K^-1 [u, v, 1].
// caster: built from mesh; K: [3, 3]; w2c: [3, 4]; centre: [3].
RenderedView render_scene_view(const RayCaster& caster, const Mesh& mesh,
                               const at::Tensor& K, const at::Tensor& w2c, int width, int height,
                               const at::Tensor& centre, double radius);

// Loads the mesh (load_mesh) and writes the scene folder described above. Errors are one line
// naming the mesh file or the option.
void make_scene(const std::filesystem::path& mesh_path, const std::filesystem::path& out_dir,
                const MakeSceneOptions& o = {});

}  // namespace nf
