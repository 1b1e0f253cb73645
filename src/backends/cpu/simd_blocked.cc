// What ingot's SIMD convolution tactics (simd_winograd.cc, simd_depthwise.cc) share: the blocked layouts
// the layout pass agrees on, the transposes at a layer's boundary where a neighbour keeps a tensor plain,
// and the fused activation.
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"

namespace ingot::backends::cpu {

Expected<BlockedLayouts> blocked_layouts(const ir::Node& node, int64_t width) {
  const std::string want = "nChw" + std::to_string(width) + "c";
  BlockedLayouts b;
  for (auto [attr, flag] : {std::pair{kSrcLayout, &b.src}, {kDstLayout, &b.dst}, {kZLayout, &b.z}}) {
    if (!node.has_attr(attr)) continue;
    const std::string got = node.attr_string(attr, "");
    if (got != want) return unsupported(std::string(attr) + " '" + got + "' is not " + want);
    *flag = true;
  }
  return b;
}

namespace {

// oneDNN's reorder between plain NCHW and nChw<width>c (its JIT kernels; the primitive cache keeps the
// primitive from one run to the next).
Status reorder_blocked(int64_t width, const float* from, float* to, const Dims& nchw, bool to_blocked) {
  using dnnl::memory;
  try {
    const dnnl::engine& eng = onednn_engine();
    const memory::desc plain(to_dnnl_dims(nchw), memory::data_type::f32, memory::format_tag::nchw);
    const memory::desc blocked(to_dnnl_dims(nchw), memory::data_type::f32,
                               width == 16 ? memory::format_tag::nChw16c : memory::format_tag::nChw8c);
    memory src(to_blocked ? plain : blocked, eng, const_cast<float*>(from)),
        dst(to_blocked ? blocked : plain, eng, to);
    dnnl::stream s(eng);
    dnnl::reorder(src, dst).execute(s, src, dst);
    s.wait();
  } catch (const dnnl::error& e) {
    return internal_error(std::string("oneDNN reorder of ") + dims_to_string(nchw) + ": " + e.what());
  }
  return Status::Ok();
}

}  // namespace

Status block_planes(int64_t width, const float* plain, float* blocked, const Dims& nchw) {
  return reorder_blocked(width, plain, blocked, nchw, true);
}

Status unblock_planes(int64_t width, const float* blocked, float* plain, const Dims& nchw) {
  return reorder_blocked(width, blocked, plain, nchw, false);
}

Expected<SimdActivation> simd_activation(const ir::Node& node) {
  SimdActivation a;
  const std::string name = node.attr_string("activation", "");
  a.alpha = node.attr_float("activation_alpha", 0);
  a.beta = node.attr_float("activation_beta", 0);
  if (name.empty())
    a.act = kActNone;
  else if (name == "Relu")
    a.act = kActRelu;
  else if (name == "Clip")
    a.act = kActClip;
  else if (name == "Silu")
    a.act = kActSilu;
  else if (name == "Sigmoid")
    a.act = kActSigmoid;
  else
    return unsupported("activation '" + name + "' is not ReLU, Clip, SiLU or Sigmoid");
  return a;
}

Expected<SimdConvLayer> simd_conv_layer(const LayerDesc& d, const ir::Node& node) {
  const engine::PlanLayer& l = d.layer;
  const bool fused = l.domain == "ingot" && l.op_type == "FusedConv";
  if (!(l.domain.empty() && l.op_type == "Conv") && !fused) return unsupported("not a Conv");
  SimdConvLayer c;
  c.x = d.input(0);
  c.w = d.input(1);
  c.b = d.input(2);
  c.z = fused ? d.input(3) : nullptr;
  if (!c.x || !c.w) return unsupported("X or W is missing");
  for (const engine::PlanTensor* t : {c.x, c.w, c.b, c.z})
    if (t && t->dtype != DType::kF32) return unsupported("not float32");
  if (c.w->kind != engine::TensorKind::kWeight) return unsupported("W is not a constant");
  if (c.x->dims.size() != 4 || c.w->dims.size() != 4) return unsupported("not a 2-D convolution");
  if (c.b && (c.b->dims.size() != 1 || c.b->dims[0] != c.w->dims[0])) return unsupported("B is not [K]");
  if (fused) {
    INGOT_ASSIGN_OR_RETURN(c.act, simd_activation(node));
  }
  if (node.attr_ints("dilations", {1, 1}) != std::vector<int64_t>{1, 1}) return unsupported("dilated");
  INGOT_ASSIGN_OR_RETURN(c.window, ops::read_window_attrs(node, 2, {c.w->dims[2], c.w->dims[3]}));
  const std::string layouts = check_layouts(node, *c.x);
  if (!layouts.empty() && (node.has_attr(kSrcLayout) || node.has_attr(kDstLayout) || node.has_attr(kZLayout)))
    return unsupported(layouts);
  if (!c.z && node.has_attr(kZLayout)) return unsupported("a residual layout without a residual");
  return c;
}

Status check_simd_conv_channels(std::initializer_list<int64_t> channels) {
  for (int64_t c : channels)
    if (c % kSimdConvChannelMultiple != 0)
      return unsupported("channels are not a multiple of " + std::to_string(kSimdConvChannelMultiple));
  return Status::Ok();
}

Expected<Dims> simd_conv_output(ops::RunContext& ctx, int64_t C, int64_t K,
                                const std::vector<int64_t>& kernel, ops::WindowAttrs* window) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::kF32 || x.rank() != 4 || x.dim(1) != C)
    return ctx.fail("X must be float32 [N, " + std::to_string(C) + ", H, W], got " +
                    dims_to_string(x.dims()));
  INGOT_ASSIGN_OR_RETURN(*window, ops::read_window_attrs(ctx.node(), 2, kernel));
  INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> out,
                         ops::window_output_sizes(*window, {x.dim(2), x.dim(3)}, ctx.node()));
  return Dims{x.dim(0), K, out[0], out[1]};
}

Expected<SimdConvRun> SimdConvRun::begin(ops::RunContext& ctx, const BlockedLayouts& layouts, int64_t width,
                                         const Dims& yd, bool has_bias, bool residual) {
  SimdConvRun r;
  r.layouts_ = layouts;
  r.width_ = width;
  const auto bytes = [](int64_t floats) { return static_cast<size_t>(floats) * sizeof(float); };
  if (has_bias) {
    const Tensor& b = ctx.input(2);
    if (b.dtype() != DType::kF32 || b.numel() != yd[1]) return ctx.fail("B does not have K values");
    r.bias = b.data<float>();
  }
  const Tensor* z = residual ? &ctx.input(3) : nullptr;
  if (z && (z->dtype() != DType::kF32 || z->dims() != yd))
    return ctx.fail("residual Z " + dims_to_string(z->dims()) + " does not match the output " +
                    dims_to_string(yd));
  INGOT_ASSIGN_OR_RETURN(r.y, ctx.alloc_output(0, DType::kF32, yd));
  const Tensor& x = ctx.input(0);
  r.xb = x.data<float>();
  r.zb = z ? z->data<float>() : nullptr;
  r.yb = r.y->data<float>();
  if (x.numel() == 0 || r.y->numel() == 0) return r;  // nothing to compute: the caller returns
  if (!layouts.src) {
    auto* s = static_cast<float*>(thread_scratch(0, bytes(x.numel())));
    INGOT_RETURN_IF_ERROR(block_planes(width, x.data<float>(), s, x.dims()));
    r.xb = s;
  }
  if (z && !layouts.z) {
    auto* s = static_cast<float*>(thread_scratch(kExtraScratchSlot, bytes(z->numel())));
    INGOT_RETURN_IF_ERROR(block_planes(width, z->data<float>(), s, yd));
    r.zb = s;
  }
  r.yb = layouts.dst ? r.y->data<float>() : static_cast<float*>(thread_scratch(3, bytes(r.y->numel())));
  return r;
}

Status SimdConvRun::finish() const {
  return layouts_.dst || y->numel() == 0 ? Status::Ok()
                                         : unblock_planes(width_, yb, y->data<float>(), y->dims());
}

}  // namespace ingot::backends::cpu
