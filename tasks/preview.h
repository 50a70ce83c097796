#pragma once
// What a task shows a viewer (Task::preview): named images and scalars of the field as it is now.
// The viewer (app/viewer/) knows no task: it draws whatever a task's preview returns, asks for views
// by name, and moves a camera for the tasks that say they have one (PreviewInfo::has_camera).
//
//   image:     truth, reconstruction, error, spectrum (error power spectrum in dB)
//   nerf:      rgb, depth, acc from any camera; error (|rgb - ground truth|) at a dataset camera
//   neus:      rgb, normals, depth, acc from any camera; error at a dataset camera
//   ct, mri:   truth, reconstruction, error (slices for MRI)
//   occupancy: slices (truth | prediction | difference at the middle of each axis)
#include <ATen/ATen.h>

#include "render/camera.h"
#include "tasks/preview_info.h"

#include <map>
#include <string>
#include <vector>

namespace nf {

// [4, 4] float32 camera-to-world of a preview camera (OpenGL axes, as stored).
at::Tensor c2w_tensor(const PreviewCamera& camera);
// The nf::Camera of a preview camera (float32 pose, OpenCV axes) and back (a float64 copy of the pose).
Camera to_camera(const PreviewCamera& camera);
PreviewCamera preview_camera(const Camera& camera);

struct PreviewRequest {
  bool use_camera = false;  // render from `camera` (tasks with has_camera); else the task's default view
  PreviewCamera camera;     // full-resolution camera; `scale` shrinks it
  double scale = 1.0;       // resolution factor in (0, 1]: width, height and focal times scale
  int dataset_view = -1;    // >= 0: the camera is dataset view k of PreviewInfo::cameras (error view)
  bool heldout = false;     // also compute "heldout_psnr" on the task's fixed held-out view
  int64_t step = 0;         // the field's training step (tasks may cache per step, e.g. calibration)
  // Pixel subset (progressive full-resolution previews): only the pixels (x0 + stride i, y0 + stride j)
  // of the scaled camera, i.e. an image of ceil((W - x0) / stride) x ceil((H - y0) / stride) pixels,
  // each exactly the pixel of the whole render (rays, mip-NeRF cone radii, ground truth of the
  // error view). stride 1, x0 = y0 = 0: the whole image. 0 <= x0, y0 < stride.
  int stride = 1;
  int x0 = 0, y0 = 0;
};

// The camera whose pixel (i, j) is pixel (x0 + stride i, y0 + stride j) of cam (PreviewRequest's
// subset): fx / stride, fy / stride, cx' = (cx - x0) / stride, cy' = (cy - y0) / stride. Its rays have
// the right origins and directions; mip-NeRF cone radii are stride times the whole render's.
Camera pixel_subset(const Camera& cam, int stride, int x0, int y0);
// The same subset of an image [H, W, ...] -> [ceil((H - y0) / stride), ceil((W - x0) / stride), ...].
at::Tensor pixel_subset(const at::Tensor& image, int stride, int x0, int y0);
// Throws "<where>: ..." unless stride >= 1 and 0 <= x0, y0 < stride.
void check_pixel_subset(const PreviewRequest& r, const std::string& where);

struct PreviewImage {
  at::Tensor pixels;          // [H, W, 3] RGB in [0, 1], or [H, W] scalar (colour-mapped by the viewer)
  std::string kind = "rgb";   // rgb; error (>= 0, auto-scaled); db (spectrum, dB); unit ([0, 1], grey)
};

struct Preview {
  std::vector<std::pair<std::string, PreviewImage>> images;  // in display order
  std::map<std::string, double> scalars;                       // e.g. psnr, heldout_psnr
};

}  // namespace nf
