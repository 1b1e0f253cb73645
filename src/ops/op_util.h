// Helpers shared by op definitions: axis handling, broadcasting, reading constant inputs.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "ingot/status.h"
#include "ir/graph.h"
#include "ops/op.h"

namespace ingot::ops {

// The four IEEE-style float types most float ops accept: float, double, float16, bfloat16.
inline bool is_float_type(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}

// Maps a possibly negative axis into [0, rank); an error naming the node when out of range.
Expected<int64_t> normalize_axis(int64_t axis, int64_t rank, const ir::Node& node);

// Numpy-style (multidirectional) broadcast of concrete / symbolic shapes.
Expected<Dims> broadcast_dims(const Dims& a, const Dims& b);
Expected<ir::SymShape> broadcast_shapes(const ir::SymShape& a, const ir::SymShape& b);

// Strides (in elements) of a row-major tensor, and strides for reading `in` broadcast to `out`
// (0 on broadcast dims), both of out's rank.
std::vector<int64_t> row_major_strides(const Dims& dims);
std::vector<int64_t> broadcast_strides(const Dims& in, const Dims& out);

// Infers a tensor output of the same dtype and shape as input `i` (elementwise unary ops).
Status infer_same_as_input(InferContext& ctx, size_t input = 0, size_t output = 0);
// Infers output 0 as the broadcast of all inputs, with the dtype of input 0 (or `dtype` when given).
Status infer_broadcast(InferContext& ctx, std::optional<DType> dtype = std::nullopt);

// Constant integer input as a vector (nullopt when unknown at build time).
std::optional<std::vector<int64_t>> const_ints(const InferContext& ctx, size_t i);

}  // namespace ingot::ops
