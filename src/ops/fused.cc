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
// With views (fold_attention_views), Q, K and V are read from their inputs through q_view / k_view /
// v_view and the output [..., Sq, Dv] is written through y_view into a tensor of shape y_shape (see
// ref::attention_view for the attributes' form). An operand without its attribute is its input as is.

constexpr const auto& kViewAttrs = ref::kAttentionViewAttrs;

bool has_views(const ir::Node& n) {
  for (const char* a : kViewAttrs)
    if (n.has_attr(a)) return true;
  return false;
}

// The logical shape of operand i (0..2) from its view attribute, else its input's shape.
std::optional<ir::SymShape> operand_shape(InferContext& ctx, size_t i) {
  const std::vector<int64_t> view = ctx.node().attr_ints(kViewAttrs[i]);
  if (!view.empty())
    return ir::SymShape(view.begin(), view.begin() + static_cast<std::ptrdiff_t>(view.size() / 2));
  if (!ctx.input_has_shape(i)) return std::nullopt;
  return ctx.input_shape(i);
}

Status infer_attention(InferContext& ctx) {
  if (ctx.num_inputs() < 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2))
    return ctx.fail("expects inputs Q, K and V");
  const DType dt = ctx.input_dtype(0);
  if (dt != DType::kF32 && dt != DType::kF64)
    return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  for (size_t i = 1; i < ctx.num_inputs(); ++i)
    if (ctx.has_input(i) && ctx.input_dtype(i) != dt) return ctx.fail("inputs differ in type");
  if (ctx.node().attr_float("scale", 1.0f) <= 0) return ctx.fail("scale must be positive");
  if (has_views(ctx.node()) && ctx.node().attr_int("k_transposed", 0) != 0)
    return ctx.fail("views need K as [..., Sk, D] (k_transposed = 0)");
  for (size_t i = 0; i < 4; ++i) {
    const size_t n = ctx.node().attr_ints(kViewAttrs[i]).size();
    if (n && n != 6 && n != 8) return ctx.fail(std::string(kViewAttrs[i]) + " must hold 6 or 8 values");
  }
  if (ctx.node().has_attr("y_shape")) {
    const std::vector<int64_t> ys = ctx.node().attr_ints("y_shape");
    ctx.set_output(0, dt, ir::SymShape(ys.begin(), ys.end()));
    return Status::Ok();
  }
  const auto q = operand_shape(ctx, 0), v = operand_shape(ctx, 2);
  if (!q || !v) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  if ((q->size() != 3 && q->size() != 4) || v->size() != q->size())
    return ctx.fail("Q and V must have the same rank, 3 or 4: " + ir::shape_to_string(*q) + ", " +
                    ir::shape_to_string(*v));
  ir::SymShape out(q->begin(), q->end() - 1);
  out.push_back(v->back());
  ctx.set_output(0, dt, std::move(out));
  return Status::Ok();
}

// softmax(scale * q k^T + mask) v over contiguous [B, H, S, D] buffers (k [B, H, D, Sk] when kt); the
// mask is right-aligned to the scores of rank r.
template <typename A>
Status attend(RunContext& ctx, int64_t r, const ref::AttentionView& shape, int64_t sk, int64_t dv, const A* q,
              const A* k_in, bool kt, const A* v, A* y) {
  ref::AttentionParams p;
  p.batch = shape.dims[0];
  p.q_heads = p.kv_heads = shape.dims[1];
  p.q_len = shape.dims[2];
  p.total_len = p.mask_len = sk;
  p.head_size = shape.dims[3];
  p.v_head_size = dv;
  p.scale = ctx.node().attr_float("scale", 1.0f);
  const int64_t sq = p.q_len, d = p.head_size;
  // K as [..., Sk, D].
  std::vector<A> k_buf;
  const A* k = k_in;
  if (kt) {
    const int64_t heads = p.batch * p.q_heads;
    k_buf.resize(static_cast<size_t>(heads * sk * d));
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
  ref::attention<A>(p, q, k, v, y, nullptr);
  return Status::Ok();
}

template <typename A>
Status run_attention_typed(RunContext& ctx, Tensor* y) {
  const Tensor& q = ctx.input(0);
  const Tensor& k_in = ctx.input(1);
  const Tensor& v = ctx.input(2);
  const bool kt = ctx.node().attr_int("k_transposed", 0) != 0;
  const int64_t r = q.rank();
  const int64_t d = q.dim(-1), sk = v.dim(-2), dv = v.dim(-1);
  const int64_t ks = kt ? k_in.dim(-1) : k_in.dim(-2), kd = kt ? k_in.dim(-2) : k_in.dim(-1);
  if (ks != sk || kd != d) {
    return ctx.fail("K " + dims_to_string(k_in.dims()) + " does not fit Q " + dims_to_string(q.dims()) +
                    " and V " + dims_to_string(v.dims()));
  }
  ref::AttentionView shape;
  if (std::string why = ref::attention_view({}, q.dims(), q.numel(), &shape); !why.empty())
    return ctx.fail(why);
  return attend<A>(ctx, r, shape, sk, dv, q.data<A>(), k_in.data<A>(), kt, v.data<A>(), y->data<A>());
}

// The view form: Q, K and V gathered into contiguous buffers, the output scattered through y_view.
template <typename A>
Status run_attention_views(RunContext& ctx) {
  const ir::Node& n = ctx.node();
  if (n.attr_int("k_transposed", 0) != 0) return ctx.fail("views need K as [..., Sk, D] (k_transposed = 0)");
  ref::AttentionView view[4];
  size_t rank = 0;
  for (size_t i = 0; i < 3; ++i) {
    const Tensor& t = ctx.input(i);
    const std::vector<int64_t> a = n.attr_ints(kViewAttrs[i]);
    if (std::string why = ref::attention_view(a, t.dims(), t.numel(), &view[i]); !why.empty())
      return ctx.fail(std::string(kViewAttrs[i]) + ": " + why);
    const size_t ri = a.empty() ? t.dims().size() : a.size() / 2;
    if (i && ri != rank) return ctx.fail("Q, K and V must have the same rank, 3 or 4");
    rank = ri;
  }
  const ref::AttentionView &q = view[0], &k = view[1], &v = view[2];
  if (k.dims[0] != q.dims[0] || v.dims[0] != q.dims[0] || k.dims[1] != q.dims[1] || v.dims[1] != q.dims[1] ||
      k.dims[2] != v.dims[2] || k.dims[3] != q.dims[3])
    return ctx.fail("the views of Q, K and V do not fit each other");
  const int64_t sk = k.dims[2], dv = v.dims[3];
  // The logical output [..., Sq, Dv] and the tensor it is written into.
  Dims logical{q.dims[0], q.dims[1], q.dims[2], dv};
  if (rank == 3) logical.erase(logical.begin() + 1);
  Dims out = logical;
  if (n.has_attr("y_shape")) out = n.attr_ints("y_shape");
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, ctx.input(0).dtype(), out));
  const std::vector<int64_t> ya = n.attr_ints("y_view");
  if (std::string why = ref::attention_view(ya, logical, y->numel(), &view[3]); !why.empty())
    return ctx.fail(std::string("y_view: ") + why);
  if (!ya.empty() && Dims(ya.begin(), ya.begin() + static_cast<std::ptrdiff_t>(ya.size() / 2)) != logical)
    return ctx.fail("y_view's dims are not the output's " + dims_to_string(logical));
  std::vector<A> buf[4];
  for (size_t i = 0; i < 4; ++i) {
    buf[i].resize(static_cast<size_t>(view[i].dims[0] * view[i].dims[1] * view[i].dims[2] * view[i].dims[3]));
    if (i < 3) ref::gather_view(view[i], ctx.input(i).data<A>(), buf[i].data());
  }
  INGOT_RETURN_IF_ERROR(attend<A>(ctx, static_cast<int64_t>(rank), q, sk, dv, buf[0].data(), buf[1].data(),
                                  false, buf[2].data(), buf[3].data()));
  ref::scatter_view(view[3], buf[3].data(), y->data<A>());
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
  if (ctx.node().attr_float("scale", 1.0f) <= 0) return ctx.fail("scale must be positive");
  if (has_views(ctx.node()))
    return dt == DType::kF32 ? run_attention_views<float>(ctx) : run_attention_views<double>(ctx);
  const int64_t r = q.rank();
  if ((r != 3 && r != 4) || k.rank() != r || v.rank() != r)
    return ctx.fail("Q, K and V must have the same rank, 3 or 4");
  for (int64_t i = 0; i < r - 2; ++i) {
    if (k.dim(i) != q.dim(i) || v.dim(i) != q.dim(i)) {
      return ctx.fail("Q " + dims_to_string(q.dims()) + ", K " + dims_to_string(k.dims()) + " and V " +
                      dims_to_string(v.dims()) + " differ in their leading dims");
    }
  }
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
