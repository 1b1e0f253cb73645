// Cast and CastLike: element type conversion between every dtype ingot stores.
#include <cctype>

#include "kernels/reference/cast.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

bool castable(DType t) {
  return t != DType::kUndefined && t != DType::kC64 && t != DType::kC128 &&
         dtype_is_valid(static_cast<int32_t>(t));
}

// Cast-1 named the target type as a string ("FLOAT"); later opsets use the TensorProto enum.
Status normalize_cast(NormalizeContext& ctx) {
  ir::Node& node = ctx.node();
  const ir::Attribute* to = node.attr("to");
  if (!to || to->kind != ir::Attribute::Kind::kString) return Status::Ok();
  static const std::pair<const char*, DType> kNames[] = {
      {"FLOAT", DType::kF32},  {"UINT8", DType::kU8},     {"INT8", DType::kI8},    {"UINT16", DType::kU16},
      {"INT16", DType::kI16},  {"INT32", DType::kI32},    {"INT64", DType::kI64},  {"STRING", DType::kString},
      {"BOOL", DType::kBool},  {"FLOAT16", DType::kF16},  {"DOUBLE", DType::kF64}, {"UINT32", DType::kU32},
      {"UINT64", DType::kU64}, {"BFLOAT16", DType::kBF16}};
  std::string name = to->s;
  for (char& c : name) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  for (const auto& [n, t] : kNames) {
    if (name == n) {
      ir::Attribute a;
      a.kind = ir::Attribute::Kind::kInt;
      a.i = static_cast<int64_t>(t);
      node.attrs["to"] = a;
      return Status::Ok();
    }
  }
  return ctx.fail("unknown target type '" + to->s + "'");
}

Status check_types(InferContext& ctx, DType to) {
  const DType from = ctx.input_dtype(0);
  if (from != DType::kUndefined && !castable(from))
    return ctx.fail(std::string("cannot cast from ") + dtype_name(from));
  if (!castable(to)) return ctx.fail(std::string("cannot cast to ") + dtype_name(to));
  return Status::Ok();
}

Status set_output_like_input(InferContext& ctx, DType to) {
  if (ctx.input_has_shape(0)) {
    ctx.set_output(0, to, ctx.input_shape(0));
  } else {
    ctx.set_output_rank_unknown(0, to);
  }
  return Status::Ok();
}

Status infer_cast(InferContext& ctx) {
  if (ctx.num_inputs() != 1 || !ctx.has_input(0)) return ctx.fail("expects 1 input");
  if (!ctx.node().has_attr("to")) return ctx.fail("missing attribute 'to'");
  const int64_t to = ctx.node().attr_int("to", 0);
  if (to < 0 || to > INT32_MAX || !dtype_is_valid(static_cast<int32_t>(to)))
    return ctx.fail("unsupported target type " + std::to_string(to));
  INGOT_RETURN_IF_ERROR(check_types(ctx, static_cast<DType>(to)));
  return set_output_like_input(ctx, static_cast<DType>(to));
}

Status infer_cast_like(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs");
  const DType to = ctx.input_dtype(1);
  if (to == DType::kUndefined) {
    ctx.set_output_rank_unknown(0, to);
    return Status::Ok();
  }
  INGOT_RETURN_IF_ERROR(check_types(ctx, to));
  return set_output_like_input(ctx, to);
}

Status cast_to(RunContext& ctx, DType to) {
  const Tensor& x = ctx.input(0);
  if (!castable(x.dtype())) return ctx.fail(std::string("cannot cast from ") + dtype_name(x.dtype()));
  if (!castable(to)) return ctx.fail(std::string("cannot cast to ") + dtype_name(to));
  if (x.dtype() == to) {
    ctx.set_output(0, RtValue(x));  // shares storage; nothing writes into an input
    return Status::Ok();
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, to, x.dims()));
  const bool saturate = ctx.node().attr_int("saturate", 1) != 0;
  Status st = ref::cast(x.dtype(), x.raw(), to, y->raw(), x.numel(), saturate);
  return st.ok() ? st : ctx.fail(st.message());
}

Status run_cast(RunContext& ctx) {
  const int64_t to = ctx.node().attr_int("to", 0);
  if (to < 0 || to > INT32_MAX || !dtype_is_valid(static_cast<int32_t>(to)))
    return ctx.fail("unsupported target type " + std::to_string(to));
  return cast_to(ctx, static_cast<DType>(to));
}

Status run_cast_like(RunContext& ctx) { return cast_to(ctx, ctx.input(1).dtype()); }

}  // namespace

INGOT_REGISTER_OP(Cast, .infer = infer_cast, .run = run_cast, .normalize = normalize_cast);
INGOT_REGISTER_OP(CastLike, .infer = infer_cast_like, .run = run_cast_like);

}  // namespace ingot::ops
