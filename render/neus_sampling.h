#pragma once
// Sampling along rays for NeuS (Wang et al. 2021, the reference's models/renderer.py): the unit
// sphere's near/far, uniform samples, hierarchical up-sampling from the SDF with a fixed s, merging
// sample sets, and the SDF -> alpha conversion the NeuS task differentiates through. Pure tensor
// functions (any device, float32/float64); composite the alphas with nf::composite (composite.h).
//
// Conventions as in the reference: rays_d are unit directions (Rays::viewdirs), z is distance along
// the ray, the object lies inside the unit sphere.
#include <ATen/ATen.h>

#include <functional>
#include <utility>

namespace nf {

// The ray's chord through the sphere of `radius` about the origin, as the reference does it:
//   mid = -<o, d> / <d, d>,  near = mid - radius / |d|,  far = mid + radius / |d|
// (for unit d: mid -+ 1, the reference's values; rays that miss the sphere get the same interval).
// rays_o, rays_d: [N, 3] -> {near [N, 1], far [N, 1]}
std::pair<at::Tensor, at::Tensor> near_far_from_sphere(const at::Tensor& rays_o, const at::Tensor& rays_d,
                                                       double radius = 1.0);

// n_samples uniform z in [near, far] (linspace, both ends included) -> [N, n_samples].
// perturb: one uniform shift per ray in [-0.5, 0.5) * (far - near) / n_samples (the reference's
// t_rand * 2 / n_samples for its far - near = 2), from `gen`.
at::Tensor neus_uniform_z(const at::Tensor& near, const at::Tensor& far, int64_t n_samples, bool perturb,
                          at::Generator gen = {});

// NeuS's inverse-CDF sampling (its sample_pdf, from NeRF): weights + 1e-5, deterministic quantiles
// u = linspace(0.5 / n, 1 - 0.5 / n, n) (det) or uniform (from gen), intervals whose cdf step is
// < 1e-5 are not divided. bins: [N, S] sorted, weights: [N, S - 1] -> [N, n] sorted, no gradient.
at::Tensor neus_sample_pdf(const at::Tensor& bins, const at::Tensor& weights, int64_t n, bool det = true,
                           at::Generator gen = {});

// One up-sampling round (the reference's up_sample): for each section [z_i, z_{i+1}] the SDF at its
// ends gives a slope cos_i = (sdf_{i+1} - sdf_i) / (z_{i+1} - z_i + 1e-5); the slope used is
// min(cos_{i-1}, cos_i) (the "prev-cos trick", cos_{-1} = 0), clamped to [-1e3, 0], and zero for
// sections with neither end inside the unit sphere; the section SDFs mid -/+ cos dz / 2 give
//   alpha_i = (Phi(prev * inv_s) - Phi(next * inv_s) + 1e-5) / (Phi(prev * inv_s) + 1e-5)
// (Phi the logistic sigmoid), composited weights as composite(), then n_importance new z from
// neus_sample_pdf (deterministic).
// rays_o, rays_d: [N, 3], z_vals: [N, S] sorted, sdf: [N, S] at o + z d -> new z [N, n_importance]
// (no gradient).
at::Tensor up_sample(const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& z_vals,
                     const at::Tensor& sdf, int64_t n_importance, double inv_s);

// Merges new samples into a sorted set: z [N, S], new_z [N, M] -> sorted [N, S + M]; the SDF values
// travel with their z (sdf [N, S], new_sdf [N, M]); the returned sdf is undefined when sdf or new_sdf
// is (the reference's last round, whose SDF is not needed).
std::pair<at::Tensor, at::Tensor> cat_z_vals(const at::Tensor& z_vals, const at::Tensor& new_z,
                                             const at::Tensor& sdf = {}, const at::Tensor& new_sdf = {});

// SDF of points: [M, 3] -> [M] or [M, 1] (called without gradient by neus_sample_z).
using SdfFn = std::function<at::Tensor(const at::Tensor& pts)>;

// The reference's whole sampling: n_samples uniform z (perturbed or not), then up_sample_steps rounds
// of n_importance / up_sample_steps new samples each with inv_s = 64 * 2^i, the SDF of the new points
// from sdf_fn (except after the last round). Runs without gradient.
// rays_o, rays_d: [N, 3], near, far: [N, 1] -> z [N, n_samples + n_importance] sorted.
at::Tensor neus_sample_z(const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& near,
                         const at::Tensor& far, int64_t n_samples, int64_t n_importance, int64_t up_sample_steps,
                         const SdfFn& sdf_fn, bool perturb, at::Generator gen = {});

// Sections of sorted samples z [N, S] (the reference's render_core): dists_i = z_{i+1} - z_i with the
// last = sample_dist (the reference: 2 / n_samples), mid_i = z_i + dists_i / 2 -> {dists, mid} [N, S].
std::pair<at::Tensor, at::Tensor> neus_sections(const at::Tensor& z_vals, double sample_dist);

// NeuS's alpha of each section from the SDF at its mid-point (differentiable in sdf, true_cos, inv_s):
//   iter_cos = -(relu(0.5 - 0.5 cos) (1 - r) + relu(-cos) r)        (r = cos_anneal_ratio, <= 0)
//   prev = sdf - iter_cos dists / 2,  next = sdf + iter_cos dists / 2
//   alpha = clamp((Phi(prev s) - Phi(next s) + 1e-5) / (Phi(prev s) + 1e-5), 0, 1),  s = inv_s
// sdf, true_cos (= <ray dir, grad sdf>), dists: [N, S]; inv_s: a tensor broadcastable to [N, S]
// (e.g. [1] or [N, S]) -> alpha [N, S].
at::Tensor sdf_to_alpha(const at::Tensor& sdf, const at::Tensor& true_cos, const at::Tensor& dists,
                        const at::Tensor& inv_s, double cos_anneal_ratio);

}  // namespace nf
