// Det: determinants of the trailing [M, M] matrices of a float tensor of rank >= 2.
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/det.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_det(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("expects input X");
  const DType dt = ctx.input_dtype(0);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& x = ctx.input_shape(0);
  if (x.size() < 2) return ctx.fail("X must have rank >= 2, got " + ir::shape_to_string(x));
  const ir::Dim& m = x[x.size() - 2];
  const ir::Dim& n = x.back();
  if (m.is_static() && n.is_static() && m.value != n.value) {
    return ctx.fail("X must hold square matrices, got " + ir::shape_to_string(x));
  }
  ctx.set_output(0, dt, ir::SymShape(x.begin(), x.end() - 2));
  return Status::Ok();
}

Status run_det(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_float_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  if (x.rank() < 2 || x.dim(-1) != x.dim(-2)) {
    return ctx.fail("X must hold square matrices (rank >= 2), got " + dims_to_string(x.dims()));
  }
  const int64_t n = x.dim(-1);
  Dims out(x.dims().begin(), x.dims().end() - 2);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out));
  std::vector<double> xd(static_cast<size_t>(x.numel())), yd(static_cast<size_t>(y->numel()));
  for (int64_t i = 0; i < x.numel(); ++i) xd[i] = x.get_f64(i);
  ref::det(xd.data(), y->numel(), n, yd.data());
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = y->data<T>();
    for (size_t i = 0; i < yd.size(); ++i) p[i] = static_cast<T>(yd[i]);
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Det, .infer = infer_det, .run = run_det);

}  // namespace ingot::ops
