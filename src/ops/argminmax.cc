// ArgMax, ArgMin: int64 index of the extreme element along `axis` (keepdims, select_last_index).
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/argminmax.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_arg(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_arith(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, DType::kI64);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank == 0) return ctx.fail("input must have rank >= 1");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), rank, ctx.node()));
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  ir::SymShape out;
  for (int64_t d = 0; d < rank; ++d) {
    if (d != axis)
      out.push_back(in[d]);
    else if (keepdims)
      out.push_back(ir::Dim(1));
  }
  ctx.set_output(0, DType::kI64, out);
  return Status::Ok();
}

template <bool kMax>
Status run_arg(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() == 0) return ctx.fail("input must have rank >= 1");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  const bool select_last = ctx.node().attr_int("select_last_index", 0) != 0;
  const int64_t n = x.dim(axis);
  int64_t outer = 1, inner = 1;
  Dims out_dims;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d < axis) outer *= x.dim(d);
    if (d > axis) inner *= x.dim(d);
    if (d != axis)
      out_dims.push_back(x.dim(d));
    else if (keepdims)
      out_dims.push_back(1);
  }
  if (n == 0 && outer * inner != 0) return ctx.fail("cannot take the arg-extreme of an empty axis");
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kI64, out_dims));
  bool ok = dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::arg_reduce<kMax>(x.data<T>(), outer, n, inner, select_last, y->data<int64_t>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(ArgMax, .infer = infer_arg, .run = run_arg<true>);
INGOT_REGISTER_OP(ArgMin, .infer = infer_arg, .run = run_arg<false>);

}  // namespace ingot::ops
