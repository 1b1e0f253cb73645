// CumSum: running sum along the axis given by input 1 (exclusive, reverse).
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/cumsum.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_cumsum(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs 'x' and 'axis'");
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_arith(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input_dtype(1) != DType::kI32 && ctx.input_dtype(1) != DType::kI64) {
    return ctx.fail("'axis' must be int32 or int64");
  }
  if (ctx.input_has_shape(1) && ctx.input_shape(1).size() > 1) return ctx.fail("'axis' must be a scalar");
  if (auto axis = const_ints(ctx, 1); axis && ctx.input_has_shape(0)) {
    if (axis->size() != 1) return ctx.fail("'axis' must hold one value");
    INGOT_RETURN_IF_ERROR(
        normalize_axis((*axis)[0], static_cast<int64_t>(ctx.input_shape(0).size()), ctx.node()).status());
  }
  return infer_same_as_input(ctx);
}

Status run_cumsum(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const std::vector<int64_t> axis_v = ctx.input(1).to_i64_vector();
  if (axis_v.size() != 1) return ctx.fail("'axis' must hold one value");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(axis_v[0], x.rank(), ctx.node()));
  if (x.rank() == 0) return ctx.fail("input must have rank >= 1");
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d < axis) outer *= x.dim(d);
    if (d > axis) inner *= x.dim(d);
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  const bool exclusive = ctx.node().attr_int("exclusive", 0) != 0;
  const bool reverse = ctx.node().attr_int("reverse", 0) != 0;
  bool ok = dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::cumsum(x.data<T>(), outer, x.dim(axis), inner, exclusive, reverse, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(CumSum, .infer = infer_cumsum, .run = run_cumsum);

}  // namespace ingot::ops
