#pragma once
// NeuS volume rendering of rays (the reference's renderer.render / render_core, no NeRF++
// background): near/far from the unit sphere, n_samples uniform samples + up_sample_steps rounds of
// up-sampling (render/neus_sampling.h), the SDF network's SDF, feature and gradient at the section
// mid-points, the colour network, alpha from the section SDFs (sdf_to_alpha, cos annealing), and
// compositing (render/composite.h) over a constant background.
//
// Normalisation statistics: the sampling evaluates the SDF (without gradient) on the uniform
// samples and then on each round's new samples. With batch-dependent norms (BN/GN/CN in batch mode)
// the uniform pass keeps its batch statistics and the later rounds use them (NeuSImpl::sdf_kept),
// so the up-sampling sees one field; the final pass normalises with the statistics of all its
// samples (training) -- in frozen mode every pass uses the frozen statistics.
// With `uniform_stats` the final pass also uses the uniform samples' statistics (recomputed with
// gradient, so they keep their graph to the weights; NeuSImpl::sdf_feature_gradient_kept): every
// pass of a step then evaluates one field, the one whose zero level set the up-sampling located.
#include <ATen/ATen.h>
#include <c10/core/Device.h>

#include "fields/neus.h"
#include "render/camera.h"

namespace nf {

struct NeusRenderOptions {
  int64_t n_samples = 64;       // uniform samples per ray
  int64_t n_importance = 64;    // up-sampled in total (n_importance / up_sample_steps per round)
  int64_t up_sample_steps = 4;
  bool perturb = true;          // one uniform jitter per ray of the uniform samples (training)
  double cos_anneal_ratio = 1.0;
  at::Tensor background;        // [3], or undefined: black
  // Batch-dependent norms in batch mode: the final pass normalises with the uniform samples'
  // statistics (the field the up-sampling saw) instead of its own samples' (see above).
  bool uniform_stats = false;
};

struct NeusRays {
  at::Tensor rgb;      // [N, 3]
  at::Tensor acc;      // [N] sum of weights
  at::Tensor depth;    // [N] sum_i w_i z_i / max(acc, 1e-10) (distance along the unit direction)
  at::Tensor normal;   // [N, 3] sum_i w_i grad sdf_i (world frame; not normalised)
  at::Tensor eikonal;  // scalar: mean of (|grad sdf| - 1)^2 over samples with |x| < 1.2
  at::Tensor points;   // [N * S, 3] the final pass's sample points (detached)
};

// z of the final pass: [N, n_samples + n_importance] sorted, no gradient.
// rays_o, rays_d (unit): [N, 3]. gen: jitter (perturb only).
// uniform_points (optional): the uniform samples' points [N * n_samples, 3] (o + z d).
at::Tensor neus_sample_rays(NeuSImpl& field, const at::Tensor& rays_o, const at::Tensor& rays_d,
                            const NeusRenderOptions& o, at::Generator gen = {}, at::Tensor* uniform_points = nullptr);

// Renders rays. create_graph: the eikonal term and the normals can be differentiated w.r.t. the
// weights (training); otherwise the result carries no graph to x. The SDF/colour outputs follow the
// grad mode. rays_o, rays_d (unit): [N, 3].
NeusRays neus_render_rays(NeuSImpl& field, const at::Tensor& rays_o, const at::Tensor& rays_d,
                          const NeusRenderOptions& o, bool create_graph, at::Generator gen = {});

struct NeusView {
  at::Tensor rgb;     // [H, W, 3] on the CPU
  at::Tensor normal;  // [H, W, 3] on the CPU: normals in the camera frame (OpenCV axes), * 0.5 + 0.5
  at::Tensor acc;     // [H, W] on the CPU
  at::Tensor depth;   // [H, W] on the CPU: distance along the unit ray direction (NeusRays::depth)
};

// A whole image in chunks of `chunk` rays (no jitter). With batch-dependent norms put the field in
// frozen mode first, or the image depends on the chunking.
NeusView neus_render_view(NeuSImpl& field, const Camera& cam, const NeusRenderOptions& o, int64_t chunk,
                          const c10::Device& device);

}  // namespace nf
