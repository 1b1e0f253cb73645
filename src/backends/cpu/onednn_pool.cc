// cpu.onednn.pool: MaxPool (without Indices), AveragePool, GlobalAveragePool and GlobalMaxPool (fp32,
// 1-3 spatial dims) through dnnl::pooling_v2_forward. X comes in the plan's layout (plain, or blocked where
// the layout pass agreed it; plain 2-D X is reordered into blocked channels, where oneDNN's fast kernels
// are); Y is written in oneDNN's choice and reordered when the plan's differs.
#include <unordered_map>

#include "backends/cpu/onednn_common.h"
#include "core/platform.h"
#include "ops/conv_pool_common.h"

namespace ingot::backends::cpu {
namespace {

using dnnl::memory;

enum class PoolKind { kMax, kAverage, kGlobalAverage, kGlobalMax };

bool pool_kind(const engine::PlanLayer& l, PoolKind* k) {
  if (!l.domain.empty()) return false;
  if (l.op_type == "MaxPool")
    *k = PoolKind::kMax;
  else if (l.op_type == "AveragePool")
    *k = PoolKind::kAverage;
  else if (l.op_type == "GlobalAveragePool")
    *k = PoolKind::kGlobalAverage;
  else if (l.op_type == "GlobalMaxPool")
    *k = PoolKind::kGlobalMax;
  else
    return false;
  return true;
}

struct PoolGeometry {
  Dims y;
  memory::dims strides, kernel, dilation, pad_l, pad_r;
  dnnl::algorithm alg = dnnl::algorithm::pooling_max;
};

Expected<PoolGeometry> pool_geometry(const ir::Node& node, PoolKind kind, const Dims& x) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() < 3 || x.size() > 5) return fail("X " + dims_to_string(x) + " must have 1 to 3 spatial dims");
  const size_t nsp = x.size() - 2;
  PoolGeometry g;
  g.y.assign(x.begin(), x.begin() + 2);
  if (kind == PoolKind::kGlobalAverage || kind == PoolKind::kGlobalMax) {
    g.alg = kind == PoolKind::kGlobalMax ? dnnl::algorithm::pooling_max
                                         : dnnl::algorithm::pooling_avg_exclude_padding;
    for (size_t d = 0; d < nsp; ++d) {
      g.y.push_back(1);
      g.kernel.push_back(x[d + 2]);
      g.strides.push_back(1);
      g.dilation.push_back(0);
      g.pad_l.push_back(0);
      g.pad_r.push_back(0);
    }
    return g;
  }
  INGOT_ASSIGN_OR_RETURN(ops::WindowAttrs a, ops::read_window_attrs(node, nsp, {}));
  const std::vector<int64_t> in(x.begin() + 2, x.end());
  INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> out, ops::window_output_sizes(a, in, node));
  const bool include_pad = node.attr_int("count_include_pad", 0) != 0;
  if (kind == PoolKind::kAverage) {
    if (include_pad && a.ceil_mode) return fail("count_include_pad with ceil_mode");
    if (a.dilations != std::vector<int64_t>(nsp, 1)) return fail("dilated AveragePool");
    g.alg = include_pad ? dnnl::algorithm::pooling_avg_include_padding
                        : dnnl::algorithm::pooling_avg_exclude_padding;
  }
  for (size_t d = 0; d < nsp; ++d) {
    g.y.push_back(out[d]);
    g.kernel.push_back(a.kernel[d]);
    g.strides.push_back(a.strides[d]);
    g.dilation.push_back(a.dilations[d] - 1);
    g.pad_l.push_back(a.pads[d]);
    // ceil_mode's last window may reach past the end pad: oneDNN wants that reach as padding.
    g.pad_r.push_back(
        std::max(a.pads[nsp + d], (out[d] - 1) * a.strides[d] + a.effective_kernel(d) - in[d] - a.pads[d]));
  }
  return g;
}

struct PoolInstance {
  Dims y;
  dnnl::pooling_v2_forward prim;
  memory::desc src_md, dst_md, user_src_md, user_dst_md, scratch_md;
  bool reorder_src = false, reorder_dst = false;
  dnnl::reorder src_in, dst_out;
};

Expected<std::unique_ptr<PoolInstance>> make_instance(const ir::Node& node, PoolKind kind, const Dims& x,
                                                      memory::format_tag src_tag,
                                                      memory::format_tag dst_tag) {
  INGOT_ASSIGN_OR_RETURN(PoolGeometry g, pool_geometry(node, kind, x));
  auto inst = std::make_unique<PoolInstance>();
  inst->y = g.y;
  const dnnl::engine& eng = onednn_engine();
  try {
    inst->user_src_md = f32_desc_in(x, src_tag);
    inst->user_dst_md = f32_desc_in(g.y, dst_tag);
    const memory::desc dst_any(to_dnnl_dims(g.y), memory::data_type::f32, memory::format_tag::any);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    auto make_pd = [&](const memory::desc& src) {
      const dnnl::pooling_v2_forward::desc desc(dnnl::prop_kind::forward_inference, g.alg, src, dst_any,
                                                g.strides, g.kernel, g.dilation, g.pad_l, g.pad_r);
      return dnnl::pooling_v2_forward::primitive_desc(desc, attr, eng, /*allow_empty=*/true);
    };
    // oneDNN's fast pooling kernels want blocked channels: plain 2-D input is reordered into them.
    dnnl::pooling_v2_forward::primitive_desc pd;
    if (src_tag == memory::format_tag::undef && x.size() == 4)
      pd = make_pd(
          f32_desc_in(x, cpu_features().avx512f ? memory::format_tag::nChw16c : memory::format_tag::nChw8c));
    if (!pd) pd = make_pd(inst->user_src_md);
    if (!pd) return onednn_failure(node.name, "no pooling for X " + dims_to_string(x));
    inst->src_md = pd.src_desc();
    inst->reorder_src = inst->src_md != inst->user_src_md;
    if (inst->reorder_src)
      inst->src_in = dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->user_src_md, eng, inst->src_md));
    inst->prim = dnnl::pooling_v2_forward(pd);
    inst->dst_md = pd.dst_desc();
    inst->scratch_md = pd.scratchpad_desc();
    inst->reorder_dst = inst->dst_md != inst->user_dst_md;
    if (inst->reorder_dst)
      inst->dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->dst_md, eng, inst->user_dst_md));
  } catch (const dnnl::error& e) {
    return onednn_failure(node.name, "no pooling for X " + dims_to_string(x) + ": " + e.what());
  }
  return inst;
}

class PoolKernel : public Kernel {
 public:
  PoolKernel(PoolKind kind, memory::format_tag src, memory::format_tag dst)
      : kind_(kind), src_(src), dst_(dst) {}

  Status prepare_static(const ir::Node& node, const Dims& x) {
    INGOT_ASSIGN_OR_RETURN(static_, make_instance(node, kind_, x, src_, dst_));
    static_x_ = x;
    return Status::Ok();
  }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kF32) return ctx.fail("X must be float32");
    const PoolInstance* inst = static_.get();
    if (!inst || x.dims() != static_x_) {
      auto made =
          dynamic_.get(x.dims(), [&] { return make_instance(ctx.node(), kind_, x.dims(), src_, dst_); });
      if (!made.ok()) return ctx.fail(made.status().message());
      inst = *made;
    }
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, inst->y));
    if (y->numel() == 0) return Status::Ok();
    try {
      const dnnl::engine& eng = onednn_engine();
      dnnl::stream s(eng);
      memory user_dst(inst->user_dst_md, eng, y->raw());
      memory dst = inst->reorder_dst ? memory(inst->dst_md, eng, thread_scratch(1, inst->dst_md.get_size()))
                                     : user_dst;
      memory src(inst->user_src_md, eng, const_cast<void*>(x.raw()));
      if (inst->reorder_src) {
        memory blocked(inst->src_md, eng, thread_scratch(0, inst->src_md.get_size()));
        inst->src_in.execute(s, src, blocked);
        src = blocked;
      }
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, src}, {DNNL_ARG_DST, dst}};
      add_scratchpad(args, inst->scratch_md);
      inst->prim.execute(s, args);
      if (inst->reorder_dst) inst->dst_out.execute(s, dst, user_dst);
      s.wait();
    } catch (const dnnl::error& e) {
      return ctx.fail(std::string("oneDNN: ") + e.what());
    }
    return Status::Ok();
  }

 private:
  PoolKind kind_;
  memory::format_tag src_, dst_;
  std::unique_ptr<PoolInstance> static_;
  Dims static_x_;
  ShapeCache<PoolInstance> dynamic_;
};

std::string pool_supports(const LayerDesc& d) {
  PoolKind kind;
  if (!pool_kind(d.layer, &kind)) return "not a pooling layer";
  if (d.layer.inputs.size() != 1) return "expects one input";
  if (d.output(1)) return "MaxPool's Indices output";
  const engine::PlanTensor *x = d.input(0), *y = d.output(0);
  for (auto [t, what] : {std::pair{x, "X"}, {y, "the output"}}) {
    const std::string why = check_f32(t, what);
    if (!why.empty()) return why;
  }
  if (x->dims.size() < 3 || x->dims.size() > 5) return "only 1 to 3 spatial dims";
  const LayerNode ln(d.layer, d.tensors);
  if (ln.node.attr_int("storage_order", 0) != 0) return "storage_order";
  const std::string layouts = check_layouts(ln.node, *x);
  if (!layouts.empty()) return layouts;
  if (dims_static(x->dims)) {
    auto g = pool_geometry(ln.node, kind, x->dims);
    return g.ok() ? "" : g.status().message();
  }
  if (kind == PoolKind::kMax || kind == PoolKind::kAverage) {
    auto a = ops::read_window_attrs(ln.node, x->dims.size() - 2, {});
    if (!a.ok()) return a.status().message();
  }
  return "";
}

Expected<std::unique_ptr<Kernel>> pool_prepare(const LayerDesc& d) {
  const std::string why = pool_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  PoolKind kind;
  pool_kind(d.layer, &kind);
  const LayerNode ln(d.layer, d.tensors);
  auto k =
      std::make_unique<PoolKernel>(kind, layout_tag(ln.node, kSrcLayout), layout_tag(ln.node, kDstLayout));
  if (dims_static(d.input(0)->dims)) INGOT_RETURN_IF_ERROR(k->prepare_static(ln.node, d.input(0)->dims));
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

INGOT_REGISTER_TACTIC(cpu_onednn_pool, .id = kPoolTactic, .supports = pool_supports, .prepare = pool_prepare);

}  // namespace ingot::backends::cpu
