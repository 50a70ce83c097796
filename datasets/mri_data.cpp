// MRI problem construction: orthonormal 3-D FFT, k-space masks.
#include "datasets/mri_data.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <stdexcept>
#include <vector>

namespace nf {
namespace {

// Centred integer frequency of each index of an unshifted FFT axis (numpy fftfreq * n).
at::Tensor centred_freq(int64_t n) {
  auto i = at::arange(n, at::TensorOptions().dtype(at::kDouble));
  return at::where(i < (n + 1) / 2, i, i - static_cast<double>(n));
}

const std::vector<int64_t> kFftDims{-3, -2, -1};

}  // namespace

at::Tensor load_mri(const std::filesystem::path& path) {
  auto v = load_npy(path);
  if (v.dim() != 3) throw std::runtime_error(path.string() + ": expected a 3-D volume, got " +
                                             std::to_string(v.dim()) + " dims");
  if (v.numel() == 0)  // min/max of nothing would throw LibTorch's multi-line error
    throw std::runtime_error(path.string() + ": volume is empty (" + std::to_string(v.size(0)) + "x" +
                             std::to_string(v.size(1)) + "x" + std::to_string(v.size(2)) + ")");
  if (v.scalar_type() == at::kByte) return (v.to(at::kFloat) / 255.0).contiguous();
  auto f = v.to(at::kFloat);
  // One NaN/Inf voxel would make min/max non-finite and the whole target zeros (PSNR looks fine).
  const at::Tensor bad = (~at::isfinite(f)).flatten().nonzero();
  if (bad.numel() > 0)
    throw std::runtime_error(path.string() + ": " + std::to_string(bad.size(0)) +
                             " non-finite voxels (NaN/Inf), the first at flat index " +
                             std::to_string(bad[0][0].item<int64_t>()));
  const double lo = f.min().item<double>(), hi = f.max().item<double>();
  return (hi > lo ? (f - lo) / (hi - lo) : at::zeros_like(f)).contiguous();
}

at::Tensor mri_forward(const at::Tensor& volume) {
  if (volume.dim() < 3) throw std::runtime_error("mri_forward: volume must be [..., D, H, W]");
  auto v = at::isFloatingType(volume.scalar_type()) || at::isComplexType(volume.scalar_type())
               ? volume : volume.to(at::kFloat);
  return at::fft_fftn(v, at::OptionalIntArrayRef(), at::IntArrayRef(kFftDims), "ortho");
}

at::Tensor mri_inverse(const at::Tensor& kspace) {
  if (kspace.dim() < 3) throw std::runtime_error("mri_inverse: kspace must be [..., D, H, W]");
  return at::fft_ifftn(kspace, at::OptionalIntArrayRef(), at::IntArrayRef(kFftDims), "ortho");
}

at::Tensor kspace_mask(at::IntArrayRef sizes, const std::string& pattern, double rate,
                       uint64_t seed) {
  if (sizes.empty()) throw std::runtime_error("kspace_mask: sizes must not be empty");
  if (!(rate >= 0.0 && rate <= 1.0))
    throw std::runtime_error("kspace_mask: rate must be in [0, 1], got " + std::to_string(rate));
  const auto nd = static_cast<int64_t>(sizes.size());
  if (pattern == "lines") {
    if (nd < 2) throw std::runtime_error("kspace_mask: 'lines' needs at least 2 axes");
    auto lines = kspace_mask(sizes.slice(0, nd - 1), "gaussian", rate, seed);  // [D, H]
    return lines.unsqueeze(-1).expand(sizes).contiguous();
  }
  if (pattern != "random" && pattern != "gaussian")
    throw std::runtime_error("kspace_mask: unknown pattern '" + pattern +
                             "' (random, gaussian, lines)");

  // Normalised squared frequency radius and the fully sampled centre block.
  auto dopts = at::TensorOptions().dtype(at::kDouble);
  auto r2 = at::zeros(sizes, dopts);
  auto centre = at::ones(sizes, at::TensorOptions().dtype(at::kBool));
  for (int64_t d = 0; d < nd; ++d) {
    const int64_t n = sizes[d];
    std::vector<int64_t> view(nd, 1);
    view[d] = n;
    auto f = centred_freq(n).reshape(view);
    r2 = r2 + (f / std::max(n / 2.0, 1.0)).pow(2);
    centre = centre.logical_and(f.abs() <= static_cast<double>(std::max<int64_t>(1, n / 24)));
  }
  const int64_t N = r2.numel();
  const int64_t n_centre = centre.sum().item<int64_t>();
  const int64_t k = std::min(N, std::max(n_centre, static_cast<int64_t>(std::llround(rate * N))));

  // Sampling without replacement as "the k smallest keys": uniform keys for "random";
  // Efraimidis–Spirakis keys Exp(1) / weight for "gaussian". The centre block gets key -1.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto u = at::rand({N}, gen, dopts).clamp_min(1e-300);
  at::Tensor keys = u;
  if (pattern == "gaussian") {
    const double sigma = 0.3;
    keys = -at::log(u) / at::exp(-r2.flatten() / (2.0 * sigma * sigma));
  }
  keys = at::where(centre.flatten(), at::full({N}, -1.0, dopts), keys);
  auto idx = std::get<1>(at::topk(keys, k, 0, /*largest=*/false, /*sorted=*/false));
  auto mask = at::zeros({N}, at::TensorOptions().dtype(at::kFloat));
  mask.index_fill_(0, idx, 1.0);
  return mask.reshape(sizes);
}

MriProblem make_mri_problem(const at::Tensor& volume, const std::string& pattern, double rate,
                            uint64_t seed, double noise_std) {
  if (volume.dim() != 3) throw std::runtime_error("make_mri_problem: volume must be [D, H, W]");
  MriProblem p;
  p.volume = volume.to(at::kFloat).contiguous();
  auto k = mri_forward(p.volume);  // [D, H, W] complex64
  p.mask = kspace_mask(p.volume.sizes(), pattern, rate, seed).to(p.volume.device());
  if (noise_std > 0) {
    auto gen = at::make_generator<at::CPUGeneratorImpl>(seed + 1);
    auto fopts = at::TensorOptions().dtype(at::kFloat);
    auto re = at::randn(p.volume.sizes(), gen, fopts);
    auto im = at::randn(p.volume.sizes(), gen, fopts);
    k = k + at::complex(re, im).to(k.device()) * noise_std;
  }
  p.observed = k * p.mask;
  return p;
}

at::Tensor mri_zero_filled(const MriProblem& problem) {
  return at::abs(mri_inverse(problem.observed)).to(at::kFloat);
}

}  // namespace nf
