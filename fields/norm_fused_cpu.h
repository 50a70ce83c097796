#pragma once
// Internal to the fused norms: entry points of the CPU kernels (fields/norm_fused_cpu.cpp: CN, GN;
// fields/norm_fused_cpu_bn_ln.cpp: BN, LN), called only by the dispatch in fields/norm_fused.cpp.
// The public API is fields/norm_fused.h.
//
// All tensors contiguous, one dtype (float or double), CPU; w, b, dw, db may be undefined (dw/db
// undefined: not computed). Row statistics rs [2, T] = (row mean, unbiased row variance); column
// statistics cs [2, C] = (column mean, unbiased column variance); GN stats [2] = (mean, variance).
#include <ATen/ATen.h>

namespace nf::fused_cpu {
// CN. frozen: cs is an input (colsum = t_ref * cs[0]); else cs is written (t_ref unused).
// relu: y = max(0, CN(x)); the backward masks dy by y > 0, recomputed from x, w and b.
void cross_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps,
                        bool frozen, double t_ref, bool relu, at::Tensor& y, at::Tensor& rs, at::Tensor& cs);
void cross_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& b,
                         const at::Tensor& rs, const at::Tensor& cs, double eps, bool frozen, double t_ref,
                         bool relu, at::Tensor& dx, at::Tensor& dw, at::Tensor& db);
// frozen: stats is an input; else it is written.
void global_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps,
                         bool frozen, at::Tensor& y, at::Tensor& stats);
void global_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w,
                          const at::Tensor& stats, double eps, bool frozen, at::Tensor& dx,
                          at::Tensor& dw, at::Tensor& db);
// BN: cs [2, C] = (column mean, biased column variance), written by forward.
void batch_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps, at::Tensor& y,
                        at::Tensor& cs);
void batch_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& cs,
                         double eps, at::Tensor& dx, at::Tensor& dw, at::Tensor& db);
// LN: rs [2, T] = (row mean, row 1/sqrt(biased variance + eps)), written by forward.
void layer_norm_forward(const at::Tensor& x, const at::Tensor& w, const at::Tensor& b, double eps, at::Tensor& y,
                        at::Tensor& rs);
void layer_norm_backward(const at::Tensor& dy, const at::Tensor& x, const at::Tensor& w, const at::Tensor& rs,
                         at::Tensor& dx, at::Tensor& dw, at::Tensor& db);
}  // namespace nf::fused_cpu
