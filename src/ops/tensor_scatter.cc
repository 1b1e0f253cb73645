// TensorScatter (opset 24): present = past_cache with `update` written along `axis` (not 0) at each batch
// entry's write index (optional int64 [batch], zeros when absent); mode "linear" or "circular".
#include <cstdint>
#include <string>

#include "kernels/reference/tensor_scatter.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

template <typename Ctx>
Expected<bool> circular_mode(const Ctx& ctx) {
  const std::string mode = ctx.node().attr_string("mode", "linear");
  if (mode != "linear" && mode != "circular")
    return ctx.fail("mode must be 'linear' or 'circular', got '" + mode + "'");
  return mode == "circular";
}

Status infer_tensor_scatter(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs past_cache and update");
  if (ctx.input_dtype(1) != ctx.input_dtype(0)) return ctx.fail("update must have past_cache's type");
  if (ctx.has_input(2) && ctx.input_dtype(2) != DType::kI64) return ctx.fail("write_indices must be int64");
  INGOT_RETURN_IF_ERROR(circular_mode(ctx).status());
  if (ctx.input_has_shape(0)) {
    const int64_t rank = static_cast<int64_t>(ctx.input_shape(0).size());
    INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", -2), rank, ctx.node()));
    if (axis == 0) return ctx.fail("axis must not be the batch dimension 0");
  }
  return infer_same_as_input(ctx);
}

Status run_tensor_scatter(RunContext& ctx) {
  const Tensor& past = ctx.input(0);
  const Tensor& update = ctx.input(1);
  INGOT_ASSIGN_OR_RETURN(bool circular, circular_mode(ctx));
  INGOT_ASSIGN_OR_RETURN(int64_t axis,
                         normalize_axis(ctx.node().attr_int("axis", -2), past.rank(), ctx.node()));
  if (axis == 0) return ctx.fail("axis must not be the batch dimension 0");
  if (update.dtype() != past.dtype() || update.rank() != past.rank()) {
    return ctx.fail("update must have past_cache's type and rank");
  }
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < past.rank(); ++i) {
    if (i == axis ? update.dim(i) > past.dim(i) : update.dim(i) != past.dim(i)) {
      return ctx.fail("update shape " + dims_to_string(update.dims()) + " does not fit past_cache shape " +
                      dims_to_string(past.dims()) + " along axis " + std::to_string(axis));
    }
    if (i < axis) outer *= past.dim(i);
    if (i > axis) inner *= past.dim(i);
  }
  const int64_t batch = past.dim(0), max_seq = past.dim(axis), seq = update.dim(axis);
  const int64_t* write_index = nullptr;
  if (ctx.has_input(2)) {
    const Tensor& w = ctx.input(2);
    if (w.dtype() != DType::kI64 || w.rank() != 1 || w.dim(0) != batch) {
      return ctx.fail("write_indices must be int64 [" + std::to_string(batch) + "], got " +
                      dims_to_string(w.dims()));
    }
    write_index = w.data<int64_t>();
    for (int64_t b = 0; b < batch && !circular; ++b) {
      if (write_index[b] < 0 || write_index[b] > max_seq - seq) {
        return ctx.fail("write index " + std::to_string(write_index[b]) + " of batch " + std::to_string(b) +
                        " leaves no room for " + std::to_string(seq) + " steps in " +
                        std::to_string(max_seq));
      }
    }
  }
  Tensor present = past.clone();
  if (outer > 0 && inner > 0 && seq > 0) {
    if (past.dtype() == DType::kString) {
      ref::tensor_scatter(present.strings(), update.strings(), write_index, batch, outer, max_seq, seq, inner,
                          circular);
    } else {
      // Any fixed-size element is copied as bytes.
      const int64_t bytes = static_cast<int64_t>(dtype_size(past.dtype()));
      ref::tensor_scatter(static_cast<uint8_t*>(present.raw()), static_cast<const uint8_t*>(update.raw()),
                          write_index, batch, outer, max_seq, seq, inner * bytes, circular);
    }
  }
  ctx.set_output(0, RtValue(std::move(present)));
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(TensorScatter, .infer = infer_tensor_scatter, .run = run_tensor_scatter);

}  // namespace ingot::ops
