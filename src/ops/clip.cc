// Clip: y = min(max(x, min), max) with optional scalar bounds, over every numeric type but bool.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/dispatch.h"
#include "kernels/reference/activations.h"
#include "kernels/reference/cast.h"
#include "kernels/reference/unary_math.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

bool clip_type(DType t) {
  return dtype_is_integer(t) || t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}

// Before opset 11 the bounds were float attributes; they become inputs 1 and 2. The bounds take the
// input's type when import already knows it, float otherwise (run converts them).
Status normalize_clip(NormalizeContext& ctx) {
  if (ctx.opset() >= 11) return Status::Ok();
  ir::Node& node = ctx.node();
  node.attrs.erase("consumed_inputs");
  DType dtype = node.has_input(0) ? node.inputs[0]->type.dtype : DType::kUndefined;
  if (!clip_type(dtype)) dtype = DType::kF32;
  if (node.inputs.size() > 1) return ctx.fail("expects 1 input before opset 11");
  const char* names[] = {"min", "max"};
  for (size_t i = 0; i < 2; ++i) {
    if (!node.has_attr(names[i])) continue;
    const float v = node.attr_float(names[i], 0.0f);
    INGOT_ASSIGN_OR_RETURN(Tensor t, Tensor::create(dtype, {}));
    INGOT_RETURN_IF_ERROR(ref::cast(DType::kF32, &v, dtype, t.raw(), 1, true));
    node.attrs.erase(names[i]);
    ctx.set_const_input(i + 1, std::move(t));
  }
  return Status::Ok();
}

Status infer_clip(InferContext& ctx) {
  if (ctx.num_inputs() < 1 || ctx.num_inputs() > 3 || !ctx.has_input(0))
    return ctx.fail("expects 1 to 3 inputs");
  const DType t = ctx.input_dtype(0);
  if (t != DType::kUndefined && !clip_type(t))
    return ctx.fail(std::string("unsupported input type ") + dtype_name(t));
  for (size_t i = 1; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) continue;
    const char* what = i == 1 ? "min" : "max";
    const DType bt = ctx.input_dtype(i);
    if (bt != DType::kUndefined && !clip_type(bt))
      return ctx.fail(std::string(what) + " has unsupported type " + dtype_name(bt));
    if (ctx.input_has_shape(i)) {
      for (const ir::Dim& d : ctx.input_shape(i))
        if (d.is_static() && d.value != 1) return ctx.fail(std::string(what) + " must be a scalar");
    }
  }
  return infer_same_as_input(ctx);
}

// A bound as T. Bounds of another numeric type (e.g. float bounds an old-opset import attached to a
// float16 input) convert, saturating at T's range; a NaN bound of an integer clip means no bound.
template <typename T>
T bound_value(const Tensor& b, T unbounded) {
  if (b.dtype() == DTypeOf<T>::value) return b.data<T>()[0];
  if constexpr (std::is_integral_v<T>) {
    // long double holds every int64 and uint64 exactly where it is 80 or 128 bits wide.
    long double v;
    if (b.dtype() == DType::kU64) {
      v = static_cast<long double>(b.data<uint64_t>()[0]);
    } else if (dtype_is_integer(b.dtype())) {
      v = static_cast<long double>(b.get_i64(0));
    } else {
      v = static_cast<long double>(b.get_f64(0));
      if (std::isnan(v)) return unbounded;
    }
    if (v <= static_cast<long double>(std::numeric_limits<T>::lowest()))
      return std::numeric_limits<T>::lowest();
    if (v >= static_cast<long double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(static_cast<ref::MathType<T>>(b.get_f64(0)));
  }
}

Status run_clip(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!clip_type(x.dtype())) return ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
  for (size_t i = 1; i < ctx.num_inputs() && i < 3; ++i) {
    if (!ctx.has_input(i)) continue;
    const Tensor& b = ctx.input(i);
    if (b.numel() != 1) return ctx.fail(std::string(i == 1 ? "min" : "max") + " must be a scalar");
    if (!clip_type(b.dtype()))
      return ctx.fail(std::string(i == 1 ? "min" : "max") + " has unsupported type " + dtype_name(b.dtype()));
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T lo, hi;
    if constexpr (std::is_integral_v<T>) {
      lo = std::numeric_limits<T>::lowest();
      hi = std::numeric_limits<T>::max();
    } else {
      lo = static_cast<T>(-std::numeric_limits<ref::MathType<T>>::infinity());
      hi = static_cast<T>(std::numeric_limits<ref::MathType<T>>::infinity());
    }
    if (ctx.has_input(1)) lo = bound_value<T>(ctx.input(1), lo);
    if (ctx.num_inputs() > 2 && ctx.has_input(2)) hi = bound_value<T>(ctx.input(2), hi);
    ref::clip<T>(x.data<T>(), y->data<T>(), x.numel(), lo, hi);
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Clip, .infer = infer_clip, .run = run_clip, .normalize = normalize_clip);

}  // namespace ingot::ops
