// Softmax, LogSoftmax, Hardmax. Before opset 13 the input is seen as 2-D [prod(d[:axis]),
// prod(d[axis:])] (default axis 1) and the op runs over each row; from 13 on it runs over the one
// axis (default -1). Both are [outer, n, inner] views for the kernel, so the opset is read here
// rather than rewritten by normalize (the old form is not expressible without a Reshape pair).
#include "kernels/reference/softmax.h"
#include "core/dispatch.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

int64_t default_axis(int opset) { return opset < 13 ? 1 : -1; }

Status infer_softmax(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  if (!dtype_is_float(ctx.input_dtype(0))) {
    return ctx.fail(std::string("unsupported type ") + dtype_name(ctx.input_dtype(0)));
  }
  if (ctx.input_has_shape(0)) {
    const int64_t rank = static_cast<int64_t>(ctx.input_shape(0).size());
    auto axis = normalize_axis(ctx.node().attr_int("axis", default_axis(ctx.opset())), rank, ctx.node());
    if (!axis.ok()) return axis.status();
  }
  return infer_same_as_input(ctx);
}

enum class Kind { kSoftmax, kLogSoftmax, kHardmax };

template <Kind kKind>
Status run_softmax(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Dims& d = x.dims();
  auto axis = normalize_axis(ctx.node().attr_int("axis", default_axis(ctx.opset())), x.rank(), ctx.node());
  if (!axis.ok()) return axis.status();
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (i < *axis)
      outer *= d[i];
    else if (i == *axis || ctx.opset() < 13)
      n *= d[i];
    else
      inner *= d[i];
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), d));
  if (x.numel() == 0) return Status::Ok();
  bool ok = dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (kKind == Kind::kHardmax) {
      ref::hardmax(x.data<T>(), y->data<T>(), outer, n, inner);
    } else {
      ref::softmax(x.data<T>(), y->data<T>(), outer, n, inner, kKind == Kind::kLogSoftmax);
    }
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(Softmax, .infer = infer_softmax, .run = run_softmax<Kind::kSoftmax>);
INGOT_REGISTER_OP(LogSoftmax, .infer = infer_softmax, .run = run_softmax<Kind::kLogSoftmax>);
INGOT_REGISTER_OP(Hardmax, .infer = infer_softmax, .run = run_softmax<Kind::kHardmax>);

}  // namespace ingot::ops
