// Elementwise math: Abs Neg Sign Exp Log Sqrt Reciprocal Floor Ceil Round, the trigonometric and
// hyperbolic functions, Erf; IsNaN IsInf Not BitwiseNot; Identity.
#include <initializer_list>

#include "core/dispatch.h"
#include "kernels/reference/cast.h"
#include "kernels/reference/unary_math.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

using ref::UnaryMathOp;

bool is_float8(DType t) {
  return t == DType::kF8E4M3FN || t == DType::kF8E4M3FNUZ || t == DType::kF8E5M2 || t == DType::kF8E5M2FNUZ;
}

// Which element types an op's ONNX schema allows.
enum class Types { kFloat, kSignedOrFloat, kNumeric };

bool type_allowed(Types types, DType t) {
  switch (types) {
    case Types::kFloat:
      return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
    case Types::kSignedOrFloat:
      return type_allowed(Types::kFloat, t) || (dtype_is_integer(t) && dtype_is_signed(t));
    case Types::kNumeric:
      return type_allowed(Types::kFloat, t) || dtype_is_integer(t);
  }
  return false;
}

constexpr Types types_of(UnaryMathOp op) {
  if (op == UnaryMathOp::kNeg) return Types::kSignedOrFloat;
  return ref::unary_math_accepts_integers(op) ? Types::kNumeric : Types::kFloat;
}

// Input 0 is a tensor whose dtype (when known) is accepted by `ok`.
template <typename Pred>
Status check_unary_input(InferContext& ctx, Pred ok) {
  if (ctx.num_inputs() < 1 || !ctx.has_input(0)) return ctx.fail("expects 1 input");
  const DType t = ctx.input_dtype(0);
  if (t != DType::kUndefined && !ok(t))
    return ctx.fail(std::string("unsupported input type ") + dtype_name(t));
  return Status::Ok();
}

template <UnaryMathOp kOp>
Status infer_math(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_unary_input(ctx, [](DType t) { return type_allowed(types_of(kOp), t); }));
  return infer_same_as_input(ctx);
}

template <UnaryMathOp kOp>
Status run_math(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!type_allowed(types_of(kOp), x.dtype()))
    return ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::unary_math<T>(kOp, x.data<T>(), y->data<T>(), x.numel());
  });
  return Status::Ok();
}

bool nan_inf_type(DType t) { return type_allowed(Types::kFloat, t) || is_float8(t); }

// Same shape as the input, bool elements.
Status infer_same_shape_as(InferContext& ctx, DType dtype) {
  if (ctx.input_has_shape(0)) {
    ctx.set_output(0, dtype, ctx.input_shape(0));
  } else {
    ctx.set_output_rank_unknown(0, dtype);
  }
  return Status::Ok();
}

Status infer_nan_inf(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_unary_input(ctx, nan_inf_type));
  return infer_same_shape_as(ctx, DType::kBool);
}

// Runs `classify(float_ptr, out, n)` on x, decoding float8 inputs to float first.
template <typename F>
Status run_classify(RunContext& ctx, F&& classify) {
  const Tensor& x = ctx.input(0);
  if (!nan_inf_type(x.dtype()))
    return ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kBool, x.dims()));
  if (is_float8(x.dtype())) {
    INGOT_ASSIGN_OR_RETURN(Tensor wide, Tensor::create(DType::kF32, x.dims()));
    ref::float8_to_float(x.dtype(), x.data<uint8_t>(), wide.data<float>(), x.numel());
    classify(wide.data<float>(), y->data<bool>(), x.numel());
    return Status::Ok();
  }
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    classify(x.data<T>(), y->data<bool>(), x.numel());
  });
  return Status::Ok();
}

Status run_isnan(RunContext& ctx) {
  return run_classify(ctx, [](const auto* x, bool* out, int64_t n) { ref::is_nan(x, out, n); });
}

Status run_isinf(RunContext& ctx) {
  const bool neg = ctx.node().attr_int("detect_negative", 1) != 0;
  const bool pos = ctx.node().attr_int("detect_positive", 1) != 0;
  return run_classify(ctx, [&](const auto* x, bool* out, int64_t n) { ref::is_inf(x, out, n, neg, pos); });
}

Status infer_not(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_unary_input(ctx, [](DType t) { return t == DType::kBool; }));
  return infer_same_as_input(ctx);
}

Status run_not(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kBool)
    return ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kBool, x.dims()));
  ref::logical_not(x.data<bool>(), y->data<bool>(), x.numel());
  return Status::Ok();
}

Status infer_bitwise_not(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_unary_input(ctx, dtype_is_integer));
  return infer_same_as_input(ctx);
}

Status run_bitwise_not(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  bool ok = dispatch_integer(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::bitwise_not(x.data<T>(), y->data<T>(), x.numel());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
}

// Identity passes any value through (tensors of every type, sequences, optionals) without copying:
// tensors share storage and nothing downstream writes into an input.
Status infer_identity(InferContext& ctx) {
  if (ctx.num_inputs() < 1 || !ctx.has_input(0)) return ctx.fail("expects 1 input");
  ctx.set_output(0, ctx.input_type(0));
  return Status::Ok();
}

Status run_identity(RunContext& ctx) {
  ctx.set_output(0, ctx.input_value(0));
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Abs, .infer = infer_math<UnaryMathOp::kAbs>, .run = run_math<UnaryMathOp::kAbs>);
INGOT_REGISTER_OP(Neg, .infer = infer_math<UnaryMathOp::kNeg>, .run = run_math<UnaryMathOp::kNeg>);
INGOT_REGISTER_OP(Sign, .infer = infer_math<UnaryMathOp::kSign>, .run = run_math<UnaryMathOp::kSign>);
INGOT_REGISTER_OP(Exp, .infer = infer_math<UnaryMathOp::kExp>, .run = run_math<UnaryMathOp::kExp>);
INGOT_REGISTER_OP(Log, .infer = infer_math<UnaryMathOp::kLog>, .run = run_math<UnaryMathOp::kLog>);
INGOT_REGISTER_OP(Sqrt, .infer = infer_math<UnaryMathOp::kSqrt>, .run = run_math<UnaryMathOp::kSqrt>);
INGOT_REGISTER_OP(Reciprocal, .infer = infer_math<UnaryMathOp::kReciprocal>,
                  .run = run_math<UnaryMathOp::kReciprocal>);
INGOT_REGISTER_OP(Floor, .infer = infer_math<UnaryMathOp::kFloor>, .run = run_math<UnaryMathOp::kFloor>);
INGOT_REGISTER_OP(Ceil, .infer = infer_math<UnaryMathOp::kCeil>, .run = run_math<UnaryMathOp::kCeil>);
INGOT_REGISTER_OP(Round, .infer = infer_math<UnaryMathOp::kRound>, .run = run_math<UnaryMathOp::kRound>);
INGOT_REGISTER_OP(Sin, .infer = infer_math<UnaryMathOp::kSin>, .run = run_math<UnaryMathOp::kSin>);
INGOT_REGISTER_OP(Cos, .infer = infer_math<UnaryMathOp::kCos>, .run = run_math<UnaryMathOp::kCos>);
INGOT_REGISTER_OP(Tan, .infer = infer_math<UnaryMathOp::kTan>, .run = run_math<UnaryMathOp::kTan>);
INGOT_REGISTER_OP(Asin, .infer = infer_math<UnaryMathOp::kAsin>, .run = run_math<UnaryMathOp::kAsin>);
INGOT_REGISTER_OP(Acos, .infer = infer_math<UnaryMathOp::kAcos>, .run = run_math<UnaryMathOp::kAcos>);
INGOT_REGISTER_OP(Atan, .infer = infer_math<UnaryMathOp::kAtan>, .run = run_math<UnaryMathOp::kAtan>);
INGOT_REGISTER_OP(Sinh, .infer = infer_math<UnaryMathOp::kSinh>, .run = run_math<UnaryMathOp::kSinh>);
INGOT_REGISTER_OP(Cosh, .infer = infer_math<UnaryMathOp::kCosh>, .run = run_math<UnaryMathOp::kCosh>);
INGOT_REGISTER_OP(Asinh, .infer = infer_math<UnaryMathOp::kAsinh>, .run = run_math<UnaryMathOp::kAsinh>);
INGOT_REGISTER_OP(Acosh, .infer = infer_math<UnaryMathOp::kAcosh>, .run = run_math<UnaryMathOp::kAcosh>);
INGOT_REGISTER_OP(Atanh, .infer = infer_math<UnaryMathOp::kAtanh>, .run = run_math<UnaryMathOp::kAtanh>);
INGOT_REGISTER_OP(Erf, .infer = infer_math<UnaryMathOp::kErf>, .run = run_math<UnaryMathOp::kErf>);
INGOT_REGISTER_OP(IsNaN, .infer = infer_nan_inf, .run = run_isnan);
INGOT_REGISTER_OP(IsInf, .infer = infer_nan_inf, .run = run_isinf);
INGOT_REGISTER_OP(Not, .infer = infer_not, .run = run_not);
INGOT_REGISTER_OP(BitwiseNot, .infer = infer_bitwise_not, .run = run_bitwise_not);
INGOT_REGISTER_OP(Identity, .infer = infer_identity, .run = run_identity);

}  // namespace ingot::ops
