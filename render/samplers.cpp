// Stratified and hierarchical sampling along rays (see samplers.h).
#include "render/samplers.h"

#include <limits>
#include <stdexcept>
#include <string>

namespace nf {

namespace {
constexpr double kFloatEps = std::numeric_limits<float>::epsilon();  // jnp.finfo('float32').eps
}

at::Tensor sample_stratified(const Rays& rays, int64_t n_samples, bool randomized, at::Generator gen,
                             bool lindisp) {
  if (n_samples < 1) throw std::runtime_error("sample_stratified: n_samples must be >= 1");
  const int64_t N = rays.size();
  const at::Tensor near = rays.near;  // [N, 1]
  const at::Tensor far = rays.far;    // [N, 1]
  const at::Tensor s = at::linspace(0.0, 1.0, n_samples + 1, near.options()).unsqueeze(0);  // [1, n+1]
  at::Tensor t;  // [N, n+1]
  if (lindisp)
    t = 1.0 / ((1.0 / near) * (1.0 - s) + (1.0 / far) * s);
  else
    t = near * (1.0 - s) + far * s;
  if (!randomized) return t.expand({N, n_samples + 1}).contiguous();
  // Jitter every edge uniformly between the mid-points around it (mip-NeRF sample_along_rays).
  const at::Tensor mids = 0.5 * (t.slice(1, 1) + t.slice(1, 0, -1));  // [., n]
  const at::Tensor upper = at::cat({mids, t.slice(1, -1)}, 1);        // [., n+1]
  const at::Tensor lower = at::cat({t.slice(1, 0, 1), mids}, 1);      // [., n+1]
  const at::Tensor u = at::rand({N, n_samples + 1}, gen, near.options());
  return lower + (upper - lower) * u;
}

at::Tensor sorted_piecewise_constant_pdf(const at::Tensor& bins, const at::Tensor& weights_in,
                                         int64_t n_draws, bool randomized, at::Generator gen) {
  if (bins.dim() != 2 || weights_in.dim() != 2 || bins.size(0) != weights_in.size(0) ||
      bins.size(1) != weights_in.size(1) + 1)
    throw std::runtime_error("sample_pdf: need bins [N, n+1] and weights [N, n], got bins " +
                             c10::str(bins.sizes()) + ", weights " + c10::str(weights_in.sizes()));
  const int64_t N = bins.size(0);
  // Make the pdf safe when all weights are ~0: pad so that every row sums to at least eps.
  const double eps = 1e-5;
  at::Tensor weights = weights_in;
  at::Tensor wsum = weights.sum(-1, true);                                // [N, 1]
  const at::Tensor pad = at::clamp_min(eps - wsum, 0.0);                  // [N, 1]
  weights = weights + pad / double(weights.size(-1));
  wsum = wsum + pad;
  const at::Tensor pdf = weights / wsum;                                  // [N, n]
  at::Tensor cdf = at::clamp_max(at::cumsum(pdf.slice(1, 0, -1), -1), 1.0);  // [N, n-1]
  cdf = at::cat({at::zeros({N, 1}, cdf.options()), cdf, at::ones({N, 1}, cdf.options())}, 1);  // [N, n+1]

  const double s = 1.0 / double(n_draws);
  at::Tensor u;  // [N, n_draws] sorted quantiles in [0, 1)
  if (randomized) {
    u = at::arange(n_draws, cdf.options()).mul_(s).unsqueeze(0) +
        at::rand({N, n_draws}, gen, cdf.options()) * (s - kFloatEps);
    u = at::clamp_max(u, 1.0 - kFloatEps);
  } else {
    u = at::linspace(0.0, 1.0 - kFloatEps, n_draws, cdf.options()).unsqueeze(0).expand({N, n_draws});
  }
  u = u.contiguous();
  // Interval of each u: cdf[below] <= u < cdf[above], above = first index with cdf > u.
  // (Equivalent to mip-NeRF's dense mask formulation, in O(n log n) memory-free form.)
  const at::Tensor above = at::searchsorted(cdf.contiguous(), u, /*out_int32=*/false, /*right=*/true)
                               .clamp(1, cdf.size(1) - 1);   // [N, n_draws]
  const at::Tensor below = above - 1;
  const at::Tensor b0 = bins.gather(1, below), b1 = bins.gather(1, above);
  const at::Tensor c0 = cdf.gather(1, below), c1 = cdf.gather(1, above);
  const at::Tensor frac = at::clamp(at::nan_to_num((u - c0) / (c1 - c0), 0.0), 0.0, 1.0);
  return b0 + frac * (b1 - b0);
}

at::Tensor sample_pdf(const at::Tensor& t_vals_in, const at::Tensor& weights_in, int64_t n_samples,
                      bool randomized, at::Generator gen, double padding) {
  if (n_samples < 1) throw std::runtime_error("sample_pdf: n_samples must be >= 1");
  // Stop-gradient: the new samples are constants for the fine pass (mip-NeRF stop_grad=True).
  const at::Tensor t_vals = t_vals_in.detach();
  const at::Tensor w = weights_in.detach().to(t_vals.scalar_type());  // [N, n]
  if (w.dim() != 2 || w.size(1) < 1)
    throw std::runtime_error("sample_pdf: weights must be [N, n] with n >= 1, got " + c10::str(w.sizes()));
  // Blur: pad with the edge values, max-pool of width 2, then average neighbouring maxima.
  const at::Tensor wpad = at::cat({w.slice(1, 0, 1), w, w.slice(1, -1)}, 1);             // [N, n+2]
  const at::Tensor wmax = at::maximum(wpad.slice(1, 0, -1), wpad.slice(1, 1));          // [N, n+1]
  const at::Tensor wblur = 0.5 * (wmax.slice(1, 0, -1) + wmax.slice(1, 1)) + padding;  // [N, n]
  return sorted_piecewise_constant_pdf(t_vals, wblur, n_samples + 1, randomized, gen);
}

}  // namespace nf
