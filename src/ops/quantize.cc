// QuantizeLinear / DequantizeLinear (per tensor, per axis, blocked; integer, float8 and float4
// targets; saturate, output_dtype, precision), DynamicQuantizeLinear, QLinearMatMul and QLinearConv.
// Rounding and promotion follow the ONNX reference (numpy): half to even, the quotient x / scale in
// numpy's result type.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/broadcast.h"
#include "kernels/reference/matmul.h"
#include "kernels/reference/quantize.h"
#include "ops/conv_pool_common.h"
#include "ops/op.h"
#include "ops/op_util.h"
#include "ops/quant_integer.h"

namespace ingot::ops {
namespace {

bool is_scale_type(DType t) { return t == DType::kF32 || t == DType::kF16 || t == DType::kBF16; }

std::string type_str(DType t) { return dtype_name(t); }

// The layout of scale / zero point `p` over x (per tensor, per axis or blocked), checked.
Expected<ref::QuantLayout> quant_layout(const Dims& x, const Dims& p, int64_t axis, int64_t block,
                                        const ir::Node& node) {
  ref::QuantLayout q;
  int64_t pn = 1;
  for (int64_t d : p) pn *= d;
  q.n = 1;
  for (int64_t d : x) q.n *= d;
  if (pn == 1) return q;  // one parameter: per tensor, whatever its rank
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (block < 0) return fail("block_size must be non-negative");
  INGOT_ASSIGN_OR_RETURN(int64_t ax, normalize_axis(axis, static_cast<int64_t>(x.size()), node));
  q.per_tensor = false;
  q.block = block;
  q.outer = 1;
  q.inner = 1;
  for (int64_t d = 0; d < ax; ++d) q.outer *= x[d];
  for (size_t d = ax + 1; d < x.size(); ++d) q.inner *= x[d];
  q.n = x[ax];
  if (block == 0) {
    if (p.size() != 1 || p[0] != q.n) {
      return fail("scale / zero point of shape " + dims_to_string(p) + " does not match x " +
                  dims_to_string(x) + " on axis " + std::to_string(ax));
    }
    return q;
  }
  Dims want = x;
  want[ax] = (q.n + block - 1) / block;
  if (p != want) {
    return fail("blocked scale / zero point of shape " + dims_to_string(p) + " does not match x " +
                dims_to_string(x) + " with block_size " + std::to_string(block) + " on axis " +
                std::to_string(ax) + " (expected " + dims_to_string(want) + ")");
  }
  return q;
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = ref::quant_load(t.dtype(), t.raw(), i);
  return v;
}

std::vector<double> scale_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = t.get_f64(i);
  return v;
}

// ---- QuantizeLinear ----

Expected<DType> quantize_out_type(const ir::Node& node, bool has_zp, DType zp_type) {
  const int64_t od = node.attr_int("output_dtype", 0);
  if (od != 0 && !dtype_is_valid(static_cast<int32_t>(od))) {
    return invalid_argument(node.describe() + ": unknown output_dtype " + std::to_string(od));
  }
  DType t = od != 0 ? static_cast<DType>(od) : DType::kU8;
  if (has_zp) {
    if (od != 0 && zp_type != t) {
      return invalid_argument(node.describe() + ": output_dtype " + type_str(t) +
                              " differs from the zero point's " + type_str(zp_type));
    }
    t = zp_type;
  }
  if (!ref::is_quant_type(t))
    return invalid_argument(node.describe() + ": unsupported output type " + type_str(t));
  return t;
}

Status infer_quantize(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs x and y_scale");
  const DType xt = ctx.input_dtype(0);
  if (!is_scale_type(xt) && xt != DType::kI32) return ctx.fail("unsupported input type " + type_str(xt));
  if (!is_scale_type(ctx.input_dtype(1)) && ctx.input_dtype(1) != DType::kI32) {
    return ctx.fail("unsupported scale type " + type_str(ctx.input_dtype(1)));
  }
  auto t = quantize_out_type(ctx.node(), ctx.has_input(2),
                             ctx.has_input(2) ? ctx.input_dtype(2) : DType::kUndefined);
  if (!t.ok()) return t.status();
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, *t);
    return Status::Ok();
  }
  ctx.set_output(0, *t, ctx.input_shape(0));
  return Status::Ok();
}

// numpy's type for x / scale (or the `precision` attribute's).
Expected<DType> quotient_type(const ir::Node& node, DType x, DType s) {
  const int64_t prec = node.attr_int("precision", 0);
  if (prec != 0) {
    const DType p = static_cast<DType>(prec);
    if (p != DType::kF32 && p != DType::kF16 && p != DType::kBF16 && p != DType::kF64) {
      return invalid_argument(node.describe() + ": unsupported precision " + std::to_string(prec));
    }
    return p;
  }
  if (x == DType::kI32 || s == DType::kI32) return DType::kF64;
  if (x == s) return x;
  return DType::kF32;
}

Status run_quantize(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (!is_scale_type(x.dtype()) && x.dtype() != DType::kI32)
    return ctx.fail("unsupported input type " + type_str(x.dtype()));
  if (!is_scale_type(scale.dtype()) && scale.dtype() != DType::kI32) {
    return ctx.fail("unsupported scale type " + type_str(scale.dtype()));
  }
  INGOT_ASSIGN_OR_RETURN(DType to,
                         quantize_out_type(ctx.node(), zp != nullptr, zp ? zp->dtype() : DType::kUndefined));
  const int64_t axis = ctx.node().attr_int("axis", 1), block = ctx.node().attr_int("block_size", 0);
  INGOT_ASSIGN_OR_RETURN(ref::QuantLayout q, quant_layout(x.dims(), scale.dims(), axis, block, ctx.node()));
  if (zp && zp->dims() != scale.dims() && !(zp->numel() == 1 && scale.numel() == 1)) {
    return ctx.fail("zero point shape " + dims_to_string(zp->dims()) + " differs from scale shape " +
                    dims_to_string(scale.dims()));
  }
  INGOT_ASSIGN_OR_RETURN(DType qt, quotient_type(ctx.node(), x.dtype(), scale.dtype()));
  const bool saturate = ctx.node().attr_int("saturate", 1) != 0;
  const std::vector<double> s = scale_doubles(scale);
  const std::vector<double> z = zp ? to_doubles(*zp) : std::vector<double>{};
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, to, x.dims()));
  auto go = [&](auto tx) {
    using T = typename decltype(tx)::type;
    dispatch_float(qt, [&](auto tq) {
      using Q = typename decltype(tq)::type;
      ref::quantize_linear<T, Q>(q, x.data<T>(), s.data(), zp ? z.data() : nullptr, to, saturate, y->raw());
    });
  };
  if (x.dtype() == DType::kI32)
    go(TypeTag<int32_t>{});
  else
    dispatch_float(x.dtype(), go);
  return Status::Ok();
}

// ---- DequantizeLinear ----

bool is_dequant_input(DType t) { return ref::is_quant_type(t) || t == DType::kI32; }

Expected<DType> dequantize_out_type(const ir::Node& node, DType scale) {
  const int64_t od = node.attr_int("output_dtype", 0);
  if (od == 0) return scale;
  const DType t = static_cast<DType>(od);
  if (!is_scale_type(t))
    return invalid_argument(node.describe() + ": unsupported output_dtype " + std::to_string(od));
  return t;
}

Status infer_dequantize(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs x and x_scale");
  if (!is_dequant_input(ctx.input_dtype(0)))
    return ctx.fail("unsupported input type " + type_str(ctx.input_dtype(0)));
  if (!is_scale_type(ctx.input_dtype(1)))
    return ctx.fail("unsupported scale type " + type_str(ctx.input_dtype(1)));
  if (ctx.has_input(2) && ctx.input_dtype(2) != ctx.input_dtype(0)) {
    return ctx.fail("zero point type " + type_str(ctx.input_dtype(2)) + " differs from x's " +
                    type_str(ctx.input_dtype(0)));
  }
  auto t = dequantize_out_type(ctx.node(), ctx.input_dtype(1));
  if (!t.ok()) return t.status();
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, *t);
    return Status::Ok();
  }
  ctx.set_output(0, *t, ctx.input_shape(0));
  return Status::Ok();
}

Status run_dequantize(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const Tensor* zp = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  if (!is_dequant_input(x.dtype())) return ctx.fail("unsupported input type " + type_str(x.dtype()));
  if (!is_scale_type(scale.dtype())) return ctx.fail("unsupported scale type " + type_str(scale.dtype()));
  if (zp && zp->dtype() != x.dtype()) return ctx.fail("zero point type differs from x's");
  INGOT_ASSIGN_OR_RETURN(DType out, dequantize_out_type(ctx.node(), scale.dtype()));
  const int64_t axis = ctx.node().attr_int("axis", 1), block = ctx.node().attr_int("block_size", 0);
  INGOT_ASSIGN_OR_RETURN(ref::QuantLayout q, quant_layout(x.dims(), scale.dims(), axis, block, ctx.node()));
  if (zp && zp->dims() != scale.dims() && !(zp->numel() == 1 && scale.numel() == 1)) {
    return ctx.fail("zero point shape " + dims_to_string(zp->dims()) + " differs from scale shape " +
                    dims_to_string(scale.dims()));
  }
  std::vector<float> s(static_cast<size_t>(scale.numel())), z;
  for (int64_t i = 0; i < scale.numel(); ++i) s[i] = static_cast<float>(scale.get_f64(i));
  // Float8 zero points must be zero (ONNX): they carry no offset.
  const bool float_codes = ref::is_quant_type(x.dtype()) && dtype_is_float(x.dtype());
  if (zp) {
    for (int64_t i = 0; i < zp->numel(); ++i) {
      const double v = ref::quant_load(zp->dtype(), zp->raw(), i);
      if (float_codes && x.dtype() != DType::kF4E2M1 && v != 0)
        return ctx.fail("float8 zero points must be zero");
      z.push_back(static_cast<float>(v));
    }
    if (float_codes && x.dtype() != DType::kF4E2M1) z.clear();
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, out, x.dims()));
  dispatch_float(out, [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::dequantize_linear<T>(q, x.dtype(), x.raw(), s.data(), z.empty() ? nullptr : z.data(), y->data<T>());
  });
  return Status::Ok();
}

// ---- DynamicQuantizeLinear ----

Status infer_dynamic_quantize(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("expects input x");
  if (ctx.input_dtype(0) != DType::kF32)
    return ctx.fail("unsupported input type " + type_str(ctx.input_dtype(0)));
  if (ctx.input_has_shape(0))
    ctx.set_output(0, DType::kU8, ctx.input_shape(0));
  else
    ctx.set_output_rank_unknown(0, DType::kU8);
  ctx.set_output(1, DType::kF32, {});
  ctx.set_output(2, DType::kU8, {});
  return Status::Ok();
}

Status run_dynamic_quantize(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kF32) return ctx.fail("unsupported input type " + type_str(x.dtype()));
  const float* px = x.data<float>();
  float lo = 0, hi = 0;  // the range always includes 0, so 0 is exactly representable
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (std::isnan(px[i])) continue;
    lo = std::min(lo, px[i]);
    hi = std::max(hi, px[i]);
  }
  const float scale = (hi == lo ? 1.0f : hi - lo) / 255.0f;
  const float zpf = std::nearbyint(std::clamp(0.0f - lo / scale, 0.0f, 255.0f));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kU8, x.dims()));
  uint8_t* py = y->data<uint8_t>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    py[i] = static_cast<uint8_t>(ref::quantize_value(px[i] / scale, zpf, DType::kU8, true));
  }
  if (ctx.has_output(1)) {
    INGOT_ASSIGN_OR_RETURN(Tensor * ys, ctx.alloc_output(1, DType::kF32, {}));
    *ys->data<float>() = scale;
  }
  if (ctx.has_output(2)) {
    INGOT_ASSIGN_OR_RETURN(Tensor * yz, ctx.alloc_output(2, DType::kU8, {}));
    *yz->data<uint8_t>() = static_cast<uint8_t>(zpf);
  }
  return Status::Ok();
}

// ---- QLinearMatMul ----

bool is_q8(DType t) { return t == DType::kU8 || t == DType::kI8; }

// The value of a per-tensor parameter (one element).
Expected<double> scalar_param(const RunContext& ctx, size_t i, const char* what) {
  const Tensor& t = ctx.input(i);
  if (t.numel() != 1)
    return ctx.fail(std::string(what) + " must have one element, got " + dims_to_string(t.dims()));
  return ref::is_quant_type(t.dtype()) ? ref::quant_load(t.dtype(), t.raw(), 0) : t.get_f64(0);
}

// One value per output channel / column (count) or one for all: returned with `count` entries.
Expected<std::vector<double>> channel_param(const RunContext& ctx, size_t i, int64_t count,
                                            const char* what) {
  const Tensor& t = ctx.input(i);
  std::vector<double> v;
  if (t.numel() == 1) {
    v.assign(static_cast<size_t>(count), 0);
  } else if (t.rank() == 1 && t.numel() == count) {
    v.resize(static_cast<size_t>(count));
  } else {
    return ctx.fail(std::string(what) + " has shape " + dims_to_string(t.dims()) +
                    ", expected one element or " + std::to_string(count));
  }
  for (int64_t j = 0; j < count; ++j) {
    const int64_t k = t.numel() == 1 ? 0 : j;
    v[j] = ref::is_quant_type(t.dtype()) ? ref::quant_load(t.dtype(), t.raw(), k) : t.get_f64(k);
  }
  return v;
}

// The combined requantization multiplier a_scale * b_scale / y_scale, computed in the scale type as
// the reference does (its rounding to half precision is visible in the outputs).
double requant_multiplier(DType t, double sa, double sb, double sy) {
  if (t == DType::kF16) {
    const float ab = static_cast<float>(Float16(static_cast<float>(sa) * static_cast<float>(sb)));
    return static_cast<float>(Float16(ab / static_cast<float>(sy)));
  }
  if (t == DType::kBF16) {
    const float ab = static_cast<float>(BFloat16(static_cast<float>(sa) * static_cast<float>(sb)));
    return static_cast<float>(BFloat16(ab / static_cast<float>(sy)));
  }
  return static_cast<float>(static_cast<float>(sa) * static_cast<float>(sb)) / static_cast<float>(sy);
}

// Rounds and saturates a requantized value into y (uint8 / int8) at i.
void store_q8(DType t, double v, void* y, int64_t i) {
  ref::quant_store(t, ref::quantize_value(v, 0.0, t, true), y, i);
}

Status infer_qlinear_matmul(InferContext& ctx) {
  for (size_t i = 0; i < 8; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("expects 8 inputs");
  }
  if (!is_q8(ctx.input_dtype(0)) || !is_q8(ctx.input_dtype(3)))
    return ctx.fail("a and b must be int8 or uint8");
  if (ctx.input_dtype(2) != ctx.input_dtype(0) || ctx.input_dtype(5) != ctx.input_dtype(3)) {
    return ctx.fail("zero point types differ from their inputs");
  }
  const DType yt = ctx.input_dtype(7);
  if (!is_q8(yt)) return ctx.fail("y_zero_point must be int8 or uint8");
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(3)) {
    ctx.set_output_rank_unknown(0, yt);
    return Status::Ok();
  }
  const auto& a = ctx.input_shape(0);
  const auto& b = ctx.input_shape(3);
  if (a.empty() || b.empty()) return ctx.fail("a and b must have rank >= 1");
  const ir::Dim& ka = a.back();
  const ir::Dim& kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka.is_static() && kb.is_static() && ka.value != kb.value) {
    return ctx.fail("inner dimensions differ: " + ir::shape_to_string(a) + " and " + ir::shape_to_string(b));
  }
  ir::SymShape ab, bb;
  if (a.size() > 2) ab.assign(a.begin(), a.end() - 2);
  if (b.size() > 2) bb.assign(b.begin(), b.end() - 2);
  auto out = broadcast_shapes(ab, bb);
  if (!out.ok()) return ctx.fail(out.status().message());
  if (a.size() >= 2) out->push_back(a[a.size() - 2]);
  if (b.size() >= 2) out->push_back(b.back());
  ctx.set_output(0, yt, *out);
  return Status::Ok();
}

Status run_qlinear_matmul(RunContext& ctx) {
  for (size_t i = 0; i < 8; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("expects 8 inputs");
  }
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const DType yt = ctx.input(7).dtype();
  if (!is_q8(a.dtype()) || !is_q8(b.dtype()) || !is_q8(yt))
    return ctx.fail("a, b and y must be int8 or uint8");
  if (ctx.input(2).dtype() != a.dtype() || ctx.input(5).dtype() != b.dtype()) {
    return ctx.fail("zero point types differ from their inputs");
  }
  const Dims& ad = a.dims();
  const Dims& bd = b.dims();
  if (ad.empty() || bd.empty()) return ctx.fail("a and b must have rank >= 1");
  const bool a_vec = ad.size() == 1, b_vec = bd.size() == 1;
  const int64_t M = a_vec ? 1 : ad[ad.size() - 2], K = ad.back();
  const int64_t N = b_vec ? 1 : bd.back(), kb = b_vec ? bd[0] : bd[bd.size() - 2];
  if (K != kb)
    return ctx.fail("inner dimensions differ: " + dims_to_string(ad) + " and " + dims_to_string(bd));
  Dims a_batch, b_batch;
  if (!a_vec) a_batch.assign(ad.begin(), ad.end() - 2);
  if (!b_vec) b_batch.assign(bd.begin(), bd.end() - 2);
  auto batch = broadcast_dims(a_batch, b_batch);
  if (!batch.ok()) return ctx.fail(batch.status().message());
  Dims out = *batch;
  if (!a_vec) out.push_back(M);
  if (!b_vec) out.push_back(N);

  INGOT_ASSIGN_OR_RETURN(double sa, scalar_param(ctx, 1, "a_scale"));
  INGOT_ASSIGN_OR_RETURN(double za, scalar_param(ctx, 2, "a_zero_point"));
  INGOT_ASSIGN_OR_RETURN(std::vector<double> sb, channel_param(ctx, 4, N, "b_scale"));
  INGOT_ASSIGN_OR_RETURN(std::vector<double> zb, channel_param(ctx, 5, N, "b_zero_point"));
  INGOT_ASSIGN_OR_RETURN(double sy, scalar_param(ctx, 6, "y_scale"));
  INGOT_ASSIGN_OR_RETURN(double zy, scalar_param(ctx, 7, "y_zero_point"));
  const DType st = ctx.input(1).dtype();
  if (!is_scale_type(st)) return ctx.fail("unsupported scale type " + type_str(st));
  std::vector<double> mult(static_cast<size_t>(N));
  for (int64_t j = 0; j < N; ++j) mult[j] = requant_multiplier(st, sa, sb[j], sy);

  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, yt, out));
  std::vector<int32_t> acc(static_cast<size_t>(M * N));
  auto run = [&](auto ta, auto tb) {
    using TA = typename decltype(ta)::type;
    using TB = typename decltype(tb)::type;
    const TA zat = static_cast<TA>(za);
    std::vector<TB> zbt(zb.begin(), zb.end());
    ref::for_each_broadcast2(a_batch, b_batch, *batch, [&](int64_t o, int64_t ia, int64_t ib) {
      ref::matmul_integer<TA, TB>(M, N, K, a.data<TA>() + ia * M * K, &zat, 0, b.data<TB>() + ib * K * N,
                                  zbt.data(), 1, acc.data());
      for (int64_t i = 0; i < M; ++i)
        for (int64_t j = 0; j < N; ++j)
          store_q8(yt, static_cast<double>(acc[i * N + j]) * mult[j] + zy, y->raw(), (o * M + i) * N + j);
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

// ---- QLinearConv ----

Status infer_qlinear_conv(InferContext& ctx) {
  for (size_t i = 0; i < 8; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("expects at least 8 inputs");
  }
  if (!is_q8(ctx.input_dtype(0)) || !is_q8(ctx.input_dtype(3)))
    return ctx.fail("x and w must be int8 or uint8");
  if (ctx.input_dtype(2) != ctx.input_dtype(0) || ctx.input_dtype(5) != ctx.input_dtype(3)) {
    return ctx.fail("zero point types differ from their inputs");
  }
  if (ctx.has_input(8) && ctx.input_dtype(8) != DType::kI32) return ctx.fail("B must be int32");
  const DType yt = ctx.input_dtype(7);
  if (!is_q8(yt)) return ctx.fail("y_zero_point must be int8 or uint8");
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(3)) {
    ctx.set_output_rank_unknown(0, yt);
    return Status::Ok();
  }
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out,
                         integer_conv_shape(ctx.node(), ctx.input_shape(0), ctx.input_shape(3)));
  ctx.set_output(0, yt, std::move(out));
  return Status::Ok();
}

Status run_qlinear_conv(RunContext& ctx) {
  for (size_t i = 0; i < 8; ++i) {
    if (!ctx.has_input(i)) return ctx.fail("expects at least 8 inputs");
  }
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const DType yt = ctx.input(7).dtype();
  if (!is_q8(x.dtype()) || !is_q8(w.dtype()) || !is_q8(yt))
    return ctx.fail("x, w and y must be int8 or uint8");
  if (ctx.input(2).dtype() != x.dtype() || ctx.input(5).dtype() != w.dtype()) {
    return ctx.fail("zero point types differ from their inputs");
  }
  if (x.rank() < 3 || w.rank() != x.rank()) return ctx.fail("x and w must have the same rank >= 3");
  const int64_t M = w.dim(0);
  INGOT_ASSIGN_OR_RETURN(double sx, scalar_param(ctx, 1, "x_scale"));
  INGOT_ASSIGN_OR_RETURN(double zx, scalar_param(ctx, 2, "x_zero_point"));
  INGOT_ASSIGN_OR_RETURN(std::vector<double> sw, channel_param(ctx, 4, M, "w_scale"));
  INGOT_ASSIGN_OR_RETURN(std::vector<double> zw, channel_param(ctx, 5, M, "w_zero_point"));
  INGOT_ASSIGN_OR_RETURN(double sy, scalar_param(ctx, 6, "y_scale"));
  INGOT_ASSIGN_OR_RETURN(double zy, scalar_param(ctx, 7, "y_zero_point"));
  const DType st = ctx.input(1).dtype();
  if (!is_scale_type(st)) return ctx.fail("unsupported scale type " + type_str(st));
  const Tensor* bias = ctx.has_input(8) ? &ctx.input(8) : nullptr;
  if (bias && (bias->dtype() != DType::kI32 || bias->rank() != 1 || bias->dim(0) != M)) {
    return ctx.fail("B must be int32 with one value per output channel");
  }
  std::vector<int32_t> acc;
  INGOT_ASSIGN_OR_RETURN(Dims out, integer_conv(ctx.node(), x, static_cast<int32_t>(zx), w,
                                                std::vector<int32_t>(zw.begin(), zw.end()), &acc));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, yt, out));
  int64_t spatial = 1;
  for (size_t d = 2; d < out.size(); ++d) spatial *= out[d];
  std::vector<double> mult(static_cast<size_t>(M));
  for (int64_t m = 0; m < M; ++m) mult[m] = requant_multiplier(st, sx, sw[m], sy);
  for (int64_t i = 0; i < static_cast<int64_t>(acc.size()); ++i) {
    const int64_t m = spatial > 0 ? (i / spatial) % M : 0;
    const int64_t a = static_cast<int64_t>(acc[i]) + (bias ? bias->data<int32_t>()[m] : 0);
    store_q8(yt, static_cast<double>(a) * mult[m] + zy, y->raw(), i);
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(QuantizeLinear, .infer = infer_quantize, .run = run_quantize);
INGOT_REGISTER_OP(DequantizeLinear, .infer = infer_dequantize, .run = run_dequantize);
INGOT_REGISTER_OP(DynamicQuantizeLinear, .infer = infer_dynamic_quantize, .run = run_dynamic_quantize);
INGOT_REGISTER_OP(QLinearMatMul, .infer = infer_qlinear_matmul, .run = run_qlinear_matmul);
INGOT_REGISTER_OP(QLinearConv, .infer = infer_qlinear_conv, .run = run_qlinear_conv);

}  // namespace ingot::ops
