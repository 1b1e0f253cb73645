// Compress, NonZero, ReverseSequence, CenterCropPad.
#include "kernels/reference/misc_index.h"
#include "core/dispatch.h"
#include "kernels/reference/gather_scatter.h"
#include "kernels/reference/pad.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

std::string unsupported_type(DType t) { return std::string("unsupported type ") + dtype_name(t); }

// ---- Compress ----

Status run_compress(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  if (cond.rank() != 1) return ctx.fail("condition must be 1-D");
  if (cond.dtype() != DType::kBool) return ctx.fail("condition must be bool");
  const bool has_axis = ctx.node().has_attr("axis");
  int64_t axis = 0, outer = 1, inner = 1, axis_size = x.numel();
  if (has_axis) {
    INGOT_ASSIGN_OR_RETURN(axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
    if (x.rank() == 0) return ctx.fail("cannot compress a scalar along an axis");
    axis_size = x.dim(axis);
    for (int64_t i = 0; i < axis; ++i) outer *= x.dim(i);
    for (int64_t i = axis + 1; i < x.rank(); ++i) inner *= x.dim(i);
  }
  std::vector<int64_t> selected;
  for (int64_t i = 0; i < cond.numel(); ++i) {
    if (!cond.data<bool>()[i]) continue;
    if (i >= axis_size)
      return ctx.fail("condition selects index " + std::to_string(i) + " past the axis size");
    selected.push_back(i);
  }
  Dims out_dims;
  if (has_axis) {
    out_dims = x.dims();
    out_dims[axis] = static_cast<int64_t>(selected.size());
  } else {
    out_dims = {static_cast<int64_t>(selected.size())};
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::gather(x.data<T>(), outer, axis_size, inner, selected.data(), static_cast<int64_t>(selected.size()),
                y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(unsupported_type(x.dtype()));
}

Status infer_compress(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects input and condition");
  if (ctx.input_dtype(1) != DType::kBool) return ctx.fail("condition must be bool");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.node().has_attr("axis")) {
    ctx.set_output(0, dt, unknown_shape(1));
    return Status::Ok();
  }
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  ir::SymShape out = ctx.input_shape(0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0),
                                                      static_cast<int64_t>(out.size()), ctx.node()));
  out[axis] = ir::Dim();
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

// ---- NonZero ----

Status run_nonzero(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  Status st;
  bool ok = dispatch_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const int64_t nnz = ref::count_nonzero(x.data<T>(), x.numel());
    auto y = ctx.alloc_output(0, DType::kI64, {std::max<int64_t>(x.rank(), 1), nnz});
    if (!y.ok()) {
      st = y.status();
      return;
    }
    ref::nonzero_coords(x.data<T>(), x.dims(), nnz, (*y)->template data<int64_t>());
  });
  if (!ok) return ctx.fail(unsupported_type(x.dtype()));
  return st;
}

Status infer_nonzero(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  ir::SymShape out = {ir::Dim(), ir::Dim()};
  if (ctx.input_has_shape(0)) out[0] = std::max<int64_t>(static_cast<int64_t>(ctx.input_shape(0).size()), 1);
  ctx.set_output(0, DType::kI64, out);
  return Status::Ok();
}

// ---- ReverseSequence ----

Status check_reverse_axes(const ir::Node& node) {
  const int64_t b = node.attr_int("batch_axis", 1), t = node.attr_int("time_axis", 0);
  if (!((b == 0 && t == 1) || (b == 1 && t == 0))) {
    return invalid_argument(node.describe() + ": batch_axis and time_axis must be 0 and 1 in some order");
  }
  return Status::Ok();
}

Status run_reverse_sequence(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_RETURN_IF_ERROR(check_reverse_axes(ctx.node()));
  if (x.rank() < 2) return ctx.fail("input must have rank >= 2");
  const int64_t time_axis = ctx.node().attr_int("time_axis", 0);
  const int64_t batch = x.dim(1 - time_axis), steps = x.dim(time_axis);
  INGOT_ASSIGN_OR_RETURN(auto lens, int_input(ctx, 1, "sequence_lens"));
  if (ctx.input(1).rank() != 1 || static_cast<int64_t>(lens.size()) != batch) {
    return ctx.fail("sequence_lens must have one entry per batch (" + std::to_string(batch) + ")");
  }
  for (int64_t l : lens) {
    if (l < 0 || l > steps) {
      return ctx.fail("sequence length " + std::to_string(l) + " is outside [0, " + std::to_string(steps) +
                      "]");
    }
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::reverse_sequence(x.data<T>(), x.dims(), time_axis, lens.data(), y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(unsupported_type(x.dtype()));
}

Status infer_reverse_sequence(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects input and sequence_lens");
  INGOT_RETURN_IF_ERROR(check_reverse_axes(ctx.node()));
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() < 2) return ctx.fail("input must have rank >= 2");
  return infer_same_as_input(ctx);
}

// ---- CenterCropPad ----

// Per-dim begin pad (negative: crop) and output dims for target `shape` on `axes`.
Status center_crop_pad_plan(const Dims& in, const std::vector<int64_t>& shape, const ir::Node& node,
                            std::vector<int64_t>& begin, Dims& out) {
  const int64_t r = static_cast<int64_t>(in.size());
  std::vector<int64_t> axes = node.attr_ints("axes");
  if (!node.has_attr("axes")) {
    for (int64_t i = 0; i < r; ++i) axes.push_back(i);
  }
  if (axes.size() != shape.size()) {
    return invalid_argument(node.describe() + ": shape has " + std::to_string(shape.size()) + " values for " +
                            std::to_string(axes.size()) + " axes");
  }
  begin.assign(r, 0);
  out = in;
  std::vector<bool> seen(r, false);
  for (size_t i = 0; i < axes.size(); ++i) {
    INGOT_ASSIGN_OR_RETURN(int64_t a, normalize_axis(axes[i], r, node));
    if (seen[a]) return invalid_argument(node.describe() + ": axis " + std::to_string(a) + " appears twice");
    seen[a] = true;
    const int64_t target = shape[i];
    if (target < 0)
      return invalid_argument(node.describe() + ": negative target size " + std::to_string(target));
    begin[a] = target >= in[a] ? (target - in[a]) / 2 : -((in[a] - target) / 2);
    out[a] = target;
  }
  return Status::Ok();
}

Status run_center_crop_pad(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(auto shape, int_input(ctx, 1, "shape"));
  std::vector<int64_t> begin;
  Dims out_dims;
  INGOT_RETURN_IF_ERROR(center_crop_pad_plan(x.dims(), shape, ctx.node(), begin, out_dims));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::pad(x.data<T>(), x.dims(), begin, out_dims, ref::PadMode::kConstant, T{}, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(unsupported_type(x.dtype()));
}

Status infer_center_crop_pad(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects input_data and shape");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  auto shape = const_ints(ctx, 1);
  if (!shape) {
    ctx.set_output(0, dt, unknown_shape(in.size()));
    return Status::Ok();
  }
  // Only the output dims matter here: plan over a stand-in of the input with unknown dims as -1,
  // which every listed axis replaces by its (non-negative) target.
  Dims stand_in(in.size());
  for (size_t i = 0; i < in.size(); ++i) stand_in[i] = in[i].is_static() ? in[i].value : -1;
  std::vector<int64_t> begin;
  Dims out_dims;
  INGOT_RETURN_IF_ERROR(center_crop_pad_plan(stand_in, *shape, ctx.node(), begin, out_dims));
  ir::SymShape out = in;
  for (size_t i = 0; i < in.size(); ++i)
    if (out_dims[i] != stand_in[i]) out[i] = out_dims[i];
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Compress, .infer = infer_compress, .run = run_compress);
INGOT_REGISTER_OP(NonZero, .infer = infer_nonzero, .run = run_nonzero);
INGOT_REGISTER_OP(ReverseSequence, .infer = infer_reverse_sequence, .run = run_reverse_sequence);
INGOT_REGISTER_OP(CenterCropPad, .infer = infer_center_crop_pad, .run = run_center_crop_pad);

}  // namespace ingot::ops
