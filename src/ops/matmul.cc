// MatMul (numpy matmul: 1-D operands promoted and the added dim removed again, batch dims
// broadcast) and MatMulInteger (8-bit operands minus zero points, int32 result).
#include "kernels/reference/matmul.h"
#include "core/dispatch.h"
#include "kernels/reference/broadcast.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Shapes of a numpy matmul: operands promoted to rank >= 2 and the batch shape they broadcast to.
struct MatMulShape {
  Dims a_batch, b_batch, batch;
  int64_t M = 1, N = 1, K = 1;
  Dims out;
};

Expected<MatMulShape> matmul_shape(const Dims& a, const Dims& b) {
  if (a.empty() || b.empty()) return invalid_argument("MatMul operands must have rank >= 1");
  MatMulShape s;
  const bool a_vec = a.size() == 1, b_vec = b.size() == 1;
  s.M = a_vec ? 1 : a[a.size() - 2];
  s.K = a.back();
  const int64_t kb = b_vec ? b[0] : b[b.size() - 2];
  s.N = b_vec ? 1 : b.back();
  if (s.K != kb) {
    return invalid_argument("inner dimensions differ: " + dims_to_string(a) + " and " + dims_to_string(b));
  }
  if (!a_vec) s.a_batch.assign(a.begin(), a.end() - 2);
  if (!b_vec) s.b_batch.assign(b.begin(), b.end() - 2);
  INGOT_ASSIGN_OR_RETURN(s.batch, broadcast_dims(s.a_batch, s.b_batch));
  s.out = s.batch;
  if (!a_vec) s.out.push_back(s.M);
  if (!b_vec) s.out.push_back(s.N);
  return s;
}

// Symbolic output shape of a numpy matmul; fails on static inner dims that differ.
Expected<ir::SymShape> matmul_sym_shape(const ir::SymShape& a, const ir::SymShape& b) {
  if (a.empty() || b.empty()) return invalid_argument("operands must have rank >= 1");
  const ir::Dim& ka = a.back();
  const ir::Dim& kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
    return invalid_argument("inner dimensions differ: " + ir::shape_to_string(a) + " and " +
                            ir::shape_to_string(b));
  }
  ir::SymShape ab, bb;
  if (a.size() > 2) ab.assign(a.begin(), a.end() - 2);
  if (b.size() > 2) bb.assign(b.begin(), b.end() - 2);
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, broadcast_shapes(ab, bb));
  if (a.size() >= 2) out.push_back(a[a.size() - 2]);
  if (b.size() >= 2) out.push_back(b.back());
  return out;
}

Status infer_matmul_shape(InferContext& ctx, DType out_dtype) {
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, out_dtype);
    return Status::Ok();
  }
  auto shape = matmul_sym_shape(ctx.input_shape(0), ctx.input_shape(1));
  if (!shape.ok()) return ctx.fail(shape.status().message());
  ctx.set_output(0, out_dtype, *shape);
  return Status::Ok();
}

bool is_matmul_dtype(DType t) {
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

Status infer_matmul(InferContext& ctx) {
  if (ctx.num_inputs() != 2 || !ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects 2 inputs");
  const DType dt = ctx.input_dtype(0);
  if (dt != ctx.input_dtype(1)) {
    return ctx.fail(std::string("input types differ: ") + dtype_name(dt) + " and " +
                    dtype_name(ctx.input_dtype(1)));
  }
  if (!is_matmul_dtype(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  return infer_matmul_shape(ctx, dt);
}

Status run_matmul(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != b.dtype()) return ctx.fail("input types differ");
  if (!is_matmul_dtype(a.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(a.dtype()));
  auto s = matmul_shape(a.dims(), b.dims());
  if (!s.ok()) return ctx.fail(s.status().message());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, a.dtype(), s->out));
  const int64_t M = s->M, N = s->N, K = s->K;
  dispatch_arith(a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    T* py = y->data<T>();
    ref::for_each_broadcast2(s->a_batch, s->b_batch, s->batch, [&](int64_t o, int64_t ia, int64_t ib) {
      ref::gemm<T>(false, false, M, N, K, 1, pa + ia * M * K, pb + ib * K * N, 0, nullptr, 0, 0,
                   py + o * M * N);
    });
  });
  return Status::Ok();
}

// MatMulInteger: zero points are per tensor (scalar / one element) or per row of A / column of B.
Status infer_matmul_integer(InferContext& ctx) {
  if (ctx.num_inputs() < 2 || !ctx.has_input(0) || !ctx.has_input(1))
    return ctx.fail("expects inputs A and B");
  for (size_t i = 0; i < ctx.num_inputs() && i < 4; ++i) {
    if (!ctx.has_input(i)) continue;
    const DType t = ctx.input_dtype(i);
    if (t != DType::kU8 && t != DType::kI8) return ctx.fail(std::string("unsupported type ") + dtype_name(t));
  }
  if (ctx.has_input(2) && ctx.input_dtype(2) != ctx.input_dtype(0))
    return ctx.fail("a_zero_point type differs from A");
  if (ctx.has_input(3) && ctx.input_dtype(3) != ctx.input_dtype(1))
    return ctx.fail("b_zero_point type differs from B");
  return infer_matmul_shape(ctx, DType::kI32);
}

// Stride of a zero point over `count` rows/columns: 0 when per tensor, 1 when it has one per row/column.
Expected<int64_t> zero_point_stride(const Tensor& z, int64_t count, const char* what) {
  if (z.numel() == 1) return 0;
  if (z.rank() == 1 && z.numel() == count) return 1;
  return invalid_argument(std::string(what) + " has shape " + dims_to_string(z.dims()) +
                          ", expected one element or " + std::to_string(count));
}

Status run_matmul_integer(RunContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  auto is8 = [](DType t) { return t == DType::kU8 || t == DType::kI8; };
  if (!is8(a.dtype()) || !is8(b.dtype())) return ctx.fail("A and B must be int8 or uint8");
  auto s = matmul_shape(a.dims(), b.dims());
  if (!s.ok()) return ctx.fail(s.status().message());
  const int64_t M = s->M, N = s->N, K = s->K;
  const Tensor* za = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* zb = ctx.has_input(3) ? &ctx.input(3) : nullptr;
  if (za && za->dtype() != a.dtype()) return ctx.fail("a_zero_point type differs from A");
  if (zb && zb->dtype() != b.dtype()) return ctx.fail("b_zero_point type differs from B");
  int64_t za_stride = 0, zb_stride = 0;
  if (za) {
    auto st = zero_point_stride(*za, M, "a_zero_point");
    if (!st.ok()) return ctx.fail(st.status().message());
    za_stride = *st;
  }
  if (zb) {
    auto st = zero_point_stride(*zb, N, "b_zero_point");
    if (!st.ok()) return ctx.fail(st.status().message());
    zb_stride = *st;
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kI32, s->out));
  int32_t* py = y->data<int32_t>();
  auto run = [&](auto ta, auto tb) {
    using TA = typename decltype(ta)::type;
    using TB = typename decltype(tb)::type;
    const TA* pa = a.data<TA>();
    const TB* pb = b.data<TB>();
    const TA* pza = za ? za->data<TA>() : nullptr;
    const TB* pzb = zb ? zb->data<TB>() : nullptr;
    ref::for_each_broadcast2(s->a_batch, s->b_batch, s->batch, [&](int64_t o, int64_t ia, int64_t ib) {
      ref::matmul_integer<TA, TB>(M, N, K, pa + ia * M * K, pza, za_stride, pb + ib * K * N, pzb, zb_stride,
                                  py + o * M * N);
    });
  };
  const bool a_u8 = a.dtype() == DType::kU8, b_u8 = b.dtype() == DType::kU8;
  if (a_u8 && b_u8)
    run(TypeTag<uint8_t>{}, TypeTag<uint8_t>{});
  else if (a_u8)
    run(TypeTag<uint8_t>{}, TypeTag<int8_t>{});
  else if (b_u8)
    run(TypeTag<int8_t>{}, TypeTag<uint8_t>{});
  else
    run(TypeTag<int8_t>{}, TypeTag<int8_t>{});
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(MatMul, .infer = infer_matmul, .run = run_matmul);
INGOT_REGISTER_OP(MatMulInteger, .infer = infer_matmul_integer, .run = run_matmul_integer);

}  // namespace ingot::ops
