// Gemm: Y = alpha * op(A) op(B) + beta * C, C optional and unidirectionally broadcast to [M, N].
// Opsets < 7 had a `broadcast` attribute; when it is 0 C must already be [M, N], which the
// broadcast rule accepts too, so one form serves every opset.
#include "core/dispatch.h"
#include "kernels/reference/binary.h"
#include "kernels/reference/matmul.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

bool is_gemm_dtype(DType t) {
  switch (t) {
    case DType::kF32:
    case DType::kF64:
    case DType::kF16:
    case DType::kBF16:
    case DType::kI32:
    case DType::kI64:
    case DType::kU32:
    case DType::kU64:
      return true;
    default:
      return false;
  }
}

// C's strides over the rows and columns of Y when C (rank <= 2) broadcasts to [M, N].
Status c_strides(const Dims& c, int64_t M, int64_t N, bool exact, int64_t* rs, int64_t* cs) {
  if (c.size() > 2)
    return invalid_argument("C has rank " + std::to_string(c.size()) + ", expected at most 2");
  const int64_t cr = c.size() == 2 ? c[0] : 1;
  const int64_t cc = c.empty() ? 1 : c.back();
  const bool ok_r = cr == M || (!exact && cr == 1);
  const bool ok_c = cc == N || (!exact && cc == 1);
  if (!ok_r || !ok_c || (exact && c.size() != 2)) {
    return invalid_argument("C of shape " + dims_to_string(c) + " does not broadcast to " +
                            dims_to_string({M, N}));
  }
  *rs = cr == 1 ? 0 : cc;
  *cs = cc == 1 ? 0 : 1;
  return Status::Ok();
}

// An old `broadcast = 0` Gemm demands an exact [M, N] C.
bool exact_c(const ir::Node& node) { return node.opset < 7 && node.attr_int("broadcast", 0) == 0; }

Status infer_gemm(InferContext& ctx) {
  if (ctx.num_inputs() < 2 || !ctx.has_input(0) || !ctx.has_input(1))
    return ctx.fail("expects inputs A and B");
  const DType dt = ctx.input_dtype(0);
  if (!is_gemm_dtype(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  for (size_t i = 1; i < 3; ++i) {
    if (ctx.has_input(i) && ctx.input_dtype(i) != dt) {
      return ctx.fail(std::string("input types differ: ") + dtype_name(dt) + " and " +
                      dtype_name(ctx.input_dtype(i)));
    }
  }
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(1)) {
    ctx.set_output(0, dt, {ir::Dim(), ir::Dim()});
    return Status::Ok();
  }
  const auto& a = ctx.input_shape(0);
  const auto& b = ctx.input_shape(1);
  if (a.size() != 2 || b.size() != 2) {
    return ctx.fail("A and B must be 2-D, got " + ir::shape_to_string(a) + " and " + ir::shape_to_string(b));
  }
  const bool ta = ctx.node().attr_int("transA", 0) != 0, tb = ctx.node().attr_int("transB", 0) != 0;
  const ir::Dim m = ta ? a[1] : a[0], ka = ta ? a[0] : a[1];
  const ir::Dim kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
    return ctx.fail("inner dimensions differ: " + ir::shape_to_string(a) + " and " + ir::shape_to_string(b));
  }
  if (ctx.input_has_shape(2) && m.is_static() && n.is_static() && is_static(ctx.input_shape(2))) {
    int64_t rs, cs;
    Status st = c_strides(ir::to_dims(ctx.input_shape(2)), m.value, n.value, exact_c(ctx.node()), &rs, &cs);
    if (!st.ok()) return ctx.fail(st.message());
  }
  ctx.set_output(0, dt, {m, n});
  return Status::Ok();
}

Status run_gemm(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  const Tensor* c = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (a.dtype() != b.dtype() || (c && c->dtype() != a.dtype())) return ctx.fail("input types differ");
  if (!is_gemm_dtype(a.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(a.dtype()));
  if (a.rank() != 2 || b.rank() != 2) {
    return ctx.fail("A and B must be 2-D, got " + dims_to_string(a.dims()) + " and " +
                    dims_to_string(b.dims()));
  }
  const ir::Node& node = ctx.node();
  const bool ta = node.attr_int("transA", 0) != 0, tb = node.attr_int("transB", 0) != 0;
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t kb = tb ? b.dim(1) : b.dim(0), N = tb ? b.dim(0) : b.dim(1);
  if (K != kb) {
    return ctx.fail("inner dimensions differ: " + dims_to_string(a.dims()) + " and " +
                    dims_to_string(b.dims()));
  }
  const float alpha = node.attr_float("alpha", 1.0f), beta = node.attr_float("beta", 1.0f);
  int64_t rs = 0, cs = 0;
  if (c) {
    Status st = c_strides(c->dims(), M, N, exact_c(node), &rs, &cs);
    if (!st.ok()) return ctx.fail(st.message());
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, a.dtype(), {M, N}));
  dispatch_arith(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = ref::MatAcc<T>;
    // Integer Gemm: alpha and beta truncate to integers (as onnxruntime's do) without overflowing.
    auto scale = [](float v) {
      if constexpr (std::is_integral_v<T>)
        return static_cast<Acc>(ref::saturate_cast<int64_t>(v));
      else
        return static_cast<Acc>(v);
    };
    ref::gemm<T>(ta, tb, M, N, K, scale(alpha), a.data<T>(), b.data<T>(), scale(beta),
                 c ? c->data<T>() : nullptr, rs, cs, y->data<T>());
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Gemm, .infer = infer_gemm, .run = run_gemm);

}  // namespace ingot::ops
