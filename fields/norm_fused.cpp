// Fused CN / GN / BN / LN: autograd Functions with hand-written backward, and the single CPU/CUDA
// dispatch point per op (cn_forward, cn_backward, gn_forward, gn_backward below; BN and LN dispatch in
// batch_norm_fused / layer_norm_fused: CPU kernels here, torch's cuDNN ones on CUDA).
//
// CN backward (batch), with a = 1/(T+C), s = rsqrt(v + eps), xhat = (x - u) s, p = dy w s:
//   dx = (1+a) p - a sum_i p - a sum_t p - (sum_i p xhat s)(x - rowmean)/max(C-1,1)
//                                       - (sum_t p xhat s)(x - colmean)/max(T-1,1)
//   dw = sum_t dy xhat, db = sum_t dy.   Frozen: a = 1/(t_ref+C), no column (sum_t) terms.
// GN backward (batch), N = T*C: dx = s w dy - s G/N - s^2 S (x - m)/max(N-1,1),
//   G = sum w dy, S = sum w dy xhat.      Frozen: dx = s w dy.
#include "fields/norm_fused.h"

#include <ATen/Dispatch.h>
#include <torch/autograd.h>

#include <functional>

#include "fields/compat.h"
#include "fields/norm_fused_cpu.h"
#include "fields/norm_reference.h"
#ifdef NORMFIELD_WITH_CUDA
#include "fields/cuda/norm_fused.h"
#endif

namespace nf {
namespace {
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

#ifdef NORMFIELD_WITH_CUDA
template <typename T>
T* ptr(const at::Tensor& t) {
  return t.defined() ? t.data_ptr<T>() : nullptr;
}
at::Tensor workspace(const at::Tensor& x) {
  return at::empty({cuda::norm_fused_workspace(x.size(0), x.size(1))}, x.options());
}
#endif

// ---------------------------------------------------------------- dispatch (one place per op)
void cn_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps, bool frozen,
                double t_ref, bool relu, at::Tensor& y, at::Tensor& rs, at::Tensor& cs) {
#ifdef NORMFIELD_WITH_CUDA
  if (cuda_dispatch(x)) {
    auto work = workspace(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cross_norm_forward_cuda", [&] {
      cuda::cross_norm_forward<scalar_t>(ptr<scalar_t>(x), ptr<scalar_t>(w), ptr<scalar_t>(b), x.size(0),
                                         x.size(1), eps, frozen, t_ref, relu, ptr<scalar_t>(y), ptr<scalar_t>(rs),
                                         ptr<scalar_t>(cs), ptr<scalar_t>(work), current_cuda_stream());
    });
    return;
  }
#endif
  fused_cpu::cross_norm_forward(x, w, b, eps, frozen, t_ref, relu, y, rs, cs);
}

void cn_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                 const at::Tensor& rs, const at::Tensor& cs, double eps, bool frozen, double t_ref, bool relu,
                 at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
#ifdef NORMFIELD_WITH_CUDA
  if (cuda_dispatch(x)) {
    auto work = workspace(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "cross_norm_backward_cuda", [&] {
      cuda::cross_norm_backward<scalar_t>(ptr<scalar_t>(dy), ptr<scalar_t>(x), ptr<scalar_t>(w),
                                          ptr<scalar_t>(b), ptr<scalar_t>(rs), ptr<scalar_t>(cs), x.size(0),
                                          x.size(1), eps, frozen, t_ref, relu, ptr<scalar_t>(dx), ptr<scalar_t>(dw),
                                          ptr<scalar_t>(db), ptr<scalar_t>(work), current_cuda_stream());
    });
    return;
  }
#endif
  fused_cpu::cross_norm_backward(dy, x, w, b, rs, cs, eps, frozen, t_ref, relu, dx, dw, db);
}

void gn_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps, bool frozen,
                at::Tensor& y, at::Tensor& stats) {
#ifdef NORMFIELD_WITH_CUDA
  if (cuda_dispatch(x)) {
    auto work = workspace(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "global_norm_forward_cuda", [&] {
      cuda::global_norm_forward<scalar_t>(ptr<scalar_t>(x), ptr<scalar_t>(w), ptr<scalar_t>(b), x.size(0),
                                          x.size(1), eps, frozen, ptr<scalar_t>(y), ptr<scalar_t>(stats),
                                          ptr<scalar_t>(work), current_cuda_stream());
    });
    return;
  }
#endif
  fused_cpu::global_norm_forward(x, w, b, eps, frozen, y, stats);
}

void gn_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& stats,
                 double eps, bool frozen, at::Tensor& dx, at::Tensor& dw, at::Tensor& db) {
#ifdef NORMFIELD_WITH_CUDA
  if (cuda_dispatch(x)) {
    auto work = workspace(x);
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "global_norm_backward_cuda", [&] {
      cuda::global_norm_backward<scalar_t>(ptr<scalar_t>(dy), ptr<scalar_t>(x), ptr<scalar_t>(w),
                                           ptr<scalar_t>(stats), x.size(0), x.size(1), eps, frozen,
                                           ptr<scalar_t>(dx), ptr<scalar_t>(dw), ptr<scalar_t>(db),
                                           ptr<scalar_t>(work), current_cuda_stream());
    });
    return;
  }
#endif
  fused_cpu::global_norm_backward(dy, x, w, stats, eps, frozen, dx, dw, db);
}

// ---------------------------------------------------------------- autograd
using RefFn = std::function<at::Tensor(const at::Tensor&, const at::Tensor&, const at::Tensor&)>;

// Backward with create_graph: differentiate the reference formulas so that the returned gradients
// are themselves differentiable (double backward). Returns {dx, dw, db}.
variable_list differentiable_backward(const RefFn& ref, const at::Tensor& x, const at::Tensor& w,
                                      const at::Tensor& b, const at::Tensor& dy) {
  std::vector<at::Tensor> all{x, w, b}, inputs;
  std::vector<int> where;
  for (int k = 0; k < 3; ++k)
    if (all[k].defined() && all[k].requires_grad()) {
      inputs.push_back(all[k]);
      where.push_back(k);
    }
  variable_list out(3);
  if (inputs.empty()) return out;
  auto y = ref(x, w, b);
  auto g = torch::autograd::grad({y}, inputs, {dy}, /*retain_graph=*/true, /*create_graph=*/true,
                                 /*allow_unused=*/true);
  for (size_t j = 0; j < where.size(); ++j) out[where[j]] = g[j];
  return out;
}

// Function::apply (LibTorch 1.13) rejects undefined tensors: "absent" travels as a [0] tensor.
at::Tensor absent(const at::Tensor& x) { return at::empty({0}, x.options()); }
at::Tensor present(const at::Tensor& t) { return t.numel() == 0 ? at::Tensor() : t; }

at::Tensor grad_buffer(AutogradContext* ctx, size_t input, const at::Tensor& like) {
  return like.defined() && ctx->needs_input_grad(input) ? at::empty_like(like) : at::Tensor();
}

// Forward outputs {y, stats}: the batch statistics the kernels computed anyway (absent in frozen
// mode), returned for the running estimate so that it needs no pass of its own; not differentiable.
variable_list with_stats(AutogradContext* ctx, const at::Tensor& y, const at::Tensor& stats) {
  ctx->mark_non_differentiable({stats});
  return {y, stats};
}

// x [T, C], w/b [C] or absent, cs_frozen [2, C] (frozen column mean, variance) or absent.
// relu: the output is max(0, CN(x)) (mask recomputed in backward).
struct CrossNormFn : public torch::autograd::Function<CrossNormFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w_, const at::Tensor& b_,
                            const at::Tensor& cs_, double t_ref, double eps, bool relu) {
    const at::Tensor w = present(w_), b = present(b_), cs_frozen = present(cs_);
    const bool frozen = cs_frozen.defined();
    auto y = at::empty_like(x);
    auto rs = at::empty({2, x.size(0)}, x.options());
    auto cs = frozen ? cs_frozen : at::empty({2, x.size(1)}, x.options());
    cn_forward(x, w, b, eps, frozen, t_ref, relu, y, rs, cs);
    ctx->save_for_backward({x, w, b, rs, cs});
    ctx->saved_data["frozen"] = frozen;
    ctx->saved_data["relu"] = relu;
    ctx->saved_data["t_ref"] = t_ref;
    ctx->saved_data["eps"] = eps;
    return with_stats(ctx, y, frozen ? absent(x) : cs);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &w = s[1], &b = s[2], &rs = s[3], &cs = s[4];
    const bool frozen = ctx->saved_data["frozen"].toBool();
    const double t_ref = ctx->saved_data["t_ref"].toDouble();
    const double eps = ctx->saved_data["eps"].toDouble();
    const bool relu = ctx->saved_data["relu"].toBool();
    const at::Tensor& dy = grad_out[0];
    const at::Tensor none;
    if (!dy.defined()) return {none, none, none, none, none, none, none};
    if (at::GradMode::is_enabled()) {
      auto ref = [&](const at::Tensor& xx, const at::Tensor& ww, const at::Tensor& bb) {
        auto y = frozen ? ref::cross_norm_frozen(xx, ww, bb, cs[0], cs[1], t_ref, eps) : ref::cross_norm(xx, ww, bb, eps);
        return relu ? at::relu(y) : y;
      };
      auto g = differentiable_backward(ref, x, w, b, dy);
      return {g[0], g[1], g[2], none, none, none, none};
    }
    auto dx = at::empty_like(x);
    auto dw = grad_buffer(ctx, 1, w), db = grad_buffer(ctx, 2, b);
    cn_backward(dy.contiguous(), x, w, b, rs, cs, eps, frozen, t_ref, relu, dx, dw, db);
    return {dx, dw, db, none, none, none, none};
  }
};

// x [T, C], w/b [C] or absent, stats_frozen [2] (mean, variance) or absent.
struct GlobalNormFn : public torch::autograd::Function<GlobalNormFn> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w_, const at::Tensor& b_,
                            const at::Tensor& stats_, double eps) {
    const at::Tensor w = present(w_), b = present(b_), stats_frozen = present(stats_);
    const bool frozen = stats_frozen.defined();
    auto y = at::empty_like(x);
    auto stats = frozen ? stats_frozen : at::empty({2}, x.options());
    gn_forward(x, w, b, eps, frozen, y, stats);
    ctx->save_for_backward({x, w, b, stats});
    ctx->saved_data["frozen"] = frozen;
    ctx->saved_data["eps"] = eps;
    return with_stats(ctx, y, frozen ? absent(x) : stats);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &w = s[1], &b = s[2], &stats = s[3];
    const bool frozen = ctx->saved_data["frozen"].toBool();
    const double eps = ctx->saved_data["eps"].toDouble();
    const at::Tensor& dy = grad_out[0];
    if (!dy.defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) {
      auto ref = [&](const at::Tensor& xx, const at::Tensor& ww, const at::Tensor& bb) {
        return frozen ? ref::global_norm_frozen(xx, ww, bb, stats[0], stats[1], eps)
                      : ref::global_norm(xx, ww, bb, eps);
      };
      auto g = differentiable_backward(ref, x, w, b, dy);
      return {g[0], g[1], g[2], at::Tensor(), at::Tensor()};
    }
    auto dx = at::empty_like(x);
    auto dw = grad_buffer(ctx, 1, w), db = grad_buffer(ctx, 2, b);
    gn_backward(dy.contiguous(), x, w, stats, eps, frozen, dx, dw, db);
    return {dx, dw, db, at::Tensor(), at::Tensor()};
  }
};

// BN / LN (CPU only: CUDA uses torch's cuDNN kernels). x [T, C], w/b [C] or absent.
// stats: BN [2, C] column (mean, biased variance); LN [2, T] row (mean, rstd).
template <bool kLayer>
struct RowColNormFn : public torch::autograd::Function<RowColNormFn<kLayer>> {
  static variable_list forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w_, const at::Tensor& b_,
                            double eps) {
    const at::Tensor w = present(w_), b = present(b_);
    auto y = at::empty_like(x);
    auto stats = at::empty({2, kLayer ? x.size(0) : x.size(1)}, x.options());
    if (kLayer)
      fused_cpu::layer_norm_forward(x, w, b, eps, y, stats);
    else
      fused_cpu::batch_norm_forward(x, w, b, eps, y, stats);
    ctx->save_for_backward({x, w, b, stats});
    ctx->saved_data["eps"] = eps;
    return with_stats(ctx, y, stats);
  }

  static variable_list backward(AutogradContext* ctx, variable_list grad_out) {
    const auto s = ctx->get_saved_variables();
    const at::Tensor &x = s[0], &w = s[1], &b = s[2], &stats = s[3];
    const double eps = ctx->saved_data["eps"].toDouble();
    const at::Tensor& dy = grad_out[0];
    if (!dy.defined()) return {at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
    if (at::GradMode::is_enabled()) {
      auto ref = [&](const at::Tensor& xx, const at::Tensor& ww, const at::Tensor& bb) {
        return kLayer ? ref::layer_norm(xx, ww, bb, eps) : ref::batch_norm(xx, ww, bb, eps);
      };
      auto g = differentiable_backward(ref, x, w, b, dy);
      return {g[0], g[1], g[2], at::Tensor()};
    }
    auto dx = at::empty_like(x);
    auto dw = grad_buffer(ctx, 1, w), db = grad_buffer(ctx, 2, b);
    if (kLayer)
      fused_cpu::layer_norm_backward(dy.contiguous(), x, w, stats, dx, dw, db);
    else
      fused_cpu::batch_norm_backward(dy.contiguous(), x, w, stats, eps, dx, dw, db);
    return {dx, dw, db, at::Tensor()};
  }
};

// ---------------------------------------------------------------- argument handling
void check_x(const at::Tensor& x, const char* fn) {
  TORCH_CHECK(fused_norm_supported(x), "fields/norm_fused.cpp: ", fn,
              ": x must be a 2-D float or double tensor on a supported device, got ", x.sizes(), " ",
              x.scalar_type(), " on ", x.device());
}

// weight/bias/statistics: x's dtype, contiguous, on x's device (differentiable casts).
at::Tensor like_x(const at::Tensor& t, const at::Tensor& x, int64_t numel, const char* fn, const char* what) {
  if (!t.defined()) return absent(x);
  TORCH_CHECK(t.numel() == numel, "fields/norm_fused.cpp: ", fn, ": ", what, " must have ", numel,
              " elements, got ", t.sizes());
  TORCH_CHECK(t.device() == x.device(), "fields/norm_fused.cpp: ", fn, ": ", what, " is on ", t.device(),
              ", x on ", x.device());
  return t.to(x.scalar_type()).reshape({numel}).contiguous();
}

}  // namespace

bool fused_norm_supported(const at::Tensor& x) {
  return x.defined() && x.dim() == 2 &&
         (x.scalar_type() == at::kFloat || x.scalar_type() == at::kDouble) &&
         (x.device().is_cpu() || cuda_dispatch(x));
}

NormWithStats cross_norm_fused_stats(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                     double eps, bool relu) {
  check_x(x, "cross_norm_fused");
  if (x.numel() == 0) {
    auto y = ref::cross_norm(x, weight, bias, eps);
    return {relu ? at::relu(y) : y, at::Tensor()};
  }
  const int64_t C = x.size(1);
  auto out = CrossNormFn::apply(x.contiguous(), like_x(weight, x, C, "cross_norm_fused", "weight"),
                                like_x(bias, x, C, "cross_norm_fused", "bias"), absent(x), 0.0, eps, relu);
  return {out[0], out[1]};
}

at::Tensor cross_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return cross_norm_fused_stats(x, weight, bias, eps).y;
}

at::Tensor cross_norm_frozen_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                   const at::Tensor& col_mean, const at::Tensor& col_var, double t_ref,
                                   double eps, bool relu) {
  const char* fn = "cross_norm_frozen_fused";
  check_x(x, fn);
  TORCH_CHECK(col_mean.defined() && col_var.defined(), "fields/norm_fused.cpp: ", fn,
              ": col_mean and col_var are required");
  if (x.numel() == 0) {
    auto y = ref::cross_norm_frozen(x, weight, bias, col_mean, col_var, t_ref, eps);
    return relu ? at::relu(y) : y;
  }
  const int64_t C = x.size(1);
  auto cs = at::stack({like_x(col_mean.detach(), x, C, fn, "col_mean"), like_x(col_var.detach(), x, C, fn, "col_var")});
  return CrossNormFn::apply(x.contiguous(), like_x(weight, x, C, fn, "weight"), like_x(bias, x, C, fn, "bias"),
                            cs, t_ref, eps, relu)[0];
}

NormWithStats global_norm_fused_stats(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                      double eps) {
  check_x(x, "global_norm_fused");
  if (x.numel() == 0) return {ref::global_norm(x, weight, bias, eps), at::Tensor()};
  const int64_t C = x.size(1);
  auto out = GlobalNormFn::apply(x.contiguous(), like_x(weight, x, C, "global_norm_fused", "weight"),
                                 like_x(bias, x, C, "global_norm_fused", "bias"), absent(x), eps);
  return {out[0], out[1]};
}

at::Tensor global_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return global_norm_fused_stats(x, weight, bias, eps).y;
}

at::Tensor global_norm_frozen_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                    const at::Tensor& mean, const at::Tensor& var, double eps) {
  const char* fn = "global_norm_frozen_fused";
  check_x(x, fn);
  TORCH_CHECK(mean.defined() && var.defined(), "fields/norm_fused.cpp: ", fn, ": mean and var are required");
  if (x.numel() == 0) return ref::global_norm_frozen(x, weight, bias, mean, var, eps);
  const int64_t C = x.size(1);
  auto stats = at::cat({like_x(mean.detach(), x, 1, fn, "mean"), like_x(var.detach(), x, 1, fn, "var")});
  return GlobalNormFn::apply(x.contiguous(), like_x(weight, x, C, fn, "weight"), like_x(bias, x, C, fn, "bias"),
                             stats, eps)[0];
}

NormWithStats batch_norm_fused_stats(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                     double eps) {
  if (!x.device().is_cpu() || !fused_norm_supported(x) || x.numel() == 0)
    return {at::batch_norm(x, weight, bias, {}, {}, /*training=*/true, 0.0, eps, /*cudnn_enabled=*/true), at::Tensor()};
  const int64_t C = x.size(1);
  auto out = RowColNormFn<false>::apply(x.contiguous(), like_x(weight, x, C, "batch_norm_fused", "weight"),
                                        like_x(bias, x, C, "batch_norm_fused", "bias"), eps);
  return {out[0], out[1]};
}

at::Tensor batch_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  return batch_norm_fused_stats(x, weight, bias, eps).y;
}

at::Tensor batch_norm_frozen_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias,
                                   const at::Tensor& mean, const at::Tensor& var, double eps) {
  return at::batch_norm(x, weight, bias, mean.to(x.scalar_type()), var.to(x.scalar_type()),
                        /*training=*/false, 0.0, eps, /*cudnn_enabled=*/true);
}

at::Tensor layer_norm_fused(const at::Tensor& x, const at::Tensor& weight, const at::Tensor& bias, double eps) {
  if (!x.device().is_cpu() || !fused_norm_supported(x) || x.numel() == 0)
    return at::layer_norm(x, {x.size(-1)}, weight, bias, eps, /*cudnn_enable=*/true);
  const int64_t C = x.size(1);
  return RowColNormFn<true>::apply(x.contiguous(), like_x(weight, x, C, "layer_norm_fused", "weight"),
                                   like_x(bias, x, C, "layer_norm_fused", "bias"), eps)[0];
}

}  // namespace nf
