// Helpers shared by the data movement ops (reshape, transpose, concat, slice, gather ...): element
// type dispatch by size (data movement only copies, so int32 and float share one instantiation) and
// index validation.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "ingot/tensor.h"
#include "ir/graph.h"
#include "ops/op.h"

namespace ingot::ops {

struct Bytes16 {
  uint64_t lo = 0, hi = 0;
};

// Calls f(TypeTag<U>{}) with an unsigned type of the element's size, or std::string for strings.
template <typename F>
bool dispatch_by_size(DType t, F&& f) {
  if (t == DType::kString) {
    f(TypeTag<std::string>{});
    return true;
  }
  switch (dtype_size(t)) {
    case 1:
      f(TypeTag<uint8_t>{});
      return true;
    case 2:
      f(TypeTag<uint16_t>{});
      return true;
    case 4:
      f(TypeTag<uint32_t>{});
      return true;
    case 8:
      f(TypeTag<uint64_t>{});
      return true;
    case 16:
      f(TypeTag<Bytes16>{});
      return true;
    default:
      return false;
  }
}

// Indices input as int64 with negative values wrapped by `axis_size`; an error naming `op` and the
// offending value when one is out of [-axis_size, axis_size).
Expected<std::vector<int64_t>> checked_indices(const Tensor& indices, int64_t axis_size,
                                               const std::string& op);

// Integer tensor input (int32 or int64) as a vector; an error for other dtypes.
Expected<std::vector<int64_t>> int_input(const RunContext& ctx, size_t i, const std::string& what);

// Output shape with the same rank as `like` and every dim unknown.
ir::SymShape unknown_shape(size_t rank);

// Transpose's permutation of `node` for an input of `rank` (the perm attribute, negative values normalized,
// or the axes reversed when absent); errors name the node.
Expected<std::vector<int64_t>> transpose_perm(const ir::Node& node, int64_t rank);

}  // namespace ingot::ops
