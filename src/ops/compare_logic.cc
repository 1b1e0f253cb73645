// Comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual) and boolean logic (And, Or, Xor): two
// broadcast inputs of one type, a bool output. Equal also compares strings.
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/binary_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

struct EqualOp {
  static constexpr bool kStrings = true;
  template <typename T>
  static bool apply(const T& x, const T& y) {
    return x == y;
  }
};
struct LessOp {
  static constexpr bool kStrings = false;
  template <typename T>
  static bool apply(const T& x, const T& y) {
    return x < y;
  }
};
struct GreaterOp {
  static constexpr bool kStrings = false;
  template <typename T>
  static bool apply(const T& x, const T& y) {
    return x > y;
  }
};
struct LessOrEqualOp {
  static constexpr bool kStrings = false;
  template <typename T>
  static bool apply(const T& x, const T& y) {
    return x <= y;
  }
};
struct GreaterOrEqualOp {
  static constexpr bool kStrings = false;
  template <typename T>
  static bool apply(const T& x, const T& y) {
    return x >= y;
  }
};

template <typename Op>
Status infer_compare(InferContext& ctx) {
  if (ctx.num_inputs() == 2 && ctx.has_input(0) && ctx.input_dtype(0) == DType::kString && !Op::kStrings) {
    return ctx.fail("does not compare strings");
  }
  return infer_binary(ctx, DType::kBool);
}

template <typename Op>
Status run_compare(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return ctx.fail("input types differ");
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, DType::kBool, d.out));
  bool* po = out->data<bool>();
  if (a.dtype() == DType::kString) {
    if constexpr (Op::kStrings) {
      ref::broadcast_binary(a.strings(), a.dims(), b.strings(), d.b, po, d.out,
                            [](const std::string& x, const std::string& y) { return Op::apply(x, y); });
      return Status::Ok();
    }
    return ctx.fail("does not compare strings");
  }
  bool ok = dispatch_numeric(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using W = ref::WideT<T>;
    ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, po, d.out,
                          [](T x, T y) { return Op::apply(static_cast<W>(x), static_cast<W>(y)); });
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(a.dtype()));
}

struct AndOp {
  static bool apply(bool x, bool y) { return x && y; }
};
struct OrOp {
  static bool apply(bool x, bool y) { return x || y; }
};
struct XorOp {
  static bool apply(bool x, bool y) { return x != y; }
};

template <typename Op>
Status infer_logic(InferContext& ctx) {
  if (ctx.num_inputs() == 2 && ctx.has_input(0) && ctx.input_dtype(0) != DType::kBool) {
    return ctx.fail(std::string("expects bool inputs, got ") + dtype_name(ctx.input_dtype(0)));
  }
  return infer_binary(ctx, DType::kBool);
}

template <typename Op>
Status run_logic(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != DType::kBool || b.dtype() != DType::kBool) return ctx.fail("expects bool inputs");
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, DType::kBool, d.out));
  ref::broadcast_binary(a.data<bool>(), a.dims(), b.data<bool>(), d.b, out->data<bool>(), d.out,
                        [](bool x, bool y) { return Op::apply(x, y); });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Equal, .infer = infer_compare<EqualOp>, .run = run_compare<EqualOp>);
INGOT_REGISTER_OP(Less, .infer = infer_compare<LessOp>, .run = run_compare<LessOp>);
INGOT_REGISTER_OP(Greater, .infer = infer_compare<GreaterOp>, .run = run_compare<GreaterOp>);
INGOT_REGISTER_OP(LessOrEqual, .infer = infer_compare<LessOrEqualOp>, .run = run_compare<LessOrEqualOp>);
INGOT_REGISTER_OP(GreaterOrEqual, .infer = infer_compare<GreaterOrEqualOp>,
                  .run = run_compare<GreaterOrEqualOp>);
INGOT_REGISTER_OP(And, .infer = infer_logic<AndOp>, .run = run_logic<AndOp>);
INGOT_REGISTER_OP(Or, .infer = infer_logic<OrOp>, .run = run_logic<OrOp>);
INGOT_REGISTER_OP(Xor, .infer = infer_logic<XorOp>, .run = run_logic<XorOp>);

}  // namespace ingot::ops
