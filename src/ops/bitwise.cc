// BitShift (unsigned integers, direction LEFT/RIGHT) and BitwiseAnd / BitwiseOr / BitwiseXor (integers).
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/binary_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

template <typename F>
bool dispatch_unsigned(DType t, F&& f) {
  switch (t) {
    case DType::kU8:
      f(TypeTag<uint8_t>{});
      return true;
    case DType::kU16:
      f(TypeTag<uint16_t>{});
      return true;
    case DType::kU32:
      f(TypeTag<uint32_t>{});
      return true;
    case DType::kU64:
      f(TypeTag<uint64_t>{});
      return true;
    default:
      return false;
  }
}

Expected<bool> shift_left(const ir::Node& node) {
  const std::string dir = node.attr_string("direction", "");
  if (dir == "LEFT") return true;
  if (dir == "RIGHT") return false;
  return invalid_argument(node.describe() + ": direction must be LEFT or RIGHT, got '" + dir + "'");
}

Status infer_bitshift(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(shift_left(ctx.node()).status());
  if (ctx.num_inputs() == 2 && ctx.has_input(0) && !dispatch_unsigned(ctx.input_dtype(0), [](auto) {})) {
    return ctx.fail(std::string("expects unsigned integers, got ") + dtype_name(ctx.input_dtype(0)));
  }
  return infer_binary(ctx, ctx.num_inputs() ? ctx.input_dtype(0) : DType::kUndefined);
}

Status run_bitshift(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return ctx.fail("input types differ");
  INGOT_ASSIGN_OR_RETURN(bool left, shift_left(ctx.node()));
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, a.dtype(), d.out));
  bool ok = dispatch_unsigned(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (left) {
      ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, out->data<T>(), d.out,
                            ref::shift_left<T>);
    } else {
      ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, out->data<T>(), d.out,
                            ref::shift_right<T>);
    }
  });
  return ok ? Status::Ok() : ctx.fail(std::string("expects unsigned integers, got ") + dtype_name(a.dtype()));
}

struct AndOp {
  template <typename T>
  static T apply(T x, T y) {
    return static_cast<T>(x & y);
  }
};
struct OrOp {
  template <typename T>
  static T apply(T x, T y) {
    return static_cast<T>(x | y);
  }
};
struct XorOp {
  template <typename T>
  static T apply(T x, T y) {
    return static_cast<T>(x ^ y);
  }
};

Status infer_bitwise(InferContext& ctx) {
  if (ctx.num_inputs() == 2 && ctx.has_input(0) && !dispatch_integer(ctx.input_dtype(0), [](auto) {})) {
    return ctx.fail(std::string("expects integers, got ") + dtype_name(ctx.input_dtype(0)));
  }
  return infer_binary(ctx, ctx.num_inputs() ? ctx.input_dtype(0) : DType::kUndefined);
}

template <typename Op>
Status run_bitwise(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return ctx.fail("input types differ");
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, a.dtype(), d.out));
  bool ok = dispatch_integer(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, out->data<T>(), d.out,
                          [](T x, T y) { return Op::apply(x, y); });
  });
  return ok ? Status::Ok() : ctx.fail(std::string("expects integers, got ") + dtype_name(a.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(BitShift, .infer = infer_bitshift, .run = run_bitshift);
INGOT_REGISTER_OP(BitwiseAnd, .infer = infer_bitwise, .run = run_bitwise<AndOp>);
INGOT_REGISTER_OP(BitwiseOr, .infer = infer_bitwise, .run = run_bitwise<OrOp>);
INGOT_REGISTER_OP(BitwiseXor, .infer = infer_bitwise, .run = run_bitwise<XorOp>);

}  // namespace ingot::ops
