#pragma once
// DTU scenes in the NeuS layout: image/*.png, mask/*.png (optional), cameras_sphere.npz.
//
// cameras_sphere.npz holds, per view i, world_mat_i (4x4: the 3x4 projection K [R | t] of WORLD
// points, last row 0 0 0 1) and scale_mat_i (4x4: maps the NORMALISED frame, where the object lies
// inside the unit sphere, to the world). As in the NeuS reference, P = (world_mat_i @ scale_mat_i)[:3]
// projects normalised points; it is decomposed into K and the camera-to-world pose (OpenCV axes:
// x right, y down, z forward; pixel centres at integer coordinates).
// Images and masks are taken in sorted file-name order; image k goes with world_mat_k.
#include <ATen/ATen.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nf {

struct DtuOptions {
  int downscale = 1;       // integer factor, area average of d x d blocks (must divide H and W)
  int max_frames = -1;     // keep only the first max_frames views (after `views`); -1 = all
  std::vector<int> views;  // indices of the views to load, in this order; empty = all
};

struct DtuScene {
  at::Tensor images;      // [F, H, W, 3] float32 in [0, 1]
  at::Tensor masks;       // [F, H, W] float32 in [0, 1] (first channel / 255; ones without mask/)
  at::Tensor intrinsics;  // [F, 3, 3] float64 K (OpenCV, pixel centres at integer coordinates)
  at::Tensor c2w;         // [F, 4, 4] float64 camera-to-world in the normalised frame (OpenCV axes)
  at::Tensor scale_mat;   // [4, 4] float64 normalised -> world (scale_mat_0)
  std::vector<int> views;          // [F] index of each loaded view in the scene
  std::vector<std::string> files;  // [F] image paths
  bool has_masks = false;          // false when the scene has no mask/ folder
  int H = 0, W = 0;
};

// Loads a scene folder. Throws std::runtime_error with one line naming the file and key: missing
// folder / npz, "<dir>/cameras_sphere.npz: missing key 'world_mat_3'", image count != camera count,
// mask count != image count, undecodable image, images or masks of different sizes, a downscale that
// does not divide the size, a view index out of range, a non-finite or singular matrix.
DtuScene load_dtu(const std::filesystem::path& dir, const DtuOptions& o = {});

// The files of a DTU-style scene folder dir, checked as load_dtu and prepare_dtu_scene check them:
// dir/cameras_sphere.npz must exist; dir/image/ must hold *.png / *.jpg / *.jpeg images (sorted by
// name, load_dtu's order); dir/mask/, when there, as many (masks empty without it). Errors name the
// file or folder.
struct DtuFiles {
  std::filesystem::path npz, image_dir, mask_dir;
  std::vector<std::filesystem::path> images, masks;
};
DtuFiles dtu_files(const std::filesystem::path& dir);

struct ProjectionDecomposition {
  at::Tensor K;    // [3, 3] float64 upper triangular, positive diagonal, K[2][2] = 1
  at::Tensor c2w;  // [4, 4] float64 [R^T | centre; 0 0 0 1] (R: world-to-camera rotation)
};

// Decomposes a 3x4 projection P ~ K [R | -R c] as cv2.decomposeProjectionMatrix + NeuS's
// load_K_Rt_from_P do: RQ decomposition of P[:, :3] with a positive diagonal (P is first negated
// when det P[:, :3] < 0, so R is a rotation), K /= K[2][2], centre c = the null space of P.
// Throws std::runtime_error("<what>: ...") for a non-finite or singular P.
// P: [3, 4] or [4, 4] (first three rows used), any float dtype.
ProjectionDecomposition decompose_projection(const at::Tensor& P, const std::string& what);

}  // namespace nf
