// Pooling: MaxPool (with Indices), AveragePool, LpPool, their Global forms, and MaxUnpool.
#include <cmath>

#include "core/dispatch.h"
#include "kernels/reference/pool.h"
#include "ops/conv_pool_common.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// [N, C, out...] of a windowed pool over x; `attrs` receives the attributes with auto_pad resolved.
Expected<ir::SymShape> pool_output_shape(const ir::Node& node, const ir::SymShape& x, WindowAttrs* attrs) {
  if (x.size() < 3) {
    return invalid_argument(node.describe() + ": X must have rank >= 3 ([N, C, spatial...]), got " +
                            ir::shape_to_string(x));
  }
  const size_t nsp = x.size() - 2;
  INGOT_ASSIGN_OR_RETURN(*attrs, read_window_attrs(node, nsp, {}));
  ir::SymShape out = x;
  for (size_t d = 0; d < nsp; ++d) {
    if (!x[d + 2].is_static()) continue;
    INGOT_ASSIGN_OR_RETURN(int64_t size, window_output_size(*attrs, d, x[d + 2].value, node));
    out[d + 2] = size;
  }
  return out;
}

Expected<ref::PoolShape> pool_shape(const ir::Node& node, const Dims& x_dims, Dims* out_dims) {
  WindowAttrs a;
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, pool_output_shape(node, ir::to_sym_shape(x_dims), &a));
  *out_dims = ir::to_dims(out);
  ref::PoolShape s;
  s.batch = x_dims[0];
  s.channels = x_dims[1];
  s.in_spatial.assign(x_dims.begin() + 2, x_dims.end());
  s.out_spatial.assign(out_dims->begin() + 2, out_dims->end());
  s.kernel = a.kernel;
  s.strides = a.strides;
  s.dilations = a.dilations;
  s.pads_begin.assign(a.pads.begin(), a.pads.begin() + a.rank());
  s.pads_end.assign(a.pads.begin() + a.rank(), a.pads.end());
  return s;
}

// Infer for the windowed pools; `indices_output` adds MaxPool's int64 Indices of Y's shape.
Status infer_window_pool(InferContext& ctx, bool (*type_ok)(DType)) {
  if (!ctx.has_input(0)) return ctx.fail("expects input X");
  const DType dt = ctx.input_dtype(0);
  if (!type_ok(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    ctx.set_output_rank_unknown(1, DType::kI64);
    return Status::Ok();
  }
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, pool_output_shape(ctx.node(), ctx.input_shape(0), &attrs));
  ctx.set_output(0, dt, out);
  ctx.set_output(1, DType::kI64, out);  // MaxPool's Indices; no-op for the others
  return Status::Ok();
}

bool max_pool_type(DType t) { return is_float_type(t) || t == DType::kI8 || t == DType::kU8; }

Status infer_max_pool(InferContext& ctx) {
  const int64_t order = ctx.node().attr_int("storage_order", 0);
  if (order != 0 && order != 1) return ctx.fail("storage_order must be 0 or 1, got " + std::to_string(order));
  return infer_window_pool(ctx, max_pool_type);
}
Status infer_float_pool(InferContext& ctx) { return infer_window_pool(ctx, is_float_type); }

Status run_max_pool(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  Dims out_dims;
  INGOT_ASSIGN_OR_RETURN(ref::PoolShape s, pool_shape(ctx.node(), x.dims(), &out_dims));
  if (!max_pool_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  int64_t* indices = nullptr;
  if (ctx.has_output(1)) {
    INGOT_ASSIGN_OR_RETURN(Tensor * i, ctx.alloc_output(1, DType::kI64, out_dims));
    indices = i->data<int64_t>();
  }
  const bool column_major = ctx.node().attr_int("storage_order", 0) == 1;
  if (x.dtype() == DType::kI8) {
    ref::max_pool(x.data<int8_t>(), y->data<int8_t>(), indices, s, column_major);
  } else if (x.dtype() == DType::kU8) {
    ref::max_pool(x.data<uint8_t>(), y->data<uint8_t>(), indices, s, column_major);
  } else {
    dispatch_float(x.dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, ComputeType<T>>) {
        ref::max_pool(x.data<T>(), y->data<T>(), indices, s, column_major);
      } else {
        const auto xf = widen<T>(x);
        std::vector<float> yf(static_cast<size_t>(y->numel()));
        ref::max_pool(xf.data(), yf.data(), indices, s, column_major);
        narrow(yf, y->data<T>());
      }
    });
  }
  return Status::Ok();
}

// Runs a float-only pool kernel `k(x, y)` over X in its compute type, writing Y of `out_dims`.
template <typename K>
Status run_float_pool(RunContext& ctx, const Dims& out_dims, K&& k) {
  const Tensor& x = ctx.input(0);
  if (!is_float_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, ComputeType<T>>) {
      k(x.data<T>(), y->data<T>());
    } else {
      const auto xf = widen<T>(x);
      std::vector<float> yf(static_cast<size_t>(y->numel()));
      k(xf.data(), yf.data());
      narrow(yf, y->data<T>());
    }
  });
  return Status::Ok();
}

Status run_avg_pool(RunContext& ctx) {
  Dims out_dims;
  INGOT_ASSIGN_OR_RETURN(ref::PoolShape s, pool_shape(ctx.node(), ctx.input(0).dims(), &out_dims));
  const bool include_pad = ctx.node().attr_int("count_include_pad", 0) != 0;
  return run_float_pool(ctx, out_dims, [&](const auto* x, auto* y) { ref::avg_pool(x, y, s, include_pad); });
}

Expected<double> lp_norm(const ir::Node& node) {
  const int64_t p = node.attr_int("p", 2);
  if (p < 1) return invalid_argument(node.describe() + ": p must be positive, got " + std::to_string(p));
  return static_cast<double>(p);
}

Status infer_lp_pool(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(lp_norm(ctx.node()).status());
  return infer_float_pool(ctx);
}

Status run_lp_pool(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(double p, lp_norm(ctx.node()));
  Dims out_dims;
  INGOT_ASSIGN_OR_RETURN(ref::PoolShape s, pool_shape(ctx.node(), ctx.input(0).dims(), &out_dims));
  return run_float_pool(ctx, out_dims, [&](const auto* x, auto* y) { ref::lp_pool(x, y, s, p); });
}

// Global pools: [N, C, spatial...] -> [N, C, 1, ...].
Status infer_global_pool(InferContext& ctx, bool (*type_ok)(DType)) {
  if (!ctx.has_input(0)) return ctx.fail("expects input X");
  const DType dt = ctx.input_dtype(0);
  if (!type_ok(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  ir::SymShape out = ctx.input_shape(0);
  if (out.size() < 3)
    return ctx.fail("X must have rank >= 3 ([N, C, spatial...]), got " + ir::shape_to_string(out));
  for (size_t d = 2; d < out.size(); ++d) out[d] = 1;
  ctx.set_output(0, dt, std::move(out));
  return Status::Ok();
}
Status infer_global_float_pool(InferContext& ctx) { return infer_global_pool(ctx, is_float_type); }
Status infer_global_lp_pool(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(lp_norm(ctx.node()).status());
  return infer_global_pool(ctx, is_float_type);
}

// Planes, plane size and output dims of a global pool over X.
Expected<Dims> global_out_dims(const RunContext& ctx, int64_t* planes, int64_t* plane_size) {
  const Dims& x = ctx.input(0).dims();
  if (x.size() < 3) return ctx.fail("X must have rank >= 3 ([N, C, spatial...]), got " + dims_to_string(x));
  Dims out = x;
  *planes = x[0] * x[1];
  *plane_size = 1;
  for (size_t d = 2; d < x.size(); ++d) {
    *plane_size *= x[d];
    out[d] = 1;
  }
  return out;
}

Status run_global_avg_pool(RunContext& ctx) {
  int64_t planes = 0, size = 0;
  INGOT_ASSIGN_OR_RETURN(Dims out, global_out_dims(ctx, &planes, &size));
  return run_float_pool(ctx, out, [&](const auto* x, auto* y) { ref::global_avg_pool(x, y, planes, size); });
}

Status run_global_max_pool(RunContext& ctx) {
  int64_t planes = 0, size = 0;
  INGOT_ASSIGN_OR_RETURN(Dims out, global_out_dims(ctx, &planes, &size));
  return run_float_pool(ctx, out, [&](const auto* x, auto* y) { ref::global_max_pool(x, y, planes, size); });
}

Status run_global_lp_pool(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(double p, lp_norm(ctx.node()));
  int64_t planes = 0, size = 0;
  INGOT_ASSIGN_OR_RETURN(Dims out, global_out_dims(ctx, &planes, &size));
  return run_float_pool(ctx, out,
                        [&](const auto* x, auto* y) { ref::global_lp_pool(x, y, planes, size, p); });
}

// MaxUnpool's output: output_shape when given (the shape of the tensor MaxPool pooled, which its
// indices address), else (in - 1) * stride - pads + kernel per spatial dim.
Expected<ir::SymShape> unpool_output_shape(const ir::Node& node, const ir::SymShape& x,
                                           const std::vector<int64_t>* output_shape) {
  auto fail = [&](const std::string& msg) { return invalid_argument(node.describe() + ": " + msg); };
  if (x.size() < 3) return fail("X must have rank >= 3 ([N, C, spatial...]), got " + ir::shape_to_string(x));
  const size_t nsp = x.size() - 2;
  INGOT_ASSIGN_OR_RETURN(WindowAttrs a, read_window_attrs(node, nsp, {}));
  if (output_shape) {
    if (output_shape->size() != x.size()) {
      return fail("output_shape has " + std::to_string(output_shape->size()) + " values for X of rank " +
                  std::to_string(x.size()));
    }
    for (size_t d = 0; d < x.size(); ++d) {
      if ((*output_shape)[d] < 0) return fail("output_shape has a negative dim");
      if (d < 2 && x[d].is_static() && x[d].value != (*output_shape)[d]) {
        return fail("output_shape's batch and channel dims must match X " + ir::shape_to_string(x));
      }
    }
    return ir::to_sym_shape(*output_shape);
  }
  ir::SymShape out = x;
  for (size_t d = 0; d < nsp; ++d) {
    if (!x[d + 2].is_static()) continue;
    const int64_t size = (x[d + 2].value - 1) * a.strides[d] - a.pads[d] - a.pads[nsp + d] + a.kernel[d];
    if (size < 0) return fail("pads are larger than the unpooled size in spatial dim " + std::to_string(d));
    out[d + 2] = size;
  }
  return out;
}

Status infer_max_unpool(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and I");
  const DType dt = ctx.input_dtype(0);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input_dtype(1) != DType::kI64) return ctx.fail("I must be int64");
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const auto out_shape = const_ints(ctx, 2);
  if (ctx.has_input(2) && !out_shape) {
    INGOT_RETURN_IF_ERROR(unpool_output_shape(ctx.node(), ctx.input_shape(0), nullptr).status());
    ctx.set_output(0, dt, ir::SymShape(ctx.input_shape(0).size()));
    return Status::Ok();
  }
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, unpool_output_shape(ctx.node(), ctx.input_shape(0),
                                                               out_shape ? &*out_shape : nullptr));
  ctx.set_output(0, dt, std::move(out));
  return Status::Ok();
}

Status run_max_unpool(RunContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and I");
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  if (idx.dtype() != DType::kI64) return ctx.fail("I must be int64");
  if (idx.dims() != x.dims()) {
    return ctx.fail("I " + dims_to_string(idx.dims()) + " must have the shape of X " +
                    dims_to_string(x.dims()));
  }
  std::optional<std::vector<int64_t>> out_shape;
  if (ctx.has_input(2)) out_shape = ctx.input(2).to_i64_vector();
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, unpool_output_shape(ctx.node(), ir::to_sym_shape(x.dims()),
                                                               out_shape ? &*out_shape : nullptr));
  if (!is_float_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), ir::to_dims(out)));
  bool in_range = true;
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    in_range = ref::max_unpool(x.data<T>(), idx.data<int64_t>(), x.numel(), y->data<T>(), y->numel());
  });
  if (!in_range) return ctx.fail("an index in I is outside the output of shape " + dims_to_string(y->dims()));
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(MaxUnpool, .infer = infer_max_unpool, .run = run_max_unpool);
INGOT_REGISTER_OP(MaxPool, .infer = infer_max_pool, .run = run_max_pool);
INGOT_REGISTER_OP(AveragePool, .infer = infer_float_pool, .run = run_avg_pool);
INGOT_REGISTER_OP(LpPool, .infer = infer_lp_pool, .run = run_lp_pool);
INGOT_REGISTER_OP(GlobalAveragePool, .infer = infer_global_float_pool, .run = run_global_avg_pool);
INGOT_REGISTER_OP(GlobalMaxPool, .infer = infer_global_float_pool, .run = run_global_max_pool);
INGOT_REGISTER_OP(GlobalLpPool, .infer = infer_global_lp_pool, .run = run_global_lp_pool);

}  // namespace ingot::ops
