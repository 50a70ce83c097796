// Volume rendering: tensor-op reference and the fused autograd Function (see volume_render.h).
#include "render/volume_render.h"

#include <ATen/Parallel.h>
#include <c10/core/GradMode.h>
#include <torch/autograd.h>

#include <stdexcept>
#include <string>

#include "fields/compat.h"
#include "render/cuda/volume_render.h"
#include "render/volume_render_ray.h"

namespace nf {

namespace {

// Checks shapes and devices; returns S. Errors are one line naming the argument.
int64_t check_inputs(const char* fn, const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t_vals,
                     const at::Tensor& dirs, const at::Tensor& bg) {
  auto fail = [&](const std::string& msg) { throw std::runtime_error(std::string(fn) + ": " + msg); };
  if (density.dim() != 2) fail("density must be [N, S], got " + c10::str(density.sizes()));
  const int64_t N = density.size(0), S = density.size(1);
  if (rgb.dim() != 3 || rgb.size(0) != N || rgb.size(1) != S || rgb.size(2) != 3)
    fail("rgb must be [N, S, 3] = [" + std::to_string(N) + ", " + std::to_string(S) + ", 3], got " +
         c10::str(rgb.sizes()));
  if (t_vals.dim() != 2 || t_vals.size(0) != N || t_vals.size(1) != S + 1)
    fail("t_vals must be [N, S + 1] = [" + std::to_string(N) + ", " + std::to_string(S + 1) + "], got " +
         c10::str(t_vals.sizes()));
  if (dirs.dim() != 2 || dirs.size(0) != N || dirs.size(1) != 3)
    fail("dirs must be [N, 3], got " + c10::str(dirs.sizes()));
  if (!((bg.dim() == 1 && bg.size(0) == 3) || (bg.dim() == 2 && bg.size(0) == N && bg.size(1) == 3)))
    fail("bg must be [3] or [N, 3], got " + c10::str(bg.sizes()));
  for (const at::Tensor* t : {&rgb, &t_vals, &dirs, &bg})
    if (t->device() != density.device()) fail("all inputs must be on density's device");
  return S;
}

// ---------------------------------------------------------------- CPU loops (float, double)
void forward_cpu(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t, const at::Tensor& dirs,
                 const at::Tensor& bg, at::Tensor& o_rgb, at::Tensor& o_depth, at::Tensor& o_acc,
                 at::Tensor& o_w) {
  const int64_t N = density.size(0), S = density.size(1);
  AT_DISPATCH_FLOATING_TYPES(density.scalar_type(), "volume_render_forward_cpu", [&] {
    const scalar_t *pd = density.data_ptr<scalar_t>(), *pc = rgb.data_ptr<scalar_t>(),
                   *pt = t.data_ptr<scalar_t>(), *pdir = dirs.data_ptr<scalar_t>(), *pb = bg.data_ptr<scalar_t>();
    scalar_t *orgb = o_rgb.data_ptr<scalar_t>(), *odep = o_depth.data_ptr<scalar_t>(),
             *oacc = o_acc.data_ptr<scalar_t>(), *ow = o_w.data_ptr<scalar_t>();
    at::parallel_for(0, N, 64, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        vr::render_ray_forward<scalar_t>(S, pd + r * S, pc + r * S * 3, pt + r * (S + 1), pdir + r * 3,
                                         pb + r * 3, orgb + r * 3, odep + r, oacc + r, ow + r * S);
    });
  });
}

void backward_cpu(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t, const at::Tensor& dirs,
                  const at::Tensor& bg, const at::Tensor& g_rgb, const at::Tensor& g_depth,
                  const at::Tensor& g_acc, const at::Tensor& g_w, at::Tensor& grad_density, at::Tensor& grad_rgb) {
  const int64_t N = density.size(0), S = density.size(1);
  AT_DISPATCH_FLOATING_TYPES(density.scalar_type(), "volume_render_backward_cpu", [&] {
    const scalar_t *pd = density.data_ptr<scalar_t>(), *pc = rgb.data_ptr<scalar_t>(),
                   *pt = t.data_ptr<scalar_t>(), *pdir = dirs.data_ptr<scalar_t>(), *pb = bg.data_ptr<scalar_t>();
    const scalar_t *gc = g_rgb.data_ptr<scalar_t>(), *gdep = g_depth.data_ptr<scalar_t>(),
                   *gacc = g_acc.data_ptr<scalar_t>(), *gw = g_w.data_ptr<scalar_t>();
    scalar_t *od = grad_density.data_ptr<scalar_t>(), *oc = grad_rgb.data_ptr<scalar_t>();
    at::parallel_for(0, N, 64, [&](int64_t b, int64_t e) {
      for (int64_t r = b; r < e; ++r)
        vr::render_ray_backward<scalar_t>(S, pd + r * S, pc + r * S * 3, pt + r * (S + 1), pdir + r * 3,
                                          pb + r * 3, gc + r * 3, gdep[r], gacc[r], gw + r * S,
                                          od + r * S, oc + r * S * 3);
    });
  });
}

// ---------------------------------------------------------------- device dispatch (the one place)
// All tensors contiguous, same dtype/device; bg already [N, 3].
void run_forward(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t, const at::Tensor& dirs,
                 const at::Tensor& bg, at::Tensor& o_rgb, at::Tensor& o_depth, at::Tensor& o_acc, at::Tensor& o_w) {
#ifdef NORMFIELD_WITH_CUDA
  if (nf::cuda_dispatch(density)) {
    const int64_t N = density.size(0), S = density.size(1);
    AT_DISPATCH_FLOATING_TYPES(density.scalar_type(), "volume_render_forward_cuda", [&] {
      vr::forward_cuda(N, S, density.data_ptr<scalar_t>(), rgb.data_ptr<scalar_t>(), t.data_ptr<scalar_t>(),
                       dirs.data_ptr<scalar_t>(), bg.data_ptr<scalar_t>(), o_rgb.data_ptr<scalar_t>(),
                       o_depth.data_ptr<scalar_t>(), o_acc.data_ptr<scalar_t>(), o_w.data_ptr<scalar_t>(),
                       nf::current_cuda_stream());
    });
    return;
  }
#endif
  {
    if (!density.device().is_cpu())
      throw std::runtime_error("volume_render_fused: tensors on " + density.device().str() +
                               " but normfield was built without its CUDA kernels (NORMFIELD_CUDA=OFF)");
    forward_cpu(density, rgb, t, dirs, bg, o_rgb, o_depth, o_acc, o_w);
  }
}

void run_backward(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t, const at::Tensor& dirs,
                  const at::Tensor& bg, const at::Tensor& g_rgb, const at::Tensor& g_depth, const at::Tensor& g_acc,
                  const at::Tensor& g_w, at::Tensor& grad_density, at::Tensor& grad_rgb) {
#ifdef NORMFIELD_WITH_CUDA
  if (nf::cuda_dispatch(density)) {
    const int64_t N = density.size(0), S = density.size(1);
    AT_DISPATCH_FLOATING_TYPES(density.scalar_type(), "volume_render_backward_cuda", [&] {
      vr::backward_cuda(N, S, density.data_ptr<scalar_t>(), rgb.data_ptr<scalar_t>(), t.data_ptr<scalar_t>(),
                        dirs.data_ptr<scalar_t>(), bg.data_ptr<scalar_t>(), g_rgb.data_ptr<scalar_t>(),
                        g_depth.data_ptr<scalar_t>(), g_acc.data_ptr<scalar_t>(), g_w.data_ptr<scalar_t>(),
                        grad_density.data_ptr<scalar_t>(), grad_rgb.data_ptr<scalar_t>(),
                        nf::current_cuda_stream());
    });
    return;
  }
#endif
  {
    backward_cpu(density, rgb, t, dirs, bg, g_rgb, g_depth, g_acc, g_w, grad_density, grad_rgb);
  }
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Outputs: rgb [N, 3], depth [N], acc [N], weights [N, S].
class VolumeRenderFunction : public torch::autograd::Function<VolumeRenderFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& density, const at::Tensor& rgb,
                               const at::Tensor& t_vals, const at::Tensor& dirs, const at::Tensor& bg) {
    const int64_t N = density.size(0), S = density.size(1);
    const at::Tensor d = density.contiguous(), c = rgb.contiguous(), t = t_vals.contiguous(),
                     dir = dirs.contiguous(), b = bg.expand({N, 3}).contiguous();
    at::Tensor o_rgb = at::empty({N, 3}, d.options()), o_depth = at::empty({N}, d.options()),
               o_acc = at::empty({N}, d.options()), o_w = at::empty({N, S}, d.options());
    run_forward(d, c, t, dir, b, o_rgb, o_depth, o_acc, o_w);
    ctx->save_for_backward({d, c, t, dir, b, o_acc});
    ctx->saved_data["bg_is_shared"] = bg.dim() == 1;
    return {o_rgb, o_depth, o_acc, o_w};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const at::Tensor &d = saved[0], &c = saved[1], &t = saved[2], &dir = saved[3], &b = saved[4], &acc = saved[5];
    // Unused outputs arrive as zeros (materialised grads).
    const at::Tensor g_rgb = grads[0].contiguous(), g_depth = grads[1].contiguous(),
                     g_acc = grads[2].contiguous(), g_w = grads[3].contiguous();
    at::Tensor grad_density = at::empty_like(d), grad_rgb = at::empty_like(c);
    run_backward(d, c, t, dir, b, g_rgb, g_depth, g_acc, g_w, grad_density, grad_rgb);
    at::Tensor grad_bg = g_rgb * (1.0 - acc).unsqueeze(1);  // [N, 3]
    if (ctx->saved_data["bg_is_shared"].toBool()) grad_bg = grad_bg.sum(0);
    return {grad_density, grad_rgb, at::Tensor(), at::Tensor(), grad_bg};
  }
};

}  // namespace

RenderOutput volume_render_reference(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t_vals,
                                     const at::Tensor& dirs, const at::Tensor& bg) {
  check_inputs("volume_render_reference", density, rgb, t_vals, dirs, bg);
  const at::Tensor t_mids = 0.5 * (t_vals.slice(1, 0, -1) + t_vals.slice(1, 1));   // [N, S]
  const at::Tensor delta = (t_vals.slice(1, 1) - t_vals.slice(1, 0, -1)) * dirs.norm(2, -1, true);
  const at::Tensor sd = density * delta;                                          // [N, S]
  const at::Tensor alpha = 1.0 - at::exp(-sd);
  const at::Tensor excl = at::cat({at::zeros_like(sd.slice(1, 0, 1)), at::cumsum(sd.slice(1, 0, -1), 1)}, 1);
  RenderOutput out;
  out.weights = alpha * at::exp(-excl);                                           // [N, S]
  out.acc = out.weights.sum(1);                                                   // [N]
  out.depth = (out.weights * t_mids).sum(1);                                      // [N]
  out.rgb = (out.weights.unsqueeze(-1) * rgb).sum(1) + (1.0 - out.acc).unsqueeze(1) * bg;  // [N, 3]
  return out;
}

RenderOutput volume_render_fused(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t_vals,
                                 const at::Tensor& dirs, const at::Tensor& bg) {
  check_inputs("volume_render_fused", density, rgb, t_vals, dirs, bg);
  const auto st = density.scalar_type();
  if (st != at::kFloat && st != at::kDouble)
    throw std::runtime_error("volume_render_fused: density must be float32 or float64");
  for (const at::Tensor* t : {&rgb, &t_vals, &dirs, &bg})
    if (t->scalar_type() != st) throw std::runtime_error("volume_render_fused: all inputs must share density's dtype");
  if (c10::GradMode::is_enabled() && (t_vals.requires_grad() || dirs.requires_grad()))
    throw std::runtime_error(
        "volume_render_fused: no gradient w.r.t. t_vals or dirs (detach them or use volume_render_reference)");
  const variable_list out = VolumeRenderFunction::apply(density, rgb, t_vals, dirs, bg);
  return {out[0], out[1], out[2], out[3]};
}

RenderOutput volume_render(const at::Tensor& density, const at::Tensor& rgb, const at::Tensor& t_vals,
                           const at::Tensor& dirs, const at::Tensor& bg) {
  return volume_render_fused(density, rgb, t_vals, dirs, bg);
}

at::Tensor normalized_depth(const RenderOutput& out, const at::Tensor& t_vals) {
  const at::Tensor far = t_vals.select(1, -1);
  const at::Tensor hit = out.acc > 0;
  // Safe denominator: no NaN in the branch at::where drops (it would poison gradients).
  at::Tensor d = at::where(hit, out.depth / at::where(hit, out.acc, at::ones_like(out.acc)), far);
  return at::minimum(at::maximum(d, t_vals.select(1, 0)), far);
}

}  // namespace nf
