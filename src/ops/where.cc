// Where(condition, X, Y): X where condition else Y, the three broadcast together; any element type.
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_where(InferContext& ctx) {
  if (ctx.num_inputs() != 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects 3 inputs");
  }
  if (ctx.input_dtype(0) != DType::kBool) {
    return ctx.fail(std::string("condition must be bool, got ") + dtype_name(ctx.input_dtype(0)));
  }
  if (ctx.input_dtype(1) != ctx.input_dtype(2)) {
    return ctx.fail(std::string("X and Y types differ: ") + dtype_name(ctx.input_dtype(1)) + " and " +
                    dtype_name(ctx.input_dtype(2)));
  }
  return infer_broadcast(ctx, ctx.input_dtype(1));
}

Status run_where(RunContext& ctx) {
  const Tensor& c = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& y = ctx.input(2);
  if (c.dtype() != DType::kBool) return ctx.fail("condition must be bool");
  if (x.dtype() != y.dtype()) return ctx.fail("X and Y types differ");
  auto cx = broadcast_dims(c.dims(), x.dims());
  if (!cx.ok()) return ctx.fail(cx.status().message());
  auto dims = broadcast_dims(*cx, y.dims());
  if (!dims.ok()) return ctx.fail(dims.status().message());
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, x.dtype(), *dims));
  if (x.dtype() == DType::kString) {
    ref::broadcast_ternary(
        c.data<bool>(), c.dims(), x.strings(), x.dims(), y.strings(), y.dims(), out->strings(), out->dims(),
        [](bool s, const std::string& a, const std::string& b) -> const std::string& { return s ? a : b; });
    return Status::Ok();
  }
  const size_t size = dtype_size(x.dtype());
  if (size != 1 && size != 2 && size != 4 && size != 8) {
    return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  }
  ref::where_fixed(c.data<bool>(), c.dims(), x.raw(), x.dims(), y.raw(), y.dims(), out->raw(), out->dims(),
                   size);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Where, .infer = infer_where, .run = run_where);

}  // namespace ingot::ops
