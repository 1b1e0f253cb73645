// Add, Sub, Mul, Div: numpy-broadcast arithmetic over every numeric dtype. Opsets before 7 broadcast only
// with broadcast=1, B aligned at `axis` (binary_util.h).
#include <cmath>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/binary_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_arith(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0)) return ctx.fail("expects 2 inputs");
  return infer_binary(ctx, ctx.input_dtype(0));
}

template <typename Op>
Status run_arith(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return ctx.fail("input types differ");
  INGOT_ASSIGN_OR_RETURN(BinaryDims d, binary_dims(ctx));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, a.dtype(), d.out));
  Status st;
  bool ok = dispatch_arith(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (Op::kIntegerDivision && std::is_integral_v<T>) {
      bool div_by_zero = false;
      ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, out->data<T>(), d.out, [&](T x, T y) {
        if (y == 0) {
          div_by_zero = true;
          return T(0);
        }
        if constexpr (std::is_signed_v<T>) {
          if (y == T(-1))
            return static_cast<T>(
                0 - static_cast<std::make_unsigned_t<T>>(x));  // lowest() / -1 traps; wraps like numpy
        }
        return static_cast<T>(x / y);
      });
      if (div_by_zero) st = ctx.fail("integer division by zero");
    } else {
      ref::broadcast_binary(a.data<T>(), a.dims(), b.data<T>(), d.b, out->data<T>(), d.out,
                            [](T x, T y) { return static_cast<T>(Op::apply(x, y)); });
    }
  });
  if (!ok) return ctx.fail(std::string("unsupported type ") + dtype_name(a.dtype()));
  return st;
}

template <typename T>
using Wide = ref::WideT<T>;

struct AddOp {
  static constexpr bool kIntegerDivision = false;
  template <typename T>
  static T apply(T x, T y) {
    return ref::wrapping_add(x, y);
  }
};
struct SubOp {
  static constexpr bool kIntegerDivision = false;
  template <typename T>
  static T apply(T x, T y) {
    return ref::wrapping_sub(x, y);
  }
};
struct MulOp {
  static constexpr bool kIntegerDivision = false;
  template <typename T>
  static T apply(T x, T y) {
    return ref::wrapping_mul(x, y);
  }
};
struct DivOp {
  static constexpr bool kIntegerDivision = true;
  template <typename T>
  static auto apply(T x, T y) {
    return static_cast<Wide<T>>(x) / static_cast<Wide<T>>(y);
  }
};

}  // namespace

INGOT_REGISTER_OP(Add, .infer = infer_arith, .run = run_arith<AddOp>);
INGOT_REGISTER_OP(Sub, .infer = infer_arith, .run = run_arith<SubOp>);
INGOT_REGISTER_OP(Mul, .infer = infer_arith, .run = run_arith<MulOp>);
INGOT_REGISTER_OP(Div, .infer = infer_arith, .run = run_arith<DivOp>);

}  // namespace ingot::ops
