// Camera rays (see rays.h).
#include "render/rays.h"

#include <cmath>
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

Rays generate_rays(int H, int W, double focal, const at::Tensor& c2w_in, double near, double far) {
  if (H <= 0 || W <= 0 || !(focal > 0))
    throw std::runtime_error("generate_rays: need H, W > 0 and focal > 0 (got H=" + std::to_string(H) +
                             ", W=" + std::to_string(W) + ", focal=" + std::to_string(focal) + ")");
  if (c2w_in.dim() != 2 || (c2w_in.size(0) != 3 && c2w_in.size(0) != 4) || c2w_in.size(1) != 4)
    throw std::runtime_error("generate_rays: c2w must be [3, 4] or [4, 4], got " +
                             c10::str(c2w_in.sizes()));
  const auto dtype = at::isFloatingType(c2w_in.scalar_type()) ? c2w_in.scalar_type() : at::kFloat;
  // Compute in double, return in the requested dtype.
  auto opt = at::TensorOptions().dtype(at::kDouble).device(c2w_in.device());
  const at::Tensor c2w = c2w_in.to(opt).slice(0, 0, 3);  // [3, 4]
  const at::Tensor R = c2w.slice(1, 0, 3);                 // [3, 3]
  const at::Tensor o = c2w.select(1, 3);                   // [3]

  // Pixel centres, row-major: x along columns (i), y along rows (j).
  const at::Tensor xs = at::arange(W, opt).add_(0.5 - 0.5 * W).div_(focal);   // [W]
  const at::Tensor ys = at::arange(H, opt).add_(0.5 - 0.5 * H).div_(-focal);  // [H] (y up)
  const at::Tensor gx = xs.unsqueeze(0).expand({H, W});                      // [H, W]
  const at::Tensor gy = ys.unsqueeze(1).expand({H, W});                      // [H, W]
  const at::Tensor cam = at::stack({gx, gy, at::full({H, W}, -1.0, opt)}, -1);  // [H, W, 3]
  const at::Tensor dirs = at::matmul(cam, R.t());                                         // [H, W, 3]

  // mip-NeRF: dx between vertically neighbouring directions; the last row repeats the one above.
  at::Tensor dx;  // [H, W]
  if (H > 1) {
    dx = (dirs.slice(0, 0, H - 1) - dirs.slice(0, 1, H)).pow(2).sum(-1).sqrt();
    dx = at::cat({dx, dx.slice(0, H - 2, H - 1)}, 0);
  } else {
    dx = at::full({H, W}, 1.0 / focal, opt) * R.select(1, 1).norm();  // no neighbour: analytic
  }

  const int64_t N = int64_t(H) * W;
  Rays r;
  r.directions = dirs.reshape({N, 3});
  r.origins = o.unsqueeze(0).expand({N, 3}).contiguous();
  r.viewdirs = r.directions / r.directions.norm(2, -1, true);
  r.radii = dx.reshape({N, 1}) * (2.0 / std::sqrt(12.0));
  r.near = at::full({N, 1}, near, opt);
  r.far = at::full({N, 1}, far, opt);
  return r.to(at::TensorOptions().dtype(dtype));
}

}  // namespace nf
