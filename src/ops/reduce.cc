// ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2, ReduceLogSum,
// ReduceLogSumExp, ReduceSumSquare. Canonical form: axes as the optional input 1 (ReduceSum took it
// as an attribute before opset 13, the others before 18).
#include <algorithm>
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/reduce.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Which axes of a rank-`rank` input a node reduces. With noop_with_empty_axes and no axes none are:
// each output folds one element, so ReduceSumSquare still squares, ReduceL1 takes |x| ... (as the spec says).
Expected<std::vector<bool>> reduced_axes(const ir::Node& node, const std::vector<int64_t>& axes,
                                         int64_t rank) {
  std::vector<bool> reduced(rank, false);
  if (axes.empty()) {
    if (node.attr_int("noop_with_empty_axes", 0) != 0) return reduced;
    reduced.assign(rank, true);
    return reduced;
  }
  for (int64_t a : axes) {
    INGOT_ASSIGN_OR_RETURN(int64_t ax, normalize_axis(a, rank, node));
    if (reduced[ax])
      return invalid_argument(node.describe() + ": axis " + std::to_string(a) + " is repeated");
    reduced[ax] = true;
  }
  return reduced;
}

template <int kAxesInputOpset>
Status normalize_reduce(NormalizeContext& ctx) {
  if (ctx.opset() < kAxesInputOpset) ctx.move_attr_to_input("axes", 1, DType::kI64);
  return Status::Ok();
}

bool supported_dtype(ref::ReduceKind kind, DType t) {
  if (t == DType::kBool) return kind == ref::ReduceKind::kMax || kind == ref::ReduceKind::kMin;
  return dispatch_arith(t, [](auto) {});
}

template <ref::ReduceKind kKind>
Status infer_reduce(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'data'");
  const DType dt = ctx.input_dtype(0);
  if (!supported_dtype(kKind, dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) {
    auto c = const_ints(ctx, 1);
    if (!c) {
      // Axes known only at run time: with keepdims the rank survives, every dim may change.
      if (keepdims && ctx.input_has_shape(0)) {
        ctx.set_output(0, dt, ir::SymShape(ctx.input_shape(0).size()));
      } else {
        ctx.set_output_rank_unknown(0, dt);
      }
      return Status::Ok();
    }
    axes = *c;
  }
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  auto reduced = reduced_axes(ctx.node(), axes, static_cast<int64_t>(in.size()));
  if (!reduced.ok()) return reduced.status();
  ir::SymShape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!(*reduced)[d])
      out.push_back(in[d]);
    else if (keepdims)
      out.push_back(ir::Dim(1));
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

template <ref::ReduceKind kKind>
Status run_reduce(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!supported_dtype(kKind, x.dtype()))
    return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  std::vector<int64_t> axes;
  if (ctx.has_input(1)) axes = ctx.input(1).to_i64_vector();
  auto reduced = reduced_axes(ctx.node(), axes, x.rank());
  if (!reduced.ok()) return reduced.status();
  const bool keepdims = ctx.node().attr_int("keepdims", 1) != 0;
  Dims out_dims;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (!(*reduced)[d])
      out_dims.push_back(x.dim(d));
    else if (keepdims)
      out_dims.push_back(1);
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  const ref::ReduceLayout layout = ref::make_reduce_layout(x.dims(), *reduced);
  dispatch_numeric(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, bool>) {
      // Only max / min reach here (supported_dtype): any / all.
      ref::reduce(kKind, reinterpret_cast<const uint8_t*>(x.data<bool>()), layout,
                  reinterpret_cast<uint8_t*>(y->data<bool>()));
    } else {
      ref::reduce(kKind, x.data<T>(), layout, y->data<T>());
    }
  });
  return Status::Ok();
}

}  // namespace

#define INGOT_REDUCE_OP(NAME, KIND, OPSET)                              \
  INGOT_REGISTER_OP(NAME, .infer = infer_reduce<ref::ReduceKind::KIND>, \
                    .run = run_reduce<ref::ReduceKind::KIND>, .normalize = normalize_reduce<OPSET>)

INGOT_REDUCE_OP(ReduceSum, kSum, 13);
INGOT_REDUCE_OP(ReduceMean, kMean, 18);
INGOT_REDUCE_OP(ReduceMax, kMax, 18);
INGOT_REDUCE_OP(ReduceMin, kMin, 18);
INGOT_REDUCE_OP(ReduceProd, kProd, 18);
INGOT_REDUCE_OP(ReduceL1, kL1, 18);
INGOT_REDUCE_OP(ReduceL2, kL2, 18);
INGOT_REDUCE_OP(ReduceLogSum, kLogSum, 18);
INGOT_REDUCE_OP(ReduceLogSumExp, kLogSumExp, 18);
INGOT_REDUCE_OP(ReduceSumSquare, kSumSquare, 18);

#undef INGOT_REDUCE_OP

}  // namespace ingot::ops
