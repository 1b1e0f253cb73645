// Slice: starts/ends/axes/steps inputs (attributes before opset 10), numpy clamping rules.
#include <algorithm>

#include "kernels/reference/slice.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status normalize_slice(NormalizeContext& ctx) {
  if (ctx.opset() < 10) {
    ctx.move_attr_to_input("starts", 1, DType::kI64);
    ctx.move_attr_to_input("ends", 2, DType::kI64);
    ctx.move_attr_to_input("axes", 3, DType::kI64);
  }
  return Status::Ok();
}

struct SliceSpec {
  std::vector<int64_t> starts, ends, axes, steps;
};

// Checks lengths, fills default axes/steps, normalises axes (unique, in range) and rejects step 0.
Status check_spec(SliceSpec& s, int64_t rank, const ir::Node& node) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  const size_t n = s.starts.size();
  if (s.ends.size() != n) return fail("starts and ends have different lengths");
  if (s.axes.empty() && n > 0) {
    if (static_cast<int64_t>(n) > rank) return fail("more starts than input dims");
    for (size_t i = 0; i < n; ++i) s.axes.push_back(static_cast<int64_t>(i));
  }
  if (s.axes.size() != n) return fail("axes and starts have different lengths");
  if (s.steps.empty()) s.steps.assign(n, 1);
  if (s.steps.size() != n) return fail("steps and starts have different lengths");
  std::vector<bool> seen(rank, false);
  for (size_t i = 0; i < n; ++i) {
    INGOT_ASSIGN_OR_RETURN(s.axes[i], normalize_axis(s.axes[i], rank, node));
    if (seen[s.axes[i]]) return fail("axis " + std::to_string(s.axes[i]) + " appears twice");
    seen[s.axes[i]] = true;
    if (s.steps[i] == 0) return fail("step is 0");
  }
  return Status::Ok();
}

Status run_slice(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!ctx.has_input(1) || !ctx.has_input(2)) return ctx.fail("missing starts or ends input");
  if (x.rank() == 0) return ctx.fail("cannot slice a scalar");
  SliceSpec s;
  INGOT_ASSIGN_OR_RETURN(s.starts, int_input(ctx, 1, "starts"));
  INGOT_ASSIGN_OR_RETURN(s.ends, int_input(ctx, 2, "ends"));
  if (ctx.has_input(3)) {
    INGOT_ASSIGN_OR_RETURN(s.axes, int_input(ctx, 3, "axes"));
  }
  if (ctx.has_input(4)) {
    INGOT_ASSIGN_OR_RETURN(s.steps, int_input(ctx, 4, "steps"));
  }
  INGOT_RETURN_IF_ERROR(check_spec(s, x.rank(), ctx.node()));
  std::vector<ref::SliceAxis> axes(x.rank());
  for (int64_t i = 0; i < x.rank(); ++i) axes[i] = {0, x.dim(i), 1};
  for (size_t i = 0; i < s.axes.size(); ++i) {
    axes[s.axes[i]] = ref::resolve_slice_axis(s.starts[i], s.ends[i], s.steps[i], x.dim(s.axes[i]));
  }
  Dims out_dims(x.rank());
  for (int64_t i = 0; i < x.rank(); ++i) out_dims[i] = axes[i].count;
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::slice(x.data<T>(), x.dims(), axes, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_slice(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
    return ctx.fail("expects data, starts, ends");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  const int64_t rank = static_cast<int64_t>(in.size());
  if (rank == 0) return ctx.fail("cannot slice a scalar");
  auto starts = const_ints(ctx, 1), ends = const_ints(ctx, 2);
  auto axes =
      ctx.has_input(3) ? const_ints(ctx, 3) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
  auto steps =
      ctx.has_input(4) ? const_ints(ctx, 4) : std::optional<std::vector<int64_t>>(std::vector<int64_t>{});
  if (!axes) {
    ctx.set_output(0, dt, unknown_shape(in.size()));
    return Status::Ok();
  }
  if (!starts || !ends || !steps) {
    // Which axes change is known; their sizes are not.
    ir::SymShape out = in;
    std::vector<int64_t> ax = *axes;
    if (ax.empty()) {
      size_t n = 0;
      if (!ctx.input_has_shape(1) || ctx.input_shape(1).size() != 1 || !ctx.input_shape(1)[0].is_static()) {
        ctx.set_output(0, dt, unknown_shape(in.size()));
        return Status::Ok();
      }
      n = static_cast<size_t>(ctx.input_shape(1)[0].value);
      for (size_t i = 0; i < n && static_cast<int64_t>(i) < rank; ++i) ax.push_back(static_cast<int64_t>(i));
    }
    for (int64_t a : ax) {
      INGOT_ASSIGN_OR_RETURN(int64_t na, normalize_axis(a, rank, ctx.node()));
      out[na] = ir::Dim();
    }
    ctx.set_output(0, dt, out);
    return Status::Ok();
  }
  SliceSpec s{*starts, *ends, *axes, *steps};
  INGOT_RETURN_IF_ERROR(check_spec(s, rank, ctx.node()));
  ir::SymShape out = in;
  for (size_t i = 0; i < s.axes.size(); ++i) {
    const ir::Dim& d = in[s.axes[i]];
    if (d.is_static()) {
      out[s.axes[i]] = ref::resolve_slice_axis(s.starts[i], s.ends[i], s.steps[i], d.value).count;
    } else if (s.starts[i] == 0 && s.steps[i] == 1 && s.ends[i] == INT64_MAX) {
      out[s.axes[i]] = d;  // the whole axis
    } else {
      out[s.axes[i]] = ir::Dim();
    }
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Slice, .infer = infer_slice, .run = run_slice, .normalize = normalize_slice);

}  // namespace ingot::ops
