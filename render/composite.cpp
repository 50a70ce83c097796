// Compositing from alphas: tensor-op reference and the fused autograd Function (see composite.h).
#include "render/composite.h"

#include <ATen/Parallel.h>
#include <torch/autograd.h>

#include <stdexcept>
#include <string>

#include "fields/compat.h"
#include "render/composite_ray.h"
#include "render/cuda/composite.h"

namespace nf {

namespace {

// Checks shapes, dtypes and devices (one-line errors naming the argument).
void check_inputs(const char* fn, const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t,
                  const at::Tensor& bg, bool fused) {
  auto fail = [&](const std::string& msg) { throw std::runtime_error(std::string(fn) + ": " + msg); };
  if (!alpha.defined() || alpha.dim() != 2)
    fail("alpha must be [N, S], got " + (alpha.defined() ? c10::str(alpha.sizes()) : std::string("undefined")));
  const int64_t N = alpha.size(0), S = alpha.size(1);
  if (!rgb.defined() || rgb.dim() != 3 || rgb.size(0) != N || rgb.size(1) != S || rgb.size(2) < 1)
    fail("rgb must be [N, S, C] with N = " + std::to_string(N) + ", S = " + std::to_string(S) + ", got " +
         (rgb.defined() ? c10::str(rgb.sizes()) : std::string("undefined")));
  const int64_t C = rgb.size(2);
  if (t.defined() && (t.dim() != 2 || t.size(0) != N || t.size(1) != S))
    fail("t must be [N, S] = [" + std::to_string(N) + ", " + std::to_string(S) + "] or undefined, got " +
         c10::str(t.sizes()));
  if (bg.defined() && !((bg.dim() == 1 && bg.size(0) == C) || (bg.dim() == 2 && bg.size(0) == N && bg.size(1) == C)))
    fail("bg must be [C] or [N, C] with C = " + std::to_string(C) + " (or undefined), got " + c10::str(bg.sizes()));
  for (const at::Tensor* x : {&rgb, &t, &bg}) {
    if (!x->defined()) continue;
    if (x->device() != alpha.device()) fail("all inputs must be on alpha's device");
    if (fused && x->scalar_type() != alpha.scalar_type()) fail("all inputs must share alpha's dtype");
  }
  if (fused && alpha.scalar_type() != at::kFloat && alpha.scalar_type() != at::kDouble)
    fail("alpha must be float32 or float64");
}

template <typename T>
const T* ptr_or_null(const at::Tensor& x) {
  return x.defined() && x.numel() > 0 ? x.data_ptr<T>() : nullptr;
}

// ---------------------------------------------------------------- device dispatch (the one place)
// All defined tensors contiguous, same dtype/device; t: [N, S] or empty, bg: [N, C] or empty.
void run_forward(double eps, const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t,
                 const at::Tensor& bg, at::Tensor& o_rgb, at::Tensor& o_depth, at::Tensor& o_acc,
                 at::Tensor& o_w) {
  const int64_t N = alpha.size(0), S = alpha.size(1), C = rgb.size(2);
#ifdef NORMFIELD_WITH_CUDA
  if (nf::cuda_dispatch(alpha)) {
    AT_DISPATCH_FLOATING_TYPES(alpha.scalar_type(), "composite_forward_cuda", [&] {
      cr::composite_forward_cuda(N, S, C, eps, alpha.data_ptr<scalar_t>(), rgb.data_ptr<scalar_t>(),
                                 ptr_or_null<scalar_t>(t), ptr_or_null<scalar_t>(bg), o_rgb.data_ptr<scalar_t>(),
                                 o_depth.data_ptr<scalar_t>(), o_acc.data_ptr<scalar_t>(), o_w.data_ptr<scalar_t>(),
                                 nf::current_cuda_stream());
    });
    return;
  }
#endif
  if (!alpha.device().is_cpu())
    throw std::runtime_error("composite_fused: tensors on " + alpha.device().str() +
                             " but normfield was built without its CUDA kernels (NORMFIELD_CUDA=OFF)");
  AT_DISPATCH_FLOATING_TYPES(alpha.scalar_type(), "composite_forward_cpu", [&] {
    const scalar_t *pa = alpha.data_ptr<scalar_t>(), *pc = rgb.data_ptr<scalar_t>(),
                   *pt = ptr_or_null<scalar_t>(t), *pb = ptr_or_null<scalar_t>(bg);
    scalar_t *orgb = o_rgb.data_ptr<scalar_t>(), *odep = o_depth.data_ptr<scalar_t>(),
             *oacc = o_acc.data_ptr<scalar_t>(), *ow = o_w.data_ptr<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    at::parallel_for(0, N, 64, [&](int64_t b, int64_t end) {
      for (int64_t r = b; r < end; ++r)
        cr::composite_ray_forward<scalar_t>(S, C, e, pa + r * S, pc + r * S * C, pt ? pt + r * S : nullptr,
                                            pb ? pb + r * C : nullptr, orgb + r * C, pt ? odep + r : nullptr,
                                            oacc + r, ow + r * S);
    });
  });
}

void run_backward(double eps, const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t,
                  const at::Tensor& bg, const at::Tensor& g_rgb, const at::Tensor& g_depth, const at::Tensor& g_acc,
                  const at::Tensor& g_w, at::Tensor& grad_alpha, at::Tensor& grad_rgb) {
  const int64_t N = alpha.size(0), S = alpha.size(1), C = rgb.size(2);
#ifdef NORMFIELD_WITH_CUDA
  if (nf::cuda_dispatch(alpha)) {
    AT_DISPATCH_FLOATING_TYPES(alpha.scalar_type(), "composite_backward_cuda", [&] {
      cr::composite_backward_cuda(N, S, C, eps, alpha.data_ptr<scalar_t>(), rgb.data_ptr<scalar_t>(),
                                  ptr_or_null<scalar_t>(t), ptr_or_null<scalar_t>(bg), g_rgb.data_ptr<scalar_t>(),
                                  g_depth.data_ptr<scalar_t>(), g_acc.data_ptr<scalar_t>(), g_w.data_ptr<scalar_t>(),
                                  grad_alpha.data_ptr<scalar_t>(), grad_rgb.data_ptr<scalar_t>(),
                                  nf::current_cuda_stream());
    });
    return;
  }
#endif
  AT_DISPATCH_FLOATING_TYPES(alpha.scalar_type(), "composite_backward_cpu", [&] {
    const scalar_t *pa = alpha.data_ptr<scalar_t>(), *pc = rgb.data_ptr<scalar_t>(),
                   *pt = ptr_or_null<scalar_t>(t), *pb = ptr_or_null<scalar_t>(bg);
    const scalar_t *gc = g_rgb.data_ptr<scalar_t>(), *gd = g_depth.data_ptr<scalar_t>(),
                   *ga = g_acc.data_ptr<scalar_t>(), *gw = g_w.data_ptr<scalar_t>();
    scalar_t *oa = grad_alpha.data_ptr<scalar_t>(), *oc = grad_rgb.data_ptr<scalar_t>();
    const scalar_t e = static_cast<scalar_t>(eps);
    at::parallel_for(0, N, 64, [&](int64_t b, int64_t end) {
      for (int64_t r = b; r < end; ++r)
        cr::composite_ray_backward<scalar_t>(S, C, e, pa + r * S, pc + r * S * C, pt ? pt + r * S : nullptr,
                                             pb ? pb + r * C : nullptr, gc + r * C, gd[r], ga[r], gw + r * S,
                                             oa + r * S, oc + r * S * C);
    });
  });
}

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// Inputs: alpha [N, S], rgb [N, S, C], t [N, S] or [0] (none), bg [C], [N, C] or [0] (none).
// Outputs: rgb [N, C], depth [N] (zeros without t), acc [N], weights [N, S].
class CompositeFunction : public torch::autograd::Function<CompositeFunction> {
 public:
  static variable_list forward(AutogradContext* ctx, const at::Tensor& alpha, const at::Tensor& rgb,
                               const at::Tensor& t_in, const at::Tensor& bg_in, double eps) {
    const int64_t N = alpha.size(0), S = alpha.size(1), C = rgb.size(2);
    const bool has_t = t_in.dim() == 2, has_bg = !(bg_in.dim() == 1 && bg_in.size(0) == 0);  // C >= 1
    const at::Tensor a = alpha.contiguous(), c = rgb.contiguous();
    const at::Tensor t = has_t ? t_in.contiguous() : at::Tensor();
    const at::Tensor b = has_bg ? bg_in.expand({N, C}).contiguous() : at::Tensor();
    at::Tensor o_rgb = at::empty({N, C}, a.options()), o_depth = at::zeros({N}, a.options()),
               o_acc = at::empty({N}, a.options()), o_w = at::empty({N, S}, a.options());
    run_forward(eps, a, c, t, b, o_rgb, o_depth, o_acc, o_w);
    const at::Tensor none = at::empty({0}, a.options());
    ctx->save_for_backward({a, c, has_t ? t : none, has_bg ? b : none, o_acc, o_w});
    ctx->saved_data["eps"] = eps;
    ctx->saved_data["has_t"] = has_t;
    ctx->saved_data["has_bg"] = has_bg;
    ctx->saved_data["bg_is_shared"] = bg_in.dim() == 1;
    return {o_rgb, o_depth, o_acc, o_w};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const bool has_t = ctx->saved_data["has_t"].toBool(), has_bg = ctx->saved_data["has_bg"].toBool();
    const at::Tensor &a = saved[0], &c = saved[1], &acc = saved[4], &w = saved[5];
    const at::Tensor t = has_t ? saved[2] : at::Tensor(), b = has_bg ? saved[3] : at::Tensor();
    // Unused outputs arrive as zeros (materialised grads).
    const at::Tensor g_rgb = grads[0].contiguous(), g_depth = grads[1].contiguous(),
                     g_acc = grads[2].contiguous(), g_w = grads[3].contiguous();
    at::Tensor grad_alpha = at::empty_like(a), grad_rgb = at::empty_like(c);
    run_backward(ctx->saved_data["eps"].toDouble(), a, c, t, b, g_rgb, g_depth, g_acc, g_w, grad_alpha, grad_rgb);
    at::Tensor grad_t, grad_bg;
    if (has_t) grad_t = g_depth.unsqueeze(1) * w;  // [N, S]
    if (has_bg) {
      grad_bg = g_rgb * (1.0 - acc).unsqueeze(1);  // [N, C]
      if (ctx->saved_data["bg_is_shared"].toBool()) grad_bg = grad_bg.sum(0);
    }
    return {grad_alpha, grad_rgb, grad_t, grad_bg, at::Tensor()};
  }
};

}  // namespace

RenderOutput composite_reference(const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t,
                                 const at::Tensor& bg, double eps) {
  check_inputs("composite_reference", alpha, rgb, t, bg, false);
  const at::Tensor factors = 1.0 - alpha + eps;                                         // [N, S]
  const at::Tensor trans = at::cat({at::ones_like(alpha.slice(1, 0, 1)),
                                    at::cumprod(factors, 1).slice(1, 0, -1)}, 1);      // [N, S]
  RenderOutput out;
  out.weights = alpha * trans;                                                         // [N, S]
  out.acc = out.weights.sum(1);                                                        // [N]
  if (t.defined()) out.depth = (out.weights * t).sum(1);                               // [N]
  out.rgb = (out.weights.unsqueeze(-1) * rgb).sum(1);                                  // [N, C]
  if (bg.defined()) out.rgb = out.rgb + (1.0 - out.acc).unsqueeze(1) * bg;
  return out;
}

RenderOutput composite_fused(const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t,
                             const at::Tensor& bg, double eps) {
  check_inputs("composite_fused", alpha, rgb, t, bg, true);
  // Absent t / bg travel as empty tensors (the Function's inputs must be defined).
  const at::Tensor none = at::empty({0}, alpha.options());
  const variable_list o = CompositeFunction::apply(alpha, rgb, t.defined() ? t : none, bg.defined() ? bg : none, eps);
  RenderOutput out{o[0], t.defined() ? o[1] : at::Tensor(), o[2], o[3]};
  return out;
}

RenderOutput composite(const at::Tensor& alpha, const at::Tensor& rgb, const at::Tensor& t, const at::Tensor& bg,
                       double eps) {
  return composite_fused(alpha, rgb, t, bg, eps);
}

}  // namespace nf
