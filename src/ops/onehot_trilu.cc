// OneHot and Trilu.
#include <cmath>

#include "core/dispatch.h"
#include "kernels/reference/onehot_trilu.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// ---- OneHot ----

Expected<int64_t> onehot_axis(const ir::Node& node, int64_t in_rank) {
  const int64_t axis = node.attr_int("axis", -1);
  const int64_t r = in_rank + 1;
  if (axis < -r || axis >= r) {
    return invalid_argument(node.describe() + ": axis " + std::to_string(axis) +
                            " is out of range for rank " + std::to_string(r));
  }
  return axis < 0 ? axis + r : axis;
}

Status run_one_hot(RunContext& ctx) {
  const Tensor& ind = ctx.input(0);
  const Tensor& depth_t = ctx.input(1);
  const Tensor& values = ctx.input(2);
  if (depth_t.numel() != 1) return ctx.fail("depth must have exactly one element");
  if (values.numel() != 2) return ctx.fail("values must have two elements [off, on]");
  if (depth_t.dtype() == DType::kString || ind.dtype() == DType::kString) {
    return ctx.fail("indices and depth must be numeric");
  }
  const double depth_f = depth_t.get_f64(0);
  if (!(depth_f >= 1) || depth_f > static_cast<double>(max_tensor_bytes())) {
    return ctx.fail("depth " + std::to_string(depth_f) + " is not a positive size");
  }
  const int64_t depth = static_cast<int64_t>(depth_f);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, onehot_axis(ctx.node(), ind.rank()));
  // Indices may be floats: cast to int64; negative ones count from the end, out-of-range stay off.
  std::vector<int64_t> idx(static_cast<size_t>(ind.numel()));
  const bool is_float = dtype_is_float(ind.dtype());
  for (int64_t i = 0; i < ind.numel(); ++i) {
    int64_t v;
    if (is_float) {
      const double f = ind.get_f64(i);
      v = std::isfinite(f) && std::fabs(f) < 9e18 ? static_cast<int64_t>(f) : depth;
    } else {
      v = ind.get_i64(i);
    }
    idx[i] = v < 0 && v >= -depth ? v + depth : v;
  }
  Dims out_dims = ind.dims();
  out_dims.insert(out_dims.begin() + axis, depth);
  int64_t outer = 1, inner = 1;
  for (int64_t i = 0; i < axis; ++i) outer *= ind.dim(i);
  for (int64_t i = axis; i < ind.rank(); ++i) inner *= ind.dim(i);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, values.dtype(), out_dims));
  bool ok = dispatch_by_size(values.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::one_hot(idx.data(), outer, depth, inner, values.data<T>()[0], values.data<T>()[1], y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(values.dtype()));
}

Status infer_one_hot(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
    return ctx.fail("expects indices, depth, values");
  const DType dt = ctx.input_dtype(2);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  ir::SymShape out = ctx.input_shape(0);
  INGOT_ASSIGN_OR_RETURN(int64_t axis, onehot_axis(ctx.node(), static_cast<int64_t>(out.size())));
  ir::Dim depth;
  if (const Tensor* d = ctx.input_const(1); d && d->numel() == 1 && d->dtype() != DType::kString) {
    const double f = d->get_f64(0);
    if (!(f >= 1)) return ctx.fail("depth must be positive");
    if (f < 9e18) depth = static_cast<int64_t>(f);
  }
  out.insert(out.begin() + axis, depth);
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

// ---- Trilu ----

Status run_trilu(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() < 2) return ctx.fail("input must have rank >= 2, got " + dims_to_string(x.dims()));
  int64_t k = 0;
  if (ctx.has_input(1)) {
    INGOT_ASSIGN_OR_RETURN(auto kv, int_input(ctx, 1, "k"));
    if (kv.size() != 1) return ctx.fail("k must be a scalar");
    k = kv[0];
  }
  const bool upper = ctx.node().attr_int("upper", 1) != 0;
  const int64_t rows = x.dim(-2), cols = x.dim(-1);
  const int64_t batch = rows * cols == 0 ? 0 : x.numel() / (rows * cols);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::trilu(x.data<T>(), batch, rows, cols, k, upper, y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_trilu(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() < 2) return ctx.fail("input must have rank >= 2");
  return infer_same_as_input(ctx);
}

}  // namespace

INGOT_REGISTER_OP(OneHot, .infer = infer_one_hot, .run = run_one_hot);
INGOT_REGISTER_OP(Trilu, .infer = infer_trilu, .run = run_trilu);

}  // namespace ingot::ops
