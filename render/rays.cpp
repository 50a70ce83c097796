// Camera rays (see rays.h).
#include "render/rays.h"

#include "render/camera.h"

#include <stdexcept>
#include <string>

namespace nf {

Rays Rays::slice(int64_t begin, int64_t end) const {
  auto s = [&](const at::Tensor& t) { return t.slice(0, begin, end); };
  return {s(origins), s(directions), s(viewdirs), s(radii), s(near), s(far)};
}

Rays Rays::index(const at::Tensor& idx) const {
  auto s = [&](const at::Tensor& t) { return t.index_select(0, idx.to(t.device())); };
  return {s(origins), s(directions), s(viewdirs), s(radii), s(near), s(far)};
}

Rays Rays::to(const at::TensorOptions& opt) const {
  auto s = [&](const at::Tensor& t) { return t.to(opt); };
  return {s(origins), s(directions), s(viewdirs), s(radii), s(near), s(far)};
}

Rays Rays::cat(const std::vector<Rays>& parts) {
  auto c = [&](at::Tensor Rays::*field) {
    std::vector<at::Tensor> ts;
    ts.reserve(parts.size());
    for (const auto& p : parts) ts.push_back(p.*field);
    return at::cat(ts, 0);
  };
  return {c(&Rays::origins), c(&Rays::directions), c(&Rays::viewdirs),
          c(&Rays::radii),   c(&Rays::near),       c(&Rays::far)};
}

Rays generate_rays(int H, int W, double focal, const at::Tensor& c2w, double near, double far) {
  if (H <= 0 || W <= 0 || !(focal > 0))
    throw std::runtime_error("generate_rays: need H, W > 0 and focal > 0 (got H=" + std::to_string(H) +
                             ", W=" + std::to_string(W) + ", focal=" + std::to_string(focal) + ")");
  if (c2w.dim() != 2 || (c2w.size(0) != 3 && c2w.size(0) != 4) || c2w.size(1) != 4)
    throw std::runtime_error("generate_rays: c2w must be [3, 4] or [4, 4], got " + c10::str(c2w.sizes()));
  return generate_rays(Camera::from_opengl(W, H, focal, c2w), near, far);
}

}  // namespace nf
