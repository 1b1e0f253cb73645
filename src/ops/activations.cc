// Activations: Relu Sigmoid Tanh LeakyRelu Elu Selu Celu HardSigmoid HardSwish Softplus Softsign Mish
// Gelu ThresholdedRelu Shrink Swish.
#include "kernels/reference/activations.h"
#include "core/dispatch.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

using ref::Activation;

bool type_allowed(Activation op, DType t) {
  if (is_float_type(t)) return true;
  if (op == Activation::kRelu) return dtype_is_integer(t) && dtype_is_signed(t);
  if (op == Activation::kShrink) return dtype_is_integer(t);
  return false;
}

// Attribute defaults are the ONNX schema's.
ref::ActivationParams params_of(Activation op, const ir::Node& node) {
  ref::ActivationParams p;
  switch (op) {
    case Activation::kLeakyRelu:
      p.alpha = node.attr_float("alpha", 0.01f);
      break;
    case Activation::kElu:
    case Activation::kCelu:
    case Activation::kThresholdedRelu:
    case Activation::kSwish:
      p.alpha = node.attr_float("alpha", 1.0f);
      break;
    case Activation::kSelu:
      p.alpha = node.attr_float("alpha", 1.67326319217681884765625f);
      p.gamma = node.attr_float("gamma", 1.05070102214813232421875f);
      break;
    case Activation::kHardSigmoid:
      p.alpha = node.attr_float("alpha", 0.2f);
      p.beta = node.attr_float("beta", 0.5f);
      break;
    case Activation::kShrink:
      p.alpha = node.attr_float("lambd", 0.5f);
      p.beta = node.attr_float("bias", 0.0f);
      break;
    default:
      break;
  }
  return p;
}

Status check_attrs(Activation op, const ir::Node& node, const InferContext& ctx) {
  if (op == Activation::kCelu && node.attr_float("alpha", 1.0f) == 0.0f)
    return ctx.fail("alpha must not be 0");
  if (op == Activation::kShrink && node.attr_float("lambd", 0.5f) < 0) return ctx.fail("lambd must be >= 0");
  return Status::Ok();
}

Status infer_activation(InferContext& ctx, Activation op) {
  if (ctx.num_inputs() < 1 || !ctx.has_input(0)) return ctx.fail("expects 1 input");
  const DType t = ctx.input_dtype(0);
  if (t != DType::kUndefined && !type_allowed(op, t))
    return ctx.fail(std::string("unsupported input type ") + dtype_name(t));
  INGOT_RETURN_IF_ERROR(check_attrs(op, ctx.node(), ctx));
  return infer_same_as_input(ctx);
}

Status run_activation(RunContext& ctx, Activation op) {
  const Tensor& x = ctx.input(0);
  if (!type_allowed(op, x.dtype()))
    return ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
  const ref::ActivationParams p = params_of(op, ctx.node());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::activation<T>(op, p, x.data<T>(), y->data<T>(), x.numel());
  });
  return Status::Ok();
}

template <Activation kOp>
Status infer_op(InferContext& ctx) {
  return infer_activation(ctx, kOp);
}
template <Activation kOp>
Status run_op(RunContext& ctx) {
  return run_activation(ctx, kOp);
}

// Gelu's `approximate` attribute picks between two kernels.
Expected<Activation> gelu_kind(const ir::Node& node) {
  const std::string a = node.attr_string("approximate", "none");
  if (a == "none") return Activation::kGelu;
  if (a == "tanh") return Activation::kGeluTanh;
  return invalid_argument(node.describe() + ": approximate must be 'none' or 'tanh', got '" + a + "'");
}

Status infer_gelu(InferContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Activation op, gelu_kind(ctx.node()));
  return infer_activation(ctx, op);
}

Status run_gelu(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Activation op, gelu_kind(ctx.node()));
  return run_activation(ctx, op);
}

}  // namespace

INGOT_REGISTER_OP(Relu, .infer = infer_op<Activation::kRelu>, .run = run_op<Activation::kRelu>);
INGOT_REGISTER_OP(Sigmoid, .infer = infer_op<Activation::kSigmoid>, .run = run_op<Activation::kSigmoid>);
INGOT_REGISTER_OP(Tanh, .infer = infer_op<Activation::kTanh>, .run = run_op<Activation::kTanh>);
INGOT_REGISTER_OP(LeakyRelu, .infer = infer_op<Activation::kLeakyRelu>,
                  .run = run_op<Activation::kLeakyRelu>);
INGOT_REGISTER_OP(Elu, .infer = infer_op<Activation::kElu>, .run = run_op<Activation::kElu>);
INGOT_REGISTER_OP(Selu, .infer = infer_op<Activation::kSelu>, .run = run_op<Activation::kSelu>);
INGOT_REGISTER_OP(Celu, .infer = infer_op<Activation::kCelu>, .run = run_op<Activation::kCelu>);
INGOT_REGISTER_OP(HardSigmoid, .infer = infer_op<Activation::kHardSigmoid>,
                  .run = run_op<Activation::kHardSigmoid>);
INGOT_REGISTER_OP(HardSwish, .infer = infer_op<Activation::kHardSwish>,
                  .run = run_op<Activation::kHardSwish>);
INGOT_REGISTER_OP(Softplus, .infer = infer_op<Activation::kSoftplus>, .run = run_op<Activation::kSoftplus>);
INGOT_REGISTER_OP(Softsign, .infer = infer_op<Activation::kSoftsign>, .run = run_op<Activation::kSoftsign>);
INGOT_REGISTER_OP(Mish, .infer = infer_op<Activation::kMish>, .run = run_op<Activation::kMish>);
INGOT_REGISTER_OP(Gelu, .infer = infer_gelu, .run = run_gelu);
INGOT_REGISTER_OP(ThresholdedRelu, .infer = infer_op<Activation::kThresholdedRelu>,
                  .run = run_op<Activation::kThresholdedRelu>);
INGOT_REGISTER_OP(Shrink, .infer = infer_op<Activation::kShrink>, .run = run_op<Activation::kShrink>);
INGOT_REGISTER_OP(Swish, .infer = infer_op<Activation::kSwish>, .run = run_op<Activation::kSwish>);

}  // namespace ingot::ops
