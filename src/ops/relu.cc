// Relu: max(x, 0).
#include "core/dispatch.h"
#include "kernels/reference/elementwise.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status run_relu(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  bool ok = dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::unary(x.data<T>(), y->data<T>(), x.numel(), [](T v) { return static_cast<float>(v) > 0 ? v : T(0); });
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_relu(InferContext& ctx) { return infer_same_as_input(ctx); }

}  // namespace

INGOT_REGISTER_OP(Relu, .infer = infer_relu, .run = run_relu);

}  // namespace ingot::ops
