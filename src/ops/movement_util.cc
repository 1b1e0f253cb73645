#include "ops/movement_util.h"

namespace ingot::ops {

Expected<std::vector<int64_t>> checked_indices(const Tensor& indices, int64_t axis_size,
                                               const std::string& op) {
  if (indices.dtype() != DType::kI64 && indices.dtype() != DType::kI32) {
    return invalid_argument(op + ": indices must be int32 or int64, got " + dtype_name(indices.dtype()));
  }
  std::vector<int64_t> out(static_cast<size_t>(indices.numel()));
  for (int64_t i = 0; i < indices.numel(); ++i) {
    int64_t v = indices.dtype() == DType::kI64 ? indices.data<int64_t>()[i] : indices.data<int32_t>()[i];
    if (v < -axis_size || v >= axis_size) {
      return invalid_argument(op + ": index " + std::to_string(v) + " is out of range for an axis of size " +
                              std::to_string(axis_size));
    }
    out[i] = v < 0 ? v + axis_size : v;
  }
  return out;
}

Expected<std::vector<int64_t>> int_input(const RunContext& ctx, size_t i, const std::string& what) {
  const Tensor& t = ctx.input(i);
  if (t.dtype() != DType::kI64 && t.dtype() != DType::kI32) {
    return ctx.fail(what + " must be int32 or int64, got " + dtype_name(t.dtype()));
  }
  return t.to_i64_vector();
}

ir::SymShape unknown_shape(size_t rank) { return ir::SymShape(rank); }

}  // namespace ingot::ops
