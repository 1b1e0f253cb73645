// Tensor-level helpers shared by the sequence and control-flow ops (Loop and Scan stack per-iteration
// outputs; SplitToSequence / ConcatFromSequence cut and glue along an axis).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/value.h"
#include "ingot/status.h"
#include "ingot/tensor.h"
#include "ir/graph.h"

namespace ingot::ops {

// Product of dims[begin, end).
int64_t dims_product(const Dims& dims, size_t begin, size_t end);

// Joins `items` (same dtype and rank, equal dims except along `axis`) along `axis`, or, with
// `new_axis`, stacks equal-shaped items along a new axis inserted at `axis`. `axis` is already
// normalized. At least one item; errors name `what`.
Expected<Tensor> join_tensors(const std::vector<const Tensor*>& items, int64_t axis, bool new_axis,
                              const std::string& what);

// Elements [start, start + count) of `t` along `axis`; the axis is dropped when !keep_axis (count 1).
Expected<Tensor> slice_along(const Tensor& t, int64_t axis, int64_t start, int64_t count, bool keep_axis);

// The element dtype a value carries (tensor dtype, or the sequence / none element dtype).
DType value_elem_dtype(const RtValue& v);

// A short name of the value's kind for messages: "tensor", "sequence", "empty optional".
std::string value_kind_name(const RtValue& v);

// ValueType of a sequence of `elem`.
ir::ValueType sequence_type(ir::ValueType elem);
// ValueType of a sequence of tensors of `dtype` (shape unknown).
ir::ValueType sequence_of(DType dtype);

}  // namespace ingot::ops
