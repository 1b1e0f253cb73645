// PRelu(X, slope) = X > 0 ? X : X * slope, slope broadcast to X (unidirectionally; the output has X's shape).
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/broadcast.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// PRelu-9's types: floats, int32, int64, uint32, uint64.
template <typename F>
bool dispatch_prelu(DType t, F&& f) {
  switch (t) {
    case DType::kI32:
      f(TypeTag<int32_t>{});
      return true;
    case DType::kI64:
      f(TypeTag<int64_t>{});
      return true;
    case DType::kU32:
      f(TypeTag<uint32_t>{});
      return true;
    case DType::kU64:
      f(TypeTag<uint64_t>{});
      return true;
    default:
      return dispatch_float(t, f);
  }
}

// The dims slope is read with. Numpy broadcasting to X when it works; otherwise a 1-D slope of d elements
// (the per-channel slope of opsets before 7, and what exporters still emit) goes along the dim of X of size
// d: the channel dim 1 when it fits, else the only dim of that size (as onnx.reference does).
Expected<Dims> slope_dims(const Dims& x, const Dims& s) {
  auto b = broadcast_dims(x, s);
  if (b.ok() && *b == x) return s;
  if (s.size() == 1 && !x.empty()) {
    const int64_t d = s[0];
    int64_t axis = -1;
    if (x.size() > 1 && x[1] == d) {
      axis = 1;
    } else {
      int matches = 0;
      for (size_t i = 0; i < x.size(); ++i) {
        if (x[i] == d) {
          axis = static_cast<int64_t>(i);
          ++matches;
        }
      }
      if (matches != 1) axis = -1;
    }
    if (axis >= 0) {
      Dims out(x.size() - static_cast<size_t>(axis), 1);
      out[0] = d;
      return out;
    }
  }
  return invalid_argument("slope of shape " + dims_to_string(s) + " does not broadcast to X of shape " +
                          dims_to_string(x));
}

Status infer_prelu(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs");
  if (ctx.input_dtype(0) != ctx.input_dtype(1)) {
    return ctx.fail(std::string("input types differ: ") + dtype_name(ctx.input_dtype(0)) + " and " +
                    dtype_name(ctx.input_dtype(1)));
  }
  if (!dispatch_prelu(ctx.input_dtype(0), [](auto) {})) {
    return ctx.fail(std::string("unsupported type ") + dtype_name(ctx.input_dtype(0)));
  }
  if (ctx.input_has_shape(0) && ctx.input_has_shape(1) && ir::is_static(ctx.input_shape(0)) &&
      ir::is_static(ctx.input_shape(1))) {
    auto s = slope_dims(ir::to_dims(ctx.input_shape(0)), ir::to_dims(ctx.input_shape(1)));
    if (!s.ok()) return ctx.fail(s.status().message());
  }
  return infer_same_as_input(ctx);
}

Status run_prelu(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& slope = ctx.input(1);
  if (x.dtype() != slope.dtype()) return ctx.fail("input types differ");
  auto sd = slope_dims(x.dims(), slope.dims());
  if (!sd.ok()) return ctx.fail(sd.status().message());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  bool ok = dispatch_prelu(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using W = ref::WideT<T>;
    ref::broadcast_binary(x.data<T>(), x.dims(), slope.data<T>(), *sd, y->data<T>(), x.dims(), [](T v, T s) {
      const W w = static_cast<W>(v);
      return w > W(0) ? v : static_cast<T>(w * static_cast<W>(s));
    });
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(PRelu, .infer = infer_prelu, .run = run_prelu);

}  // namespace ingot::ops
