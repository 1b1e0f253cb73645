// Shared by the binary elementwise op files (arith, compare/logic, pow/mod, bitwise): the two-input
// broadcast with opset < 7's legacy `broadcast`/`axis` attributes, for infer and for run.
#pragma once

#include <optional>
#include <string>

#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {

// Before opset 7, B broadcast to A only with broadcast=1, and `axis` placed B's dims at that axis of A
// (e.g. A 2x3x4x5, B 3x4 with axis=1). Returns B's dims padded with trailing ones so that numpy
// broadcasting gives the same result; B unchanged for newer opsets or without `axis`.
template <typename Shape, typename One>
Expected<Shape> legacy_b_shape(const ir::Node& node, size_t a_rank, Shape b, One one) {
  if (node.opset >= 7 || node.attr_int("broadcast", 0) == 0 || !node.has_attr("axis")) return b;
  const auto rank = static_cast<int64_t>(a_rank);
  int64_t axis = node.attr_int("axis", 0);
  if (axis < 0) axis += rank;
  const int64_t pad = rank - axis - static_cast<int64_t>(b.size());
  if (axis < 0 || pad < 0) {
    return invalid_argument(node.describe() + ": axis " + std::to_string(node.attr_int("axis", 0)) +
                            " does not fit B of rank " + std::to_string(b.size()) + " into A of rank " +
                            std::to_string(rank));
  }
  for (int64_t i = 0; i < pad; ++i) b.push_back(one);
  return b;
}

// Output 0 = broadcast of inputs 0 and 1 (legacy axis honoured) with dtype `dtype`. Checks the inputs
// are present and, when `same_dtype`, of one type.
inline Status infer_binary(InferContext& ctx, DType dtype, bool same_dtype = true) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs");
  if (same_dtype && ctx.input_dtype(0) != ctx.input_dtype(1)) {
    return ctx.fail(std::string("input types differ: ") + dtype_name(ctx.input_dtype(0)) + " and " +
                    dtype_name(ctx.input_dtype(1)));
  }
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, dtype);
    return Status::Ok();
  }
  auto b = legacy_b_shape(ctx.node(), ctx.input_shape(0).size(), ctx.input_shape(1), ir::Dim(1));
  if (!b.ok()) return b.status();
  auto out = broadcast_shapes(ctx.input_shape(0), *b);
  if (!out.ok()) return ctx.fail(out.status().message());
  ctx.set_output(0, dtype, *out);
  return Status::Ok();
}

// The actual operand dims for a binary op at run time: B's (legacy-aligned) dims and the output dims.
struct BinaryDims {
  Dims b;
  Dims out;
};
inline Expected<BinaryDims> binary_dims(const RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(Dims b,
                         legacy_b_shape(ctx.node(), a.dims().size(), ctx.input(1).dims(), int64_t{1}));
  auto out = broadcast_dims(a.dims(), b);
  if (!out.ok()) return ctx.fail(out.status().message());
  return BinaryDims{std::move(b), std::move(*out)};
}

}  // namespace ingot::ops
