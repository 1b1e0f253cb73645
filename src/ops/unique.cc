// Unique: the distinct elements (or slices along `axis`) of X, sorted or in order of first occurrence,
// with first-occurrence indices, inverse indices and counts.
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/unique.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status infer_unique(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input 'X'");
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_all(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  ir::SymShape y_shape{ir::Dim()};
  ir::Dim n;
  if (ctx.input_has_shape(0)) {
    const ir::SymShape& in = ctx.input_shape(0);
    if (ctx.node().has_attr("axis")) {
      INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", 0),
                                                          static_cast<int64_t>(in.size()), ctx.node()));
      if (in.empty()) return ctx.fail("'axis' needs an input of rank >= 1");
      y_shape = in;
      y_shape[axis] = ir::Dim();
      n = in[axis];
    } else if (is_static(in)) {
      int64_t total = 1;
      for (const ir::Dim& d : in) total *= d.value;
      n = ir::Dim(total);
    }
    ctx.set_output(0, dt, y_shape);
  } else {
    ctx.set_output_rank_unknown(0, dt);
  }
  ctx.set_output(1, DType::kI64, {ir::Dim()});
  ctx.set_output(2, DType::kI64, {n});
  ctx.set_output(3, DType::kI64, {ir::Dim()});
  return Status::Ok();
}

Status run_unique(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const bool sorted = ctx.node().attr_int("sorted", 1) != 0;
  int64_t outer = 1, n = x.numel(), inner = 1, axis = -1;
  if (ctx.node().has_attr("axis")) {
    if (x.rank() == 0) return ctx.fail("'axis' needs an input of rank >= 1");
    INGOT_ASSIGN_OR_RETURN(axis, normalize_axis(ctx.node().attr_int("axis", 0), x.rank(), ctx.node()));
    n = x.dim(axis);
    for (int64_t d = 0; d < x.rank(); ++d) {
      if (d < axis) outer *= x.dim(d);
      if (d > axis) inner *= x.dim(d);
    }
  }
  Status st;
  bool ok = dispatch_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using V = std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>, float, T>;
    const ref::UniqueResult r = ref::unique_slices<V>(x.data<T>(), outer, n, inner, sorted);
    const int64_t u = static_cast<int64_t>(r.first.size());
    Dims y_dims{u};
    if (axis >= 0) {
      y_dims = x.dims();
      y_dims[axis] = u;
    }
    auto y = ctx.alloc_output(0, x.dtype(), y_dims);
    if (!y.ok()) {
      st = y.status();
      return;
    }
    ref::gather_slices(x.data<T>(), outer, n, inner, r.first, (*y)->template data<T>());
    const std::vector<int64_t>* outs[3] = {&r.first, &r.inverse, &r.counts};
    for (size_t i = 0; i < 3; ++i) {
      if (!ctx.has_output(i + 1)) continue;
      auto t = ctx.alloc_output(i + 1, DType::kI64, {static_cast<int64_t>(outs[i]->size())});
      if (!t.ok()) {
        st = t.status();
        return;
      }
      std::copy(outs[i]->begin(), outs[i]->end(), (*t)->template data<int64_t>());
    }
  });
  if (!ok) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  return st;
}

}  // namespace

INGOT_REGISTER_OP(Unique, .infer = infer_unique, .run = run_unique);

}  // namespace ingot::ops
