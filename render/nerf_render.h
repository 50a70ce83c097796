#pragma once
// The mip-NeRF ray pipeline (moved here from tasks/nerf_task.cpp so that NeRF, NeuS and the viewer
// share one ray path): coarse + fine passes over a batch of rays, whole views from a pinhole
// nf::Camera in chunks, depth images, orbit poses.
//
// Per pass: cast_rays -> integrated positional encoding -> MipNeRF MLP -> fused volume rendering
// (render/volume_render.h) over a white (or black) background. The fine pass resamples from the
// blurred coarse weights (sample_pdf). Rendering a view uses no jitter; with batch-dependent norms
// the field must be in frozen mode (tasks/nerf_task.h calibrates it).
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include <string>

#include "fields/mipnerf.h"
#include "render/camera.h"
#include "render/rays.h"
#include "render/volume_render.h"

namespace nf {

// The rendering part of NeRF's options (tasks/nerf_task.h: NerfOptions extends it).
struct NerfRenderOptions {
  int64_t n_coarse = 128;       // coarse intervals per ray (n_coarse + 1 edges)
  int64_t n_fine = 128;         // fine intervals per ray
  int64_t chunk = 8192;         // rays per chunk when rendering whole images
  double resample_padding = 0.01;
  bool lindisp = false;
  bool white_bkgd = true;
};

struct NerfRays {  // both passes of a batch of rays
  RenderOutput coarse, fine;
  at::Tensor t_coarse, t_fine;  // [N, n_coarse + 1], [N, n_fine + 1]
};

struct NerfView {
  at::Tensor rgb;    // [H, W, 3] on the CPU
  at::Tensor depth;  // [H, W] mip-NeRF distance (normalized_depth), on the CPU
  at::Tensor acc;    // [H, W] opacity, on the CPU
};

// The MipNeRF behind a Field; throws "<what>: field type 'x' is not a mipnerf field" otherwise.
MipNeRFImpl& as_mipnerf(FieldImpl& field, const std::string& what = "nerf");

// True when the field has BN/GN/CN layers (rendering needs frozen statistics).
bool nerf_needs_frozen_stats(FieldImpl& field);

// One pass over intervals t [N, S + 1] of rays (venc: [N, view_dim] encoded viewdirs, bg: [3]).
RenderOutput nerf_pass(MipNeRFImpl& field, const Rays& rays, const at::Tensor& t, const at::Tensor& venc,
                       const at::Tensor& bg, NerfPass pass);

// Coarse + fine passes for rays (with graph when grad mode is on). gen: jitter (randomized only).
NerfRays render_rays(MipNeRFImpl& field, const Rays& rays, const NerfRenderOptions& o, bool randomized,
                     at::Generator gen = {});

// Whole image of a pinhole camera (any intrinsics; rays on `device`), rays from near to far, in
// chunks of o.chunk rays, no jitter.
NerfView render_view(MipNeRFImpl& field, const Camera& cam, double near, double far, const NerfRenderOptions& o,
                     const c10::Device& device);

// Greyscale depth image [H, W] in [0, 1]: (far - depth) / (far - near) * acc (near is bright, empty
// background black), the same mapping for every method so maps compare directly.
at::Tensor depth_to_image(const at::Tensor& depth, const at::Tensor& acc, double near, double far);

// Look-at poses [frames, 4, 4] float32 on a circle of `radius` at elevation `elevation_deg` around the
// origin, world up +z (Blender), azimuth from 0 to 360 (exclusive), OpenGL camera axes (use
// Camera::from_opengl).
at::Tensor orbit_poses(int64_t frames, double radius, double elevation_deg);

}  // namespace nf
