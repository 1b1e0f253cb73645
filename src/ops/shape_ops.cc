// Shape (with start/end), Size, ConstantOfShape, Range, EyeLike. Shape and Size are folded
// to constants at build time whenever the dims they read are static.
#include <cmath>

#include "core/dispatch.h"
#include "kernels/reference/shape_ops.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// ---- Shape ----

// [start, end) of Shape-15 after clamping to [0, rank].
std::pair<int64_t, int64_t> shape_range(const ir::Node& node, int64_t rank) {
  auto clamp = [&](int64_t v) {
    if (v < 0) v += rank;
    return v < 0 ? 0 : (v > rank ? rank : v);
  };
  const int64_t start = clamp(node.attr_int("start", 0));
  const int64_t end = node.has_attr("end") ? clamp(node.attr_int("end", rank)) : rank;
  return {start, std::max(start, end)};
}

Status run_shape(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  auto [start, end] = shape_range(ctx.node(), x.rank());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kI64, {end - start}));
  for (int64_t i = start; i < end; ++i) y->data<int64_t>()[i - start] = x.dim(i);
  return Status::Ok();
}

Status infer_shape(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, DType::kI64, unknown_shape(1));
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  auto [start, end] = shape_range(ctx.node(), static_cast<int64_t>(in.size()));
  bool known = true;
  for (int64_t i = start; i < end; ++i) known &= in[i].is_static();
  if (!known) {
    ctx.set_output(0, DType::kI64, {end - start});
    return Status::Ok();
  }
  Tensor t = Tensor::create(DType::kI64, {end - start}).value();
  for (int64_t i = start; i < end; ++i) t.data<int64_t>()[i - start] = in[i].value;
  ctx.set_output_const(0, std::move(t));
  return Status::Ok();
}

// ---- Size ----

Status run_size(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kI64, {}));
  y->data<int64_t>()[0] = ctx.input(0).numel();
  return Status::Ok();
}

Status infer_size(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  if (ctx.input_has_shape(0) && ir::is_static(ctx.input_shape(0))) {
    auto n = checked_numel(ir::to_dims(ctx.input_shape(0)));
    if (!n.ok()) return ctx.fail(n.status().message());
    ctx.set_output_const(0, Tensor::scalar_i64(*n));
  } else {
    ctx.set_output(0, DType::kI64, {});
  }
  return Status::Ok();
}

// ---- ConstantOfShape ----

Expected<Tensor> fill_value(const ir::Node& node) {
  const Tensor* v = node.attr_tensor("value");
  if (!v) return Tensor::scalar_f32(0.f);
  if (v->numel() != 1) return invalid_argument(node.describe() + ": value must have exactly one element");
  return *v;
}

Status run_constant_of_shape(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(auto dims, int_input(ctx, 0, "shape"));
  if (ctx.input(0).rank() > 1) return ctx.fail("shape must be 1-D");
  for (int64_t d : dims)
    if (d < 0) return ctx.fail("shape has a negative value " + std::to_string(d));
  INGOT_ASSIGN_OR_RETURN(Tensor v, fill_value(ctx.node()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, v.dtype(), dims));
  bool ok = dispatch_by_size(v.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::fill(y->data<T>(), y->numel(), v.data<T>()[0]);
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(v.dtype()));
}

Status infer_constant_of_shape(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing shape input");
  INGOT_ASSIGN_OR_RETURN(Tensor v, fill_value(ctx.node()));
  auto dims = const_ints(ctx, 0);
  if (dims) {
    for (int64_t d : *dims)
      if (d < 0) return ctx.fail("shape has a negative value " + std::to_string(d));
    ctx.set_output(0, v.dtype(), ir::to_sym_shape(*dims));
  } else if (ctx.input_has_shape(0) && ctx.input_shape(0).size() == 1 && ctx.input_shape(0)[0].is_static()) {
    ctx.set_output(0, v.dtype(), unknown_shape(ctx.input_shape(0)[0].value));
  } else {
    ctx.set_output_rank_unknown(0, v.dtype());
  }
  return Status::Ok();
}

// ---- Range ----

// Element count max(ceil((limit - start) / delta), 0); an error for delta 0 or a non-finite count.
template <typename T>
Expected<int64_t> range_count(T start, T limit, T delta, const ir::Node& node) {
  if (delta == T(0)) return invalid_argument(node.describe() + ": delta is 0");
  if constexpr (std::is_integral_v<T>) {
    const __int128 diff = static_cast<__int128>(limit) - start;
    __int128 n = delta > 0 ? (diff + delta - 1) / delta : (diff + delta + 1) / delta;
    if (diff == 0 || (diff > 0) != (delta > 0)) n = 0;
    if (n > INT64_MAX) return invalid_argument(node.describe() + ": range is too long");
    return static_cast<int64_t>(n < 0 ? 0 : n);
  } else {
    const double n =
        std::ceil((static_cast<double>(limit) - static_cast<double>(start)) / static_cast<double>(delta));
    if (!std::isfinite(n)) return invalid_argument(node.describe() + ": range has no finite length");
    if (n > 9e18) return invalid_argument(node.describe() + ": range is too long");
    return n > 0 ? static_cast<int64_t>(n) : 0;
  }
}

Status run_range(RunContext& ctx) {
  const Tensor& s = ctx.input(0);
  const Tensor& l = ctx.input(1);
  const Tensor& d = ctx.input(2);
  if (s.dtype() != l.dtype() || s.dtype() != d.dtype())
    return ctx.fail("start, limit and delta differ in type");
  if (s.numel() != 1 || l.numel() != 1 || d.numel() != 1)
    return ctx.fail("start, limit and delta must be scalars");
  Status st;
  bool ok = dispatch_arith(s.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
      st = ctx.fail(std::string("unsupported type ") + dtype_name(s.dtype()));
    } else {
      const T a = s.data<T>()[0], b = l.data<T>()[0], c = d.data<T>()[0];
      auto n = range_count(a, b, c, ctx.node());
      if (!n.ok()) {
        st = n.status();
        return;
      }
      auto y = ctx.alloc_output(0, s.dtype(), {*n});
      if (!y.ok()) {
        st = y.status();
        return;
      }
      ref::range((*y)->template data<T>(), *n, a, c);
    }
  });
  if (!ok) return ctx.fail(std::string("unsupported type ") + dtype_name(s.dtype()));
  return st;
}

Status infer_range(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
    return ctx.fail("expects start, limit, delta");
  const DType dt = ctx.input_dtype(0);
  if (ctx.input_dtype(1) != dt || ctx.input_dtype(2) != dt)
    return ctx.fail("start, limit and delta differ in type");
  ctx.set_output(0, dt, unknown_shape(1));  // folding fills in the length when all three are constants
  return Status::Ok();
}

// ---- EyeLike ----

Expected<DType> eye_dtype(const ir::Node& node, DType input) {
  if (!node.has_attr("dtype")) return input;
  const int64_t raw = node.attr_int("dtype", 0);
  if (raw < 0 || raw > INT32_MAX || !dtype_is_valid(static_cast<int32_t>(raw))) {
    return invalid_argument(node.describe() + ": invalid dtype " + std::to_string(raw));
  }
  return static_cast<DType>(raw);
}

Status run_eye_like(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() != 2) return ctx.fail("input must be 2-D, got " + dims_to_string(x.dims()));
  INGOT_ASSIGN_OR_RETURN(DType dt, eye_dtype(ctx.node(), x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, dt, x.dims()));
  const int64_t k = ctx.node().attr_int("k", 0);
  bool ok = dispatch_numeric(dt, [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::eye(y->data<T>(), x.dim(0), x.dim(1), k, static_cast<T>(1.0f));
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(dt));
}

Status infer_eye_like(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  INGOT_ASSIGN_OR_RETURN(DType dt, eye_dtype(ctx.node(), ctx.input_dtype(0)));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, dt, unknown_shape(2));
    return Status::Ok();
  }
  if (ctx.input_shape(0).size() != 2) return ctx.fail("input must be 2-D");
  ctx.set_output(0, dt, ctx.input_shape(0));
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Shape, .infer = infer_shape, .run = run_shape);
INGOT_REGISTER_OP(Size, .infer = infer_size, .run = run_size);
INGOT_REGISTER_OP(ConstantOfShape, .infer = infer_constant_of_shape, .run = run_constant_of_shape);
INGOT_REGISTER_OP(Range, .infer = infer_range, .run = run_range);
INGOT_REGISTER_OP(EyeLike, .infer = infer_eye_like, .run = run_eye_like);

}  // namespace ingot::ops
