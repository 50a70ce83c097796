#pragma once
// Chunked evaluation of a per-ray function: splits rays into chunks of at most `chunk` rays, calls
// render_fn on each under c10::NoGradGuard (evaluation only) and concatenates along dim 0.
// Keeps peak memory bounded when rendering whole images.
#include <ATen/ATen.h>
#include <c10/core/GradMode.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <vector>

#include "render/rays.h"

namespace nf {

// render_fn: Rays of size M -> [M, ...]; result: [N, ...].
inline at::Tensor render_chunked(const std::function<at::Tensor(const Rays&)>& render_fn, const Rays& rays,
                                 int64_t chunk) {
  if (chunk < 1) throw std::runtime_error("render_chunked: chunk must be >= 1");
  c10::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (int64_t b = 0; b < rays.size(); b += chunk) parts.push_back(render_fn(rays.slice(b, std::min(b + chunk, rays.size()))));
  if (parts.empty()) return render_fn(rays);  // zero rays: let render_fn give the empty shape
  return parts.size() == 1 ? parts[0] : at::cat(parts, 0);
}

// Several outputs per ray (e.g. rgb, depth, acc): render_fn returns K tensors [M, ...]; result K
// tensors [N, ...]. Every call must return the same K.
inline std::vector<at::Tensor> render_chunked_multi(
    const std::function<std::vector<at::Tensor>(const Rays&)>& render_fn, const Rays& rays, int64_t chunk) {
  if (chunk < 1) throw std::runtime_error("render_chunked_multi: chunk must be >= 1");
  c10::NoGradGuard no_grad;
  std::vector<std::vector<at::Tensor>> parts;  // [K][chunks]
  for (int64_t b = 0; b < rays.size(); b += chunk) {
    std::vector<at::Tensor> outs = render_fn(rays.slice(b, std::min(b + chunk, rays.size())));
    if (parts.empty()) parts.resize(outs.size());
    if (outs.size() != parts.size())
      throw std::runtime_error("render_chunked_multi: render_fn returned a different number of outputs");
    for (size_t k = 0; k < outs.size(); ++k) parts[k].push_back(std::move(outs[k]));
  }
  if (parts.empty()) return render_fn(rays);
  std::vector<at::Tensor> result;
  result.reserve(parts.size());
  for (auto& p : parts) result.push_back(p.size() == 1 ? p[0] : at::cat(p, 0));
  return result;
}

}  // namespace nf
