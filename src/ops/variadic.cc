// Max, Min, Sum, Mean: 1..N inputs of one type broadcast together, folded left to right into the output
// (so half-precision sums round after each input, as numpy and onnx.reference do).
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

struct MaxOp {
  static constexpr bool kFloatOnly = false;
  template <typename T>
  static T apply(T x, T y) {
    return ref::max_scalar(x, y);
  }
};
struct MinOp {
  static constexpr bool kFloatOnly = false;
  template <typename T>
  static T apply(T x, T y) {
    return ref::min_scalar(x, y);
  }
};
struct SumOp {
  static constexpr bool kFloatOnly = false;
  template <typename T>
  static T apply(T x, T y) {
    return ref::wrapping_add(x, y);
  }
};
struct MeanOp : SumOp {
  static constexpr bool kFloatOnly = true;
};

template <typename Op>
bool dispatch_variadic(DType t, auto&& f) {
  if constexpr (Op::kFloatOnly)
    return dispatch_float(t, f);
  else
    return dispatch_arith(t, f);
}

template <typename Op>
Status infer_variadic(InferContext& ctx) {
  if (ctx.num_inputs() == 0) return ctx.fail("expects at least 1 input");
  for (size_t i = 0; i < ctx.num_inputs(); ++i) {
    if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
    if (ctx.input_dtype(i) != ctx.input_dtype(0)) {
      return ctx.fail(std::string("input types differ: ") + dtype_name(ctx.input_dtype(0)) + " and " +
                      dtype_name(ctx.input_dtype(i)));
    }
  }
  if (!dispatch_variadic<Op>(ctx.input_dtype(0), [](auto) {})) {
    return ctx.fail(std::string("unsupported type ") + dtype_name(ctx.input_dtype(0)));
  }
  return infer_broadcast(ctx);
}

template <typename Op>
Status run_variadic(RunContext& ctx) {
  const size_t n = ctx.num_inputs();
  if (n == 0) return ctx.fail("expects at least 1 input");
  for (size_t i = 0; i < n; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  }
  const DType dtype = ctx.input(0).dtype();
  Dims dims = ctx.input(0).dims();
  for (size_t i = 1; i < n; ++i) {
    if (ctx.input(i).dtype() != dtype) return ctx.fail("input types differ");
    auto b = broadcast_dims(dims, ctx.input(i).dims());
    if (!b.ok()) return ctx.fail(b.status().message());
    dims = std::move(*b);
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, dtype, dims));
  bool ok = dispatch_variadic<Op>(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* po = out->data<T>();
    const Tensor& first = ctx.input(0);
    ref::broadcast_binary(po, dims, first.data<T>(), first.dims(), po, dims, [](T, T y) { return y; });
    for (size_t i = 1; i < n; ++i) {
      const Tensor& in = ctx.input(i);
      ref::broadcast_binary(po, dims, in.data<T>(), in.dims(), po, dims,
                            [](T x, T y) { return Op::apply(x, y); });
    }
    if constexpr (std::is_same_v<Op, MeanOp>) {
      using W = ref::WideT<T>;
      const W count = static_cast<W>(n);
      for (int64_t i = 0; i < out->numel(); ++i) po[i] = static_cast<T>(static_cast<W>(po[i]) / count);
    }
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(dtype));
}

}  // namespace

INGOT_REGISTER_OP(Max, .infer = infer_variadic<MaxOp>, .run = run_variadic<MaxOp>);
INGOT_REGISTER_OP(Min, .infer = infer_variadic<MinOp>, .run = run_variadic<MinOp>);
INGOT_REGISTER_OP(Sum, .infer = infer_variadic<SumOp>, .run = run_variadic<SumOp>);
INGOT_REGISTER_OP(Mean, .infer = infer_variadic<MeanOp>, .run = run_variadic<MeanOp>);

}  // namespace ingot::ops
