// Expand (numpy broadcast to a shape) and Tile (repeat along each axis), both as strided copies.
#include "kernels/reference/expand_tile.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status run_expand(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!ctx.has_input(1)) return ctx.fail("missing shape input");
  INGOT_ASSIGN_OR_RETURN(auto shape, int_input(ctx, 1, "shape"));
  if (ctx.input(1).rank() > 1) return ctx.fail("shape must be 1-D");
  auto out_dims = broadcast_dims(x.dims(), shape);
  if (!out_dims.ok()) return ctx.fail(out_dims.status().message());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), *out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::expand(x.data<T>(), x.dims(), *out_dims, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_expand(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (input, shape)");
  const DType dt = ctx.input_dtype(0);
  auto shape = const_ints(ctx, 1);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  if (!shape) {
    if (ctx.input_has_shape(1) && ctx.input_shape(1).size() == 1 && ctx.input_shape(1)[0].is_static()) {
      ctx.set_output(0, dt, unknown_shape(std::max<size_t>(in.size(), ctx.input_shape(1)[0].value)));
    } else {
      ctx.set_output_rank_unknown(0, dt);
    }
    return Status::Ok();
  }
  for (int64_t s : *shape)
    if (s < 0) return ctx.fail("shape has a negative value " + std::to_string(s));
  auto out = broadcast_shapes(in, ir::to_sym_shape(*shape));
  if (!out.ok()) return ctx.fail(out.status().message());
  ctx.set_output(0, dt, *out);
  return Status::Ok();
}

Status run_tile(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!ctx.has_input(1)) return ctx.fail("missing repeats input");
  INGOT_ASSIGN_OR_RETURN(auto reps, int_input(ctx, 1, "repeats"));
  if (static_cast<int64_t>(reps.size()) != x.rank()) {
    return ctx.fail("repeats has " + std::to_string(reps.size()) + " values for an input of rank " +
                    std::to_string(x.rank()));
  }
  Dims out_dims(x.rank());
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (reps[i] < 0) return ctx.fail("repeats has a negative value " + std::to_string(reps[i]));
    if (__builtin_mul_overflow(x.dim(i), reps[i], &out_dims[i]))
      return ctx.fail("output dims overflow int64");
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::tile(x.data<T>(), x.dims(), reps, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_tile(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs (input, repeats)");
  if (ctx.opset() < 6) return unsupported(ctx.node().describe() + ": Tile before opset 6 is not supported");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  auto reps = const_ints(ctx, 1);
  if (!reps) {
    ctx.set_output(0, dt, unknown_shape(in.size()));
    return Status::Ok();
  }
  if (reps->size() != in.size()) return ctx.fail("repeats length differs from the input rank");
  ir::SymShape out(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    if ((*reps)[i] < 0) return ctx.fail("repeats has a negative value");
    if ((*reps)[i] == 1)
      out[i] = in[i];
    else if ((*reps)[i] == 0)
      out[i] = 0;
    else if (in[i].is_static())
      out[i] = in[i].value * (*reps)[i];
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Expand, .infer = infer_expand, .run = run_expand);
INGOT_REGISTER_OP(Tile, .infer = infer_tile, .run = run_tile);

}  // namespace ingot::ops
