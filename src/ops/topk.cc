// TopK: the k largest / smallest elements along `axis` and their indices. Canonical form: k as the
// 1-element int64 input 1 (an attribute before opset 10).
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/topk.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status normalize_topk(NormalizeContext& ctx) {
  if (ctx.opset() < 10 && ctx.node().has_attr("k")) {
    const int64_t k = ctx.node().attr_int("k", 0);
    ctx.node().attrs.erase("k");
    ctx.set_const_input(1, Tensor::from_vector<int64_t>({1}, {k}));
  }
  return Status::Ok();
}

Expected<int64_t> read_k(const Tensor& t, const ir::Node& node) {
  if (t.numel() != 1 || t.rank() > 1) return invalid_argument(node.describe() + ": 'K' must hold one value");
  const int64_t k = t.get_i64(0);
  if (k < 0) return invalid_argument(node.describe() + ": 'K' must be >= 0, got " + std::to_string(k));
  return k;
}

Status infer_topk(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs 'X' and 'K'");
  const DType dt = ctx.input_dtype(0);
  if (!dispatch_arith(dt, [](auto) {})) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input_dtype(1) != DType::kI64) return ctx.fail("'K' must be int64");
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    ctx.set_output_rank_unknown(1, DType::kI64);
    return Status::Ok();
  }
  ir::SymShape shape = ctx.input_shape(0);
  if (shape.empty()) return ctx.fail("input must have rank >= 1");
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", -1),
                                                      static_cast<int64_t>(shape.size()), ctx.node()));
  if (const Tensor* kt = ctx.input_const(1)) {
    INGOT_ASSIGN_OR_RETURN(int64_t k, read_k(*kt, ctx.node()));
    if (shape[axis].is_static() && k > shape[axis].value) {
      return ctx.fail("k = " + std::to_string(k) + " exceeds the axis size " +
                      std::to_string(shape[axis].value));
    }
    shape[axis] = ir::Dim(k);
  } else {
    shape[axis] = ir::Dim();
  }
  ctx.set_output(0, dt, shape);
  ctx.set_output(1, DType::kI64, shape);
  return Status::Ok();
}

Status run_topk(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.rank() == 0) return ctx.fail("input must have rank >= 1");
  INGOT_ASSIGN_OR_RETURN(int64_t k, read_k(ctx.input(1), ctx.node()));
  INGOT_ASSIGN_OR_RETURN(int64_t axis, normalize_axis(ctx.node().attr_int("axis", -1), x.rank(), ctx.node()));
  const int64_t n = x.dim(axis);
  if (k > n) return ctx.fail("k = " + std::to_string(k) + " exceeds the axis size " + std::to_string(n));
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < x.rank(); ++d) {
    if (d < axis) outer *= x.dim(d);
    if (d > axis) inner *= x.dim(d);
  }
  Dims out_dims = x.dims();
  out_dims[axis] = k;
  INGOT_ASSIGN_OR_RETURN(Tensor * values, ctx.alloc_output(0, x.dtype(), out_dims));
  Tensor* indices = nullptr;
  if (ctx.has_output(1)) {
    INGOT_ASSIGN_OR_RETURN(indices, ctx.alloc_output(1, DType::kI64, out_dims));
  }
  INGOT_ASSIGN_OR_RETURN(Tensor idx_scratch, Tensor::create(DType::kI64, indices ? Dims{0} : out_dims));
  int64_t* idx = indices ? indices->data<int64_t>() : idx_scratch.data<int64_t>();
  const bool largest = ctx.node().attr_int("largest", 1) != 0;
  // `sorted` = 0 leaves the order unspecified; sorted order is one valid answer.
  bool ok = dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::topk(x.data<T>(), outer, n, inner, k, largest, values->data<T>(), idx);
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(TopK, .infer = infer_topk, .run = run_topk, .normalize = normalize_topk);

}  // namespace ingot::ops
