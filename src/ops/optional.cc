// Optional, OptionalHasElement, OptionalGetElement. At run time an optional holding a value is that
// value itself (a tensor or a sequence); an empty optional is RtValue::none with its element dtype.
#include <memory>
#include <string>

#include "ops/op.h"
#include "ops/sequence_util.h"

namespace ingot::ops {
namespace {

using Kind = ir::ValueType::Kind;

ir::ValueType optional_type(ir::ValueType elem) {
  ir::ValueType t;
  t.kind = Kind::kOptional;
  t.elem = std::make_shared<ir::ValueType>(std::move(elem));
  return t;
}

// The element dtype an empty optional of type `t` carries (its tensor's, or its sequence's tensors').
DType elem_dtype_of(const ir::ValueType& t) {
  if (t.kind == Kind::kTensor) return t.dtype;
  if ((t.kind == Kind::kSequence || t.kind == Kind::kOptional) && t.elem) return elem_dtype_of(*t.elem);
  return DType::kUndefined;
}

// ---- Optional ----

Status infer_optional(InferContext& ctx) {
  if (ctx.has_input(0)) {
    const ir::ValueType& t = ctx.input_type(0);
    if (t.kind != Kind::kTensor && t.kind != Kind::kSequence)
      return ctx.fail("input must be a tensor or a sequence");
    ctx.set_output(0, optional_type(t));
    return Status::Ok();
  }
  const ir::Attribute* a = ctx.node().attr("type");
  if (!a || a->kind != ir::Attribute::Kind::kTypeProto) {
    return ctx.fail("without an input, attribute 'type' must give the element type");
  }
  if (a->type.kind != Kind::kTensor && a->type.kind != Kind::kSequence) {
    return ctx.fail("attribute 'type' must be a tensor or a sequence type");
  }
  ctx.set_output(0, optional_type(a->type));
  return Status::Ok();
}

Status run_optional(RunContext& ctx) {
  if (ctx.has_input(0)) {
    const RtValue& v = ctx.input_value(0);
    if (v.is_none()) return ctx.fail("input must be a tensor or a sequence, got an empty optional");
    ctx.set_output(0, v);
    return Status::Ok();
  }
  const ir::Attribute* a = ctx.node().attr("type");
  if (!a || a->kind != ir::Attribute::Kind::kTypeProto) {
    return ctx.fail("without an input, attribute 'type' must give the element type");
  }
  ctx.set_output(0, RtValue::none(elem_dtype_of(a->type)));
  return Status::Ok();
}

// ---- OptionalHasElement ----

Status infer_optional_has_element(InferContext& ctx) {
  if (ctx.num_inputs() > 1) return ctx.fail("takes at most one input");
  ctx.set_output(0, DType::kBool, {});
  return Status::Ok();
}

Status run_optional_has_element(RunContext& ctx) {
  if (ctx.num_inputs() > 1) return ctx.fail("takes at most one input");
  const bool has = ctx.has_input(0) && !ctx.input_value(0).is_none();
  Tensor t = Tensor::create(DType::kBool, {}).value();
  t.data<bool>()[0] = has;
  ctx.set_output(0, RtValue(std::move(t)));
  return Status::Ok();
}

// ---- OptionalGetElement ----

Status infer_optional_get_element(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("input is missing");
  const ir::ValueType& t = ctx.input_type(0);
  if (t.kind == Kind::kOptional) {
    if (t.elem) ctx.set_output(0, *t.elem);
  } else {
    ctx.set_output(0, t);  // opset 18: a plain tensor or sequence passes through
  }
  return Status::Ok();
}

Status run_optional_get_element(RunContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("input is missing");
  const RtValue& v = ctx.input_value(0);
  if (v.is_none()) return ctx.fail("the optional input is empty");
  ctx.set_output(0, v);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Optional, .infer = infer_optional, .run = run_optional);
INGOT_REGISTER_OP(OptionalHasElement, .infer = infer_optional_has_element, .run = run_optional_has_element);
INGOT_REGISTER_OP(OptionalGetElement, .infer = infer_optional_get_element, .run = run_optional_get_element);

}  // namespace ingot::ops
