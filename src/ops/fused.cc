// ingot's fused layers, made by the fusion passes (src/passes/fuse_*.cc):
//   ingot.FusedConv(X, W, B?, Z?)     y = act(Conv(X, W) + B + Z), Conv's attributes
//   ingot.FusedMatMul(A, B, bias?, Z?) y = act(MatMul(A, B) + bias + Z), bias per column of B
//   ingot.Attention(Q, K, V, mask?)   softmax(scale * Q K^T + mask) V over the last two axes
// Each has `activation` ("" or Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Silu, Gelu,
// GeluTanh, Tanh) with `activation_alpha` / `activation_beta`, and `fused_from` ("OpType:name" of the
// nodes it replaced). The conv / matmul part runs the Conv / MatMul op itself, so the fused layer is
// exactly the unfused graph with the epilogue's adds applied in the same order.
#include <cmath>

#include "core/dispatch.h"
#include "kernels/reference/attention.h"
#include "kernels/reference/fused_epilogue.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

using ref::EpilogueActivation;

Expected<ref::EpilogueParams> epilogue_params(const ir::Node& node) {
  static const std::pair<const char*, EpilogueActivation> kNames[] = {
      {"", EpilogueActivation::kNone},
      {"Relu", EpilogueActivation::kRelu},
      {"LeakyRelu", EpilogueActivation::kLeakyRelu},
      {"Clip", EpilogueActivation::kClip},
      {"Sigmoid", EpilogueActivation::kSigmoid},
      {"HardSigmoid", EpilogueActivation::kHardSigmoid},
      {"HardSwish", EpilogueActivation::kHardSwish},
      {"Silu", EpilogueActivation::kSilu},
      {"Gelu", EpilogueActivation::kGelu},
      {"GeluTanh", EpilogueActivation::kGeluTanh},
      {"Tanh", EpilogueActivation::kTanh},
  };
  const std::string name = node.attr_string("activation", "");
  ref::EpilogueParams p;
  p.alpha = node.attr_float("activation_alpha", 0);
  p.beta = node.attr_float("activation_beta", 0);
  for (const auto& [n, a] : kNames) {
    if (name == n) {
      p.activation = a;
      return p;
    }
  }
  return invalid_argument(node.describe() + ": unknown activation '" + name + "'");
}

// `node` seen as the plain op `op_type` over its first `n` inputs: the fused layer reuses that op's
// inference and kernel. Error messages still name the fused node.
ir::Node base_view(const ir::Node& node, size_t n) {
  ir::Node b;
  b.name = node.name;
  b.op_type = node.op_type;
  b.opset = 13;
  b.inputs.assign(node.inputs.begin(),
                  node.inputs.begin() + static_cast<std::ptrdiff_t>(std::min(n, node.inputs.size())));
  b.outputs = node.outputs;
  b.attrs = node.attrs;
  return b;
}

Status infer_base(InferContext& ctx, const char* op, size_t n) {
  ir::Node b = base_view(ctx.node(), n);
  InferContext bc(b);
  return find_op("", op)->infer(bc);
}

Expected<Tensor> run_base(RunContext& ctx, const char* op, size_t n) {
  ir::Node b = base_view(ctx.node(), n);
  std::vector<const RtValue*> inputs;
  for (size_t i = 0; i < n; ++i) inputs.push_back(ctx.has_input(i) ? &ctx.input_value(i) : nullptr);
  std::vector<RtValue> outs(ctx.num_outputs());
  RunContext bc(b, inputs, &outs,
                [](const ir::Graph&, const std::vector<RtValue>&) -> Expected<std::vector<RtValue>> {
                  return internal_error("fused layers run no subgraph");
                });
  INGOT_RETURN_IF_ERROR(find_op("", op)->run(bc));
  return std::move(outs[0].tensor);
}

// The residual input Z has the output's type and, where both are known, its shape.
Status check_residual(InferContext& ctx, size_t z) {
  if (!ctx.has_input(z)) return Status::Ok();
  const ir::ValueType& out = ctx.node().outputs[0]->type;
  if (ctx.input_dtype(z) != out.dtype) return ctx.fail("residual Z's type differs from the output's");
  if (!ctx.input_has_shape(z) || !out.has_shape) return Status::Ok();
  const ir::SymShape& zs = ctx.input_shape(z);
  bool ok = zs.size() == out.shape.size();
  for (size_t i = 0; ok && i < zs.size(); ++i)
    ok = !(zs[i].is_static() && out.shape[i].is_static()) || zs[i].value == out.shape[i].value;
  if (!ok) {
    return ctx.fail("residual Z " + ir::shape_to_string(zs) + " does not have the output's shape " +
                    ir::shape_to_string(out.shape));
  }
  return Status::Ok();
}

// Applies bias (per channel) / Z / activation to y seen as [outer, channels, inner].
Status run_epilogue(RunContext& ctx, Tensor& y, int64_t channels, int64_t inner, const Tensor* bias,
                    size_t z) {
  INGOT_ASSIGN_OR_RETURN(ref::EpilogueParams p, epilogue_params(ctx.node()));
  const Tensor* zt = ctx.has_input(z) ? &ctx.input(z) : nullptr;
  if (zt && (zt->dims() != y.dims() || zt->dtype() != y.dtype())) {
    return ctx.fail("residual Z " + dims_to_string(zt->dims()) + " does not match the output " +
                    dims_to_string(y.dims()));
  }
  if (bias && (bias->numel() != channels || bias->dtype() != y.dtype()))
    return ctx.fail("bias has " + std::to_string(bias->numel()) + " values for " + std::to_string(channels) +
                    " channels");
  const int64_t outer = channels * inner > 0 ? y.numel() / (channels * inner) : 0;
  const bool ok = dispatch_float(y.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::fused_epilogue<T>(y.data<T>(), outer, channels, inner, bias ? bias->data<T>() : nullptr,
                           zt ? zt->data<T>() : nullptr, p);
  });
  if (!ok) return ctx.fail(std::string("unsupported type ") + dtype_name(y.dtype()));
  return Status::Ok();
}

Status infer_fused_conv(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(epilogue_params(ctx.node()).status());
  INGOT_RETURN_IF_ERROR(infer_base(ctx, "Conv", 3));
  return check_residual(ctx, 3);
}

Status run_fused_conv(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Tensor y, run_base(ctx, "Conv", 3));
  const int64_t channels = y.rank() >= 2 ? y.dim(1) : 1;
  const int64_t inner = y.rank() >= 2 && y.dim(0) * channels > 0 ? y.numel() / (y.dim(0) * channels) : 0;
  INGOT_RETURN_IF_ERROR(run_epilogue(ctx, y, channels, inner, nullptr, 3));
  ctx.set_output(0, std::move(y));
  return Status::Ok();
}

Status infer_fused_matmul(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(epilogue_params(ctx.node()).status());
  INGOT_RETURN_IF_ERROR(infer_base(ctx, "MatMul", 2));
  if (ctx.has_input(2)) {
    if (ctx.input_dtype(2) != ctx.input_dtype(0)) return ctx.fail("bias type differs from A's");
    if (ctx.input_has_shape(2) && ctx.input_has_shape(1)) {
      const ir::SymShape& b = ctx.input_shape(2);
      const ir::Dim& n = ctx.input_shape(1).back();
      if (b.size() != 1 || (b[0].is_static() && n.is_static() && b[0].value != n.value))
        return ctx.fail("bias " + ir::shape_to_string(b) + " must be 1-D with one value per column of B");
    }
  }
  return check_residual(ctx, 3);
}

Status run_fused_matmul(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Tensor y, run_base(ctx, "MatMul", 2));
  const int64_t channels = y.rank() >= 1 ? y.dim(-1) : 1;
  INGOT_RETURN_IF_ERROR(run_epilogue(ctx, y, channels, 1, ctx.has_input(2) ? &ctx.input(2) : nullptr, 3));
  ctx.set_output(0, std::move(y));
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// Attention: Q [..., Sq, D], K [..., Sk, D] (or [..., D, Sk] when k_transposed), V [..., Sk, Dv],
// rank 3 or 4 with equal leading dims; the additive mask broadcasts to the scores [..., Sq, Sk].

Status infer_attention(InferContext& ctx) {
  if (ctx.num_inputs() < 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
    return ctx.fail("expects inputs Q, K and V");
  const DType dt = ctx.input_dtype(0);
  if (dt != DType::kF32 && dt != DType::kF64)
    return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  for (size_t i = 1; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && ctx.input_dtype(i) != dt) return ctx.fail("inputs differ in type");
  if (ctx.node().attr_float("scale", 1.0f) <= 0) return ctx.fail("scale must be positive");
  if (!ctx.input_has_shape(0) || !ctx.input_has_shape(2)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& q = ctx.input_shape(0);
  const ir::SymShape& v = ctx.input_shape(2);
  if ((q.size() != 3 && q.size() != 4) || v.size() != q.size())
    return ctx.fail("Q and V must have the same rank, 3 or 4: " + ir::shape_to_string(q) + ", " +
                    ir::shape_to_string(v));
  ir::SymShape out(q.begin(), q.end() - 1);
  out.push_back(v.back());
  ctx.set_output(0, dt, std::move(out));
  return Status::Ok();
}

template <typename A>
Status run_attention_typed(RunContext& ctx, Tensor* y) {
  const Tensor& q = ctx.input(0);
  const Tensor& k_in = ctx.input(1);
  const Tensor& v = ctx.input(2);
  const bool kt = ctx.node().attr_int("k_transposed", 0) != 0;
  const int64_t r = q.rank();
  const int64_t sq = q.dim(-2), d = q.dim(-1), sk = v.dim(-2), dv = v.dim(-1);
  const int64_t ks = kt ? k_in.dim(-1) : k_in.dim(-2), kd = kt ? k_in.dim(-2) : k_in.dim(-1);
  if (ks != sk || kd != d) {
    return ctx.fail("K " + dims_to_string(k_in.dims()) + " does not fit Q " + dims_to_string(q.dims()) +
                    " and V " + dims_to_string(v.dims()));
  }
  ref::AttentionParams p;
  p.batch = q.dim(0);
  p.q_heads = p.kv_heads = r == 4 ? q.dim(1) : 1;
  p.q_len = sq;
  p.total_len = p.mask_len = sk;
  p.head_size = d;
  p.v_head_size = dv;
  p.scale = ctx.node().attr_float("scale", 1.0f);
  // K as [..., Sk, D].
  std::vector<A> k_buf;
  const A* k = k_in.data<A>();
  if (kt) {
    const int64_t heads = p.batch * p.q_heads;
    k_buf.resize(static_cast<size_t>(k_in.numel()));
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < d; ++i)
        for (int64_t j = 0; j < sk; ++j) k_buf[(h * sk + j) * d + i] = k[(h * d + i) * sk + j];
    k = k_buf.data();
  }
  // The mask, right-aligned to the scores and seen as [B, H, Sq, Sk] through strides (0 where it broadcasts).
  std::vector<float> mask;
  if (ctx.has_input(3)) {
    const Tensor& m = ctx.input(3);
    if (m.rank() > r)
      return ctx.fail("mask " + dims_to_string(m.dims()) + " has a higher rank than the scores");
    Dims md(static_cast<size_t>(r - m.rank()), 1);
    md.insert(md.end(), m.dims().begin(), m.dims().end());
    if (r == 3) md.insert(md.begin() + 1, 1);
    const int64_t target[4] = {p.batch, p.q_heads, sq, sk};
    int64_t stride = 1;
    for (int i = 3; i >= 0; --i) {
      if (md[i] != target[i] && md[i] != 1) {
        return ctx.fail("mask " + dims_to_string(m.dims()) + " does not broadcast to the scores");
      }
      p.mask_strides[i] = md[i] == 1 ? 0 : stride;
      stride *= md[i];
    }
    mask.resize(static_cast<size_t>(m.numel()));
    for (int64_t i = 0; i < m.numel(); ++i) mask[i] = static_cast<float>(m.data<A>()[i]);
    p.mask = mask.data();
  }
  ref::attention<A>(p, q.data<A>(), k, v.data<A>(), y->data<A>(), nullptr);
  return Status::Ok();
}

Status run_attention(RunContext& ctx) {
  const Tensor& q = ctx.input(0);
  const Tensor& k = ctx.input(1);
  const Tensor& v = ctx.input(2);
  const DType dt = q.dtype();
  if ((dt != DType::kF32 && dt != DType::kF64) || k.dtype() != dt || v.dtype() != dt ||
      (ctx.has_input(3) && ctx.input(3).dtype() != dt)) {
    return ctx.fail("Q, K, V and mask must all be float or all double");
  }
  const int64_t r = q.rank();
  if ((r != 3 && r != 4) || k.rank() != r || v.rank() != r)
    return ctx.fail("Q, K and V must have the same rank, 3 or 4");
  for (int64_t i = 0; i < r - 2; ++i) {
    if (k.dim(i) != q.dim(i) || v.dim(i) != q.dim(i)) {
      return ctx.fail("Q " + dims_to_string(q.dims()) + ", K " + dims_to_string(k.dims()) + " and V " +
                      dims_to_string(v.dims()) + " differ in their leading dims");
    }
  }
  if (ctx.node().attr_float("scale", 1.0f) <= 0) return ctx.fail("scale must be positive");
  Dims out(q.dims().begin(), q.dims().end() - 1);
  out.push_back(v.dim(-1));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, dt, out));
  return dt == DType::kF32 ? run_attention_typed<float>(ctx, y) : run_attention_typed<double>(ctx, y);
}

}  // namespace

INGOT_REGISTER_OP_DOMAIN("ingot", FusedConv, "FusedConv", .infer = infer_fused_conv, .run = run_fused_conv);
INGOT_REGISTER_OP_DOMAIN("ingot", FusedMatMul, "FusedMatMul", .infer = infer_fused_matmul,
                         .run = run_fused_matmul);
INGOT_REGISTER_OP_DOMAIN("ingot", IngotAttention, "Attention", .infer = infer_attention,
                         .run = run_attention);

}  // namespace ingot::ops
