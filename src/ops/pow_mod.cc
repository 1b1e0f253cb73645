// Pow (base and exponent of different types since opset 12; the result has the base's type) and Mod
// (fmod=0: sign of the divisor, fmod=1: sign of the dividend).
#include <cmath>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/binary_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// The base types of Pow-15: floats, int32, int64.
template <typename F>
bool dispatch_pow_base(DType t, F&& f) {
  if (t == DType::kI32) {
    f(TypeTag<int32_t>{});
    return true;
  }
  if (t == DType::kI64) {
    f(TypeTag<int64_t>{});
    return true;
  }
  return dispatch_float(t, f);
}

Status infer_pow(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs");
  if (!dispatch_pow_base(ctx.input_dtype(0), [](auto) {})) {
    return ctx.fail(std::string("unsupported base type ") + dtype_name(ctx.input_dtype(0)));
  }
  if (!dispatch_arith(ctx.input_dtype(1), [](auto) {})) {
    return ctx.fail(std::string("unsupported exponent type ") + dtype_name(ctx.input_dtype(1)));
  }
  return infer_binary(ctx, ctx.input_dtype(0), /*same_dtype=*/false);
}

Status run_pow(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, a.dtype(), d.out));
  bool exp_ok = false;
  bool ok = dispatch_pow_base(a.dtype(), [&](auto base_tag) {
    using T = typename decltype(base_tag)::type;
    exp_ok = dispatch_arith(b.dtype(), [&](auto exp_tag) {
      using E = typename decltype(exp_tag)::type;
      if constexpr (ref::kIsFloat<T>) {
        // x^2 and x^3 (LayerNorm's variance, tanh-GELU) without a pow() per element; the double products
        // round to T as pow() in double does.
        const double e = b.numel() == 1 ? static_cast<double>(b.data<E>()[0]) : 0.0;
        if (b.numel() == 1 && (e == 2.0 || e == 3.0)) {
          const bool cube = e == 3.0;
          ref::broadcast_binary(a.data<T>(), a.dims(), b.data<E>(), d.b, out->data<T>(), d.out,
                                [cube](T x, E) {
                                  const double v = static_cast<double>(x);
                                  return static_cast<T>(cube ? v * v * v : v * v);
                                });
          return;
        }
      }
      ref::broadcast_binary(a.data<T>(), a.dims(), b.data<E>(), d.b, out->data<T>(), d.out,
                            [](T x, E y) { return ref::pow_scalar<T, E>(x, y); });
    });
  });
  if (!ok) return ctx.fail(std::string("unsupported base type ") + dtype_name(a.dtype()));
  if (!exp_ok) return ctx.fail(std::string("unsupported exponent type ") + dtype_name(b.dtype()));
  return Status::Ok();
}

Status infer_mod(InferContext& ctx) {
  const int64_t fmod = ctx.node().attr_int("fmod", 0);
  if (fmod != 0 && fmod != 1) return ctx.fail("fmod must be 0 or 1, got " + std::to_string(fmod));
  if (ctx.num_inputs() == 2 && ctx.has_input(0) && !dispatch_arith(ctx.input_dtype(0), [](auto) {})) {
    return ctx.fail(std::string("unsupported type ") + dtype_name(ctx.input_dtype(0)));
  }
  return infer_binary(ctx, ctx.num_inputs() ? ctx.input_dtype(0) : DType::kUndefined);
}

Status run_mod(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return ctx.fail("input types differ");
  const bool fmod = ctx.node().attr_int("fmod", 0) != 0;
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, a.dtype(), d.out));
  bool ok = dispatch_arith(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, out->data<T>(), d.out,
                          [fmod](T x, T y) { return ref::mod_scalar(x, y, fmod); });
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(a.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(Pow, .infer = infer_pow, .run = run_pow);
INGOT_REGISTER_OP(Mod, .infer = infer_mod, .run = run_mod);

}  // namespace ingot::ops
