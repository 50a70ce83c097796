// MRI problem construction: .npy reader, orthonormal 3-D FFT, k-space masks.
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

// The value text after 'key': in a .npy header dict (trimmed, up to the next ',' or '}' at depth 0;
// a parenthesised tuple is returned whole). Empty when the key is missing.
std::string dict_value(const std::string& header, const std::string& key) {
  size_t pos = header.find("'" + key + "'");
  if (pos == std::string::npos) pos = header.find("\"" + key + "\"");
  if (pos == std::string::npos) return {};
  pos = header.find(':', pos);
  if (pos == std::string::npos) return {};
  ++pos;
  while (pos < header.size() && std::isspace(static_cast<unsigned char>(header[pos]))) ++pos;
  if (pos >= header.size()) return {};
  if (header[pos] == '(') {
    const size_t end = header.find(')', pos);
    return end == std::string::npos ? std::string{} : header.substr(pos, end - pos + 1);
  }
  if (header[pos] == '\'' || header[pos] == '"') {
    const size_t end = header.find(header[pos], pos + 1);
    return end == std::string::npos ? std::string{} : header.substr(pos + 1, end - pos - 1);
  }
  size_t end = pos;
  while (end < header.size() && header[end] != ',' && header[end] != '}') ++end;
  std::string v = header.substr(pos, end - pos);
  while (!v.empty() && std::isspace(static_cast<unsigned char>(v.back()))) v.pop_back();
  return v;
}

// "(96, 96, 96)" / "(5,)" / "()" -> sizes; false on anything else.
bool parse_shape(const std::string& tuple, std::vector<int64_t>& shape) {
  if (tuple.size() < 2 || tuple.front() != '(' || tuple.back() != ')') return false;
  std::string item;
  for (size_t i = 1; i < tuple.size(); ++i) {
    const char ch = tuple[i];
    if (ch == ',' || ch == ')') {
      while (!item.empty() && (item.back() == 'L' || item.back() == ' ')) item.pop_back();
      if (!item.empty()) {
        if (!std::all_of(item.begin(), item.end(), [](char c) { return std::isdigit(c); }))
          return false;
        shape.push_back(std::stoll(item));
      }
      item.clear();
    } else if (!std::isspace(static_cast<unsigned char>(ch))) {
      item += ch;
    }
  }
  return true;
}

// Centred integer frequency of each index of an unshifted FFT axis (numpy fftfreq * n).
at::Tensor centred_freq(int64_t n) {
  auto i = at::arange(n, at::TensorOptions().dtype(at::kDouble));
  return at::where(i < (n + 1) / 2, i, i - static_cast<double>(n));
}

const std::vector<int64_t> kFftDims{-3, -2, -1};

}  // namespace

at::Tensor load_npy(const std::filesystem::path& path) {
  auto fail = [&](const std::string& what) {
    throw std::runtime_error(path.string() + ": " + what);
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("cannot open file");
  const std::string buf((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (buf.size() < 10 || buf.compare(0, 6, "\x93NUMPY") != 0) fail("not a .npy file (bad magic)");
  const auto* b = reinterpret_cast<const unsigned char*>(buf.data());
  const int major = b[6];
  size_t hlen = 0, hstart = 0;
  if (major == 1) {
    hlen = b[8] | (static_cast<size_t>(b[9]) << 8);
    hstart = 10;
  } else if (major == 2 || major == 3) {
    if (buf.size() < 12) fail("truncated header");
    hlen = b[8] | (static_cast<size_t>(b[9]) << 8) | (static_cast<size_t>(b[10]) << 16) |
           (static_cast<size_t>(b[11]) << 24);
    hstart = 12;
  } else {
    fail("unsupported .npy format version " + std::to_string(major));
  }
  if (hstart + hlen > buf.size()) fail("truncated header");
  const std::string header = buf.substr(hstart, hlen);

  const std::string descr = dict_value(header, "descr");
  const std::string fortran = dict_value(header, "fortran_order");
  std::vector<int64_t> shape;
  if (descr.empty()) fail("header has no 'descr'");
  if (fortran == "True") fail("fortran_order arrays are not supported (save in C order)");
  if (fortran != "False") fail("header has no valid 'fortran_order'");
  if (!parse_shape(dict_value(header, "shape"), shape)) fail("header has no valid 'shape'");

  struct Kind { const char* descr; at::ScalarType type; size_t item; };
  static const Kind kKinds[] = {
      {"|u1", at::kByte, 1},  {"<u1", at::kByte, 1},  {"|b1", at::kBool, 1},
      {"<u2", at::kInt, 2},   {"<i2", at::kShort, 2}, {"<i4", at::kInt, 4},
      {"<f4", at::kFloat, 4}, {"<f8", at::kDouble, 8}};
  const Kind* kind = nullptr;
  for (const auto& k : kKinds)
    if (descr == k.descr) kind = &k;
  if (!kind) fail("unsupported dtype '" + descr + "' (|u1 <u2 <i2 <i4 <f4 <f8, little-endian)");
  const uint16_t probe = 1;
  if (*reinterpret_cast<const unsigned char*>(&probe) != 1) fail("big-endian host not supported");

  size_t numel = 1;
  for (int64_t s : shape) {
    if (s < 0 || (s > 0 && numel > std::numeric_limits<size_t>::max() / 16 / s))
      fail("invalid shape");
    numel *= static_cast<size_t>(s);
  }
  const size_t offset = hstart + hlen, need = numel * kind->item, have = buf.size() - offset;
  if (have < need)
    fail("truncated data (expected " + std::to_string(need) + " bytes, found " +
         std::to_string(have) + ")");

  auto out = at::empty(shape, at::TensorOptions().dtype(kind->type));
  const char* src = buf.data() + offset;
  if (std::string(kind->descr) == "<u2") {  // no uint16 tensors in LibTorch 1.13: widen
    auto* dst = out.data_ptr<int32_t>();
    for (size_t i = 0; i < numel; ++i) {
      uint16_t v;
      std::memcpy(&v, src + 2 * i, 2);
      dst[i] = v;
    }
  } else if (need > 0) {
    std::memcpy(out.data_ptr(), src, need);
  }
  return out;
}

at::Tensor load_mri(const std::filesystem::path& path) {
  auto v = load_npy(path);
  if (v.dim() != 3) throw std::runtime_error(path.string() + ": expected a 3-D volume, got " +
                                             std::to_string(v.dim()) + " dims");
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
