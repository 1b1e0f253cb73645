// cpu.onednn.conv / cpu.onednn.conv.nchw: Conv and ingot.FusedConv (fp32, 1-3 spatial dims, grouped and
// depthwise included) through dnnl::convolution_forward, the bias in the primitive and the fused
// epilogue as post-ops (sum for the residual Z, eltwise for the activation). Weights are reordered
// once into the primitive's preferred format. Activations are plain NC[D]HW in the plan: the first
// tactic lets oneDNN pick its formats and reorders the input and output at each run; the `.nchw` one
// makes oneDNN work on the plain layout directly. The tuner keeps whichever is faster per layer.
// cpu.onednn.conv.bf16 runs the layers built in bf16: X is reordered into bfloat16 (in oneDNN's format) at
// each run, W once, and the products accumulate in fp32 into an fp32 output, post-ops as in fp32; only where
// oneDNN has a bf16 kernel for this CPU (AVX512-BF16 or AMX), not its reference implementation. It takes no
// part in the blocked-layout agreements: with its formats left to oneDNN, an AMX CPU gets the channels-last
// AMX kernels (in nChw16c oneDNN falls back to its slower AVX512-BF16 ones).
//
// Packed weights: once the layouts are settled, a plan pass (pack_conv_weights) stores each static-shape
// layer's W in the engine already in the primitive's format, as u8[bytes] with W's dims in the attribute
// kPackedWeightDims; loading then wraps the mapped bytes instead of reordering them (resnet50: 97 MiB).
#include <algorithm>
#include <optional>

#include <xxhash.h>
#include <cstring>
#include <unordered_map>

#include "backends/cpu/onednn_conv.h"
#include "core/platform.h"
#include "ingot/threading.h"
#include "ops/conv_pool_common.h"

namespace ingot::backends::cpu {

using dnnl::memory;

bool is_conv(const engine::PlanLayer& l) {
  return (l.domain.empty() && l.op_type == "Conv") || (l.domain == "ingot" && l.op_type == "FusedConv");
}

Expected<ConvGeometry> conv_geometry(const ir::Node& node, const Dims& x, const Dims& w) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  if (x.size() != w.size() || x.size() < 3)
    return fail("X " + dims_to_string(x) + " and W " + dims_to_string(w) + " do not make a convolution");
  const size_t nsp = x.size() - 2;
  // oneDNN's kernels take extents as int: empty and larger dims are refused here rather than crash there.
  auto positive = [](const Dims& d) {
    return std::all_of(d.begin(), d.end(), [](int64_t v) { return v >= 1 && v <= INT32_MAX; });
  };
  if (!positive(x) || !positive(w))
    return fail("X " + dims_to_string(x) + " or W " + dims_to_string(w) +
                " has an empty, unknown or too large dim");
  const int64_t group = node.attr_int("group", 1);
  if (group < 1 || w[0] % group != 0 || x[1] != w[1] * group) {
    return fail("X " + dims_to_string(x) + ", W " + dims_to_string(w) + " and group " +
                std::to_string(group) + " do not agree");
  }
  const std::vector<int64_t> kernel(w.begin() + 2, w.end());
  const std::vector<int64_t> attr_kernel = node.attr_ints("kernel_shape");
  if (!attr_kernel.empty() && attr_kernel != kernel)
    return fail("kernel_shape does not match W " + dims_to_string(w));
  INGOT_ASSIGN_OR_RETURN(ops::WindowAttrs a, ops::read_window_attrs(node, nsp, kernel));
  INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> out,
                         ops::window_output_sizes(a, std::vector<int64_t>(x.begin() + 2, x.end()), node));
  ConvGeometry g;
  g.y = {x[0], w[0]};
  g.y.insert(g.y.end(), out.begin(), out.end());
  if (!positive(g.y)) return fail("output " + dims_to_string(g.y) + " is empty or too large");
  if (group > 1) {
    g.weights = {group, w[0] / group};
    g.weights.insert(g.weights.end(), w.begin() + 1, w.end());
  } else {
    g.weights = to_dnnl_dims(w);
  }
  for (size_t d = 0; d < nsp; ++d) {
    g.strides.push_back(a.strides[d]);
    g.dilates.push_back(a.dilations[d] - 1);
    g.pad_l.push_back(a.pads[d]);
    g.pad_r.push_back(a.pads[nsp + d]);
  }
  return g;
}

namespace {

using engine::PlanTensor;

constexpr const char* kPackedWeightDims = "ingot_packed_w_dims";
// The packed format: a hash of oneDNN's memory descriptor, and the thread count it was chosen under (oneDNN
// picks some kernels, and so their weights format, by the number of threads).
constexpr const char* kPackedWeightFormat = "ingot_packed_w_format";
constexpr const char* kPackedWeightThreads = "ingot_packed_w_threads";

int64_t format_hash(const memory::desc& md) {
  return static_cast<int64_t>(XXH3_64bits(&md.data, sizeof md.data) & 0x7fffffffffffffffULL);
}

// W as a layer holds it: plain float [O, I/G, k...], or packed in the primitive's format (dims: the plain
// ones).
struct ConvWeights {
  Tensor data;
  Dims dims;
  bool packed = false;
  int64_t format = 0;   // packed: format_hash of the descriptor it was packed in
  int64_t threads = 0;  // packed: the thread count that descriptor was chosen under
};

// W's dims, from the packed attribute where there is one; nullptr when that attribute is malformed.
const Dims* weight_dims(const LayerDesc& d) {
  auto it = d.layer.attrs.find(kPackedWeightDims);
  if (it == d.layer.attrs.end()) return &d.input(1)->dims;
  return it->second.kind == ir::Attribute::Kind::kInts ? &it->second.ints : nullptr;
}

ConvWeights weights_of(const LayerDesc& d) {
  ConvWeights w{d.input(1)->weight, *weight_dims(d), d.layer.attrs.count(kPackedWeightDims) > 0};
  auto attr = [&](const char* name) {
    auto it = d.layer.attrs.find(name);
    return it != d.layer.attrs.end() && it->second.kind == ir::Attribute::Kind::kInt ? it->second.i : 0;
  };
  w.format = attr(kPackedWeightFormat);
  w.threads = attr(kPackedWeightThreads);
  return w;
}

// The primitive for one input shape, its packed weights and the reorders at its boundaries.
struct ConvInstance {
  Dims y;
  dnnl::convolution_forward prim;
  // user_*: the layouts X, Y and Z have in the plan (plain, or blocked where assign_conv_layouts agreed it).
  memory::desc src_md, dst_md, user_src_md, user_dst_md, user_z_md, bias_md, scratch_md;
  bool reorder_src = false, reorder_dst = false, reorder_z = false;
  dnnl::reorder src_in, dst_out, z_in;  // user -> src format, dst format -> user, user Z -> dst format
  memory weights;
  std::string impl;         // oneDNN's name of the implementation it picked ("jit:avx512_core", "ref:any")
  int weights_threads = 0;  // the thread count the primitive (and so the weights format) was chosen under
};

struct ConvConfig {
  bool blocked = true;  // oneDNN's formats (reordered at the boundaries) rather than plain NC[D]HW
  // The plan's layouts of X, Y and Z: undef for plain NC[D]HW, else the blocked layout that this layer
  // and its neighbours agreed on (the attributes kSrcLayout, kDstLayout and kZLayout).
  memory::format_tag src = memory::format_tag::undef, dst = memory::format_tag::undef,
                     z = memory::format_tag::undef;
  bool has_bias = false;
  bool residual = false;
  bool bf16 = false;  // X and W in bfloat16 (kConvBf16Tactic)
};

Expected<std::unique_ptr<ConvInstance>> make_instance(const ir::Node& node, const Dims& x,
                                                      const ConvWeights& w, const ConvConfig& cfg) {
  INGOT_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(node, x, w.dims));
  auto inst = std::make_unique<ConvInstance>();
  inst->y = g.y;
  const dnnl::engine& eng = onednn_engine();
  const auto f32 = memory::data_type::f32;
  try {
    inst->user_src_md = f32_desc_in(x, cfg.src);
    inst->user_dst_md = f32_desc_in(g.y, cfg.dst);
    inst->user_z_md = f32_desc_in(g.y, cfg.z);
    const memory::desc user_w_md(g.weights, f32, plain_tag(g.weights.size()));
    const auto compute = cfg.bf16 ? memory::data_type::bf16 : f32;
    const memory::desc src_md = cfg.bf16 || (cfg.blocked && cfg.src == memory::format_tag::undef)
                                    ? memory::desc(to_dnnl_dims(x), compute, memory::format_tag::any)
                                    : inst->user_src_md;
    const memory::desc dst_md = cfg.blocked && cfg.dst == memory::format_tag::undef
                                    ? memory::desc(to_dnnl_dims(g.y), f32, memory::format_tag::any)
                                    : inst->user_dst_md;
    const memory::desc w_any(g.weights, compute, memory::format_tag::any);
    if (cfg.has_bias) inst->bias_md = memory::desc({w.dims[0]}, f32, memory::format_tag::a);
    const dnnl::convolution_forward::desc desc(dnnl::prop_kind::forward_inference,
                                               dnnl::algorithm::convolution_direct, src_md, w_any,
                                               inst->bias_md, dst_md, g.strides, g.dilates, g.pad_l, g.pad_r);
    dnnl::post_ops ops;
    if (cfg.residual) ops.append_sum(1.f);
    const std::string why = append_activation(node, ops);
    if (!why.empty()) return onednn_failure(node.name, why);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    attr.set_post_ops(ops);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
    inst->impl = pd.impl_info_str();
    if (cfg.bf16 && inst->impl.rfind("ref", 0) == 0)
      return unsupported("layer '" + node.name +
                         "': oneDNN has no bf16 convolution kernel for this CPU (only " + inst->impl + ")");
    inst->weights_threads = num_threads();
    inst->prim = dnnl::convolution_forward(pd);
    inst->src_md = pd.src_desc();
    inst->dst_md = pd.dst_desc();
    inst->scratch_md = pd.scratchpad_desc();
    inst->reorder_src = inst->src_md != inst->user_src_md;
    inst->reorder_dst = inst->dst_md != inst->user_dst_md;
    if (inst->reorder_src)
      inst->src_in = dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->user_src_md, eng, inst->src_md));
    if (inst->reorder_dst)
      inst->dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->dst_md, eng, inst->user_dst_md));
    inst->reorder_z = cfg.residual && inst->user_z_md != inst->dst_md;
    if (inst->reorder_z)
      inst->z_in = dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->user_z_md, eng, inst->dst_md));
    if (w.packed && format_hash(pd.weights_desc()) == w.format &&
        pd.weights_desc().get_size() == w.data.nbytes()) {
      inst->weights = memory(pd.weights_desc(), eng, const_cast<void*>(w.data.raw()));  // as packed
    } else if (w.packed) {
      // Another thread count than the build's made oneDNN pick another kernel: the packed format is the one
      // it picks under the build's count (never a descriptor read from the file), reordered into this one.
      const int now = num_threads();
      set_num_threads(static_cast<int>(std::clamp<int64_t>(w.threads, 1, 4096)));
      std::optional<dnnl::convolution_forward::primitive_desc> then;
      try {
        then.emplace(desc, attr, eng);
      } catch (const dnnl::error&) {
      }
      set_num_threads(now);
      if (!then || format_hash(then->weights_desc()) != w.format ||
          then->weights_desc().get_size() != w.data.nbytes())
        return invalid_argument(
            "layer '" + node.name +
            "': its packed weights do not fit this machine's kernels: rebuild the engine on "
            "this machine");
      inst->weights = memory(pd.weights_desc(), eng);
      memory packed(then->weights_desc(), eng, const_cast<void*>(w.data.raw()));
      dnnl::stream s(eng);
      dnnl::reorder(packed, inst->weights).execute(s, packed, inst->weights);
      s.wait();
    } else {
      inst->weights = memory(pd.weights_desc(), eng);
      memory user_w(user_w_md, eng, const_cast<void*>(w.data.raw()));
      dnnl::stream s(eng);
      dnnl::reorder(user_w, inst->weights).execute(s, user_w, inst->weights);
      s.wait();
    }
  } catch (const dnnl::error& e) {
    return onednn_failure(node.name, std::string("no convolution for X ") + dims_to_string(x) + ", W " +
                                         dims_to_string(w.dims) + ": " + e.what());
  }
  return inst;
}

class ConvKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  ConvKernel(ConvWeights w, ConvConfig cfg) : w_(std::move(w)), cfg_(cfg) {}

  Status prepare_static(const ir::Node& node, const Dims& x) {
    INGOT_ASSIGN_OR_RETURN(static_, make_instance(node, x, w_, cfg_));
    static_x_ = x;
    return Status::Ok();
  }

  int reorders() const override {
    return static_ ? int(static_->reorder_src) + int(static_->reorder_dst) + int(static_->reorder_z) : 0;
  }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != DType::kF32 || x.rank() != static_cast<int64_t>(w_.dims.size()))
      return ctx.fail("X must be float32 of W's rank, got " + dims_to_string(x.dims()));
    const ConvInstance* inst = static_.get();
    if (!inst || x.dims() != static_x_) {
      if (w_.packed) return ctx.fail("its weights are packed for X " + dims_to_string(static_x_));
      INGOT_ASSIGN_OR_RETURN(
          inst, dynamic_.get(x.dims(), [&] { return make_instance(ctx.node(), x.dims(), w_, cfg_); }));
    }
    const Tensor* z = cfg_.residual ? &ctx.input(3) : nullptr;
    if (z && (z->dtype() != DType::kF32 || z->dims() != inst->y)) {
      return ctx.fail("residual Z " + dims_to_string(z->dims()) + " does not match the output " +
                      dims_to_string(inst->y));
    }
    const Tensor* b = cfg_.has_bias ? &ctx.input(2) : nullptr;
    if (b && (b->dtype() != DType::kF32 || b->numel() != w_.dims[0]))
      return ctx.fail("B has " + std::to_string(b->numel()) + " values for " + std::to_string(w_.dims[0]) +
                      " channels");
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, inst->y));
    if (y->numel() == 0) return Status::Ok();
    try {
      const dnnl::engine& eng = onednn_engine();
      dnnl::stream s(eng);
      memory user_src(inst->user_src_md, eng, const_cast<void*>(x.raw()));
      memory user_dst(inst->user_dst_md, eng, y->raw());
      memory src = user_src, dst = user_dst;
      if (inst->reorder_src) {
        src = memory(inst->src_md, eng, thread_scratch(0, inst->src_md.get_size()));
        inst->src_in.execute(s, user_src, src);
      }
      if (inst->reorder_dst) dst = memory(inst->dst_md, eng, thread_scratch(1, inst->dst_md.get_size()));
      // The residual goes where the primitive's sum post-op reads it: the destination, in its format.
      if (z && inst->reorder_z) {
        memory user_z(inst->user_z_md, eng, const_cast<void*>(z->raw()));
        inst->z_in.execute(s, user_z, dst);
      } else if (z && dst.get_data_handle() != z->raw()) {
        std::memcpy(dst.get_data_handle(), z->raw(), inst->dst_md.get_size());
      }
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, inst->weights}, {DNNL_ARG_DST, dst}};
      if (b) args.emplace(DNNL_ARG_BIAS, memory(inst->bias_md, eng, const_cast<void*>(b->raw())));
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
  ConvWeights w_;
  ConvConfig cfg_;
  std::unique_ptr<ConvInstance> static_;
  Dims static_x_;
  ShapeCache<ConvInstance> dynamic_;
};

std::string conv_supports(const LayerDesc& d) {
  const engine::PlanLayer& l = d.layer;
  if (!is_conv(l)) return "not a Conv";
  const bool fused = !l.domain.empty();
  if (l.inputs.size() > (fused ? 4u : 3u)) return "too many inputs";
  const PlanTensor *x = d.input(0), *w = d.input(1), *b = d.input(2), *z = d.input(3), *y = d.output(0);
  const bool packed = l.attrs.count(kPackedWeightDims) > 0;
  for (auto [t, what] : {std::pair{x, "X"}, {w, "W"}, {y, "the output"}}) {
    const std::string why = packed && t == w ? std::string(w ? "" : "no W") : check_f32(t, what);
    if (!why.empty()) return why;
  }
  if (b && !check_f32(b, "B").empty()) return check_f32(b, "B");
  if (z && !check_f32(z, "Z").empty()) return check_f32(z, "Z");
  if (w->kind != engine::TensorKind::kWeight) return "W is not a constant";
  const Dims* w_dims = weight_dims(d);
  if (packed &&
      (!w_dims || w->dtype != DType::kU8 || w->dims.size() != 1 || !dims_static(x->dims) ||
       !dims_static(*w_dims) || std::any_of(w_dims->begin(), w_dims->end(), [](int64_t v) { return v < 1; })))
    return "packed W needs u8 bytes, static shapes and W's dims";
  if (x->dims.size() < 3 || x->dims.size() > 5) return "only 1 to 3 spatial dims";
  if (w_dims->size() != x->dims.size()) return "W's rank differs from X's";
  if (b && b->dims.size() != 1) return "B is not 1-D";
  const LayerNode ln(l, d.tensors);
  dnnl::post_ops ops;
  const std::string why = append_activation(ln.node, ops);
  if (!why.empty()) return why;
  const std::string layouts = check_layouts(ln.node, *x);
  if (!layouts.empty()) return layouts;
  // Where X's shape is known, the geometry must be one the op accepts; else its attributes at least.
  if (dims_static(x->dims)) {
    auto g = conv_geometry(ln.node, x->dims, *w_dims);
    return g.ok() ? "" : g.status().message();
  }
  const Dims& wd = *w_dims;
  const int64_t group = ln.node.attr_int("group", 1);
  if (group < 1 || wd[0] % group != 0 || (x->dims[1] >= 0 && x->dims[1] != wd[1] * group))
    return "X's channels, W and group do not agree";
  auto a = ops::read_window_attrs(ln.node, x->dims.size() - 2, Dims(wd.begin() + 2, wd.end()));
  return a.ok() ? "" : a.status().message();
}

// bf16 layers: only with the instructions (emulated on plain AVX-512, oneDNN's bf16 runs slower than fp32).
std::string conv_bf16_supports(const LayerDesc& d) {
  const CpuFeatures& f = cpu_features();
  if (!f.avx512bf16 && !f.amx) return "this CPU has no bf16 instructions (AVX512-BF16 or AMX)";
  return conv_supports(d);
}

ConvConfig config_of(const LayerDesc& d, bool blocked, bool bf16 = false) {
  ConvConfig cfg;
  cfg.blocked = blocked;
  cfg.bf16 = bf16;
  cfg.has_bias = d.input(2) != nullptr;
  cfg.residual = d.input(3) != nullptr;
  const LayerNode ln(d.layer, d.tensors);
  cfg.src = layout_tag(ln.node, kSrcLayout);
  cfg.dst = layout_tag(ln.node, kDstLayout);
  cfg.z = layout_tag(ln.node, kZLayout);
  return cfg;
}

Expected<std::unique_ptr<Kernel>> conv_prepare(const LayerDesc& d, bool blocked, bool bf16 = false) {
  const std::string why = conv_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  const ConvConfig cfg = config_of(d, blocked, bf16);
  if (!blocked && (cfg.src != memory::format_tag::undef || cfg.dst != memory::format_tag::undef ||
                   cfg.z != memory::format_tag::undef))
    return unsupported("layer '" + d.layer.name + "': blocked layouts need " + kConvTactic);
  const LayerNode ln(d.layer, d.tensors);
  auto k = std::make_unique<ConvKernel>(weights_of(d), cfg);
  const Dims& x = d.input(0)->dims;
  if (dims_static(x)) {
    INGOT_RETURN_IF_ERROR(k->prepare_static(ln.node, x));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

bool conv_runs_reference_impl(const LayerDesc& d) {
  const bool blocked = d.layer.tactic == kConvTactic;
  if ((!blocked && d.layer.tactic != kConvPlainTactic) || !conv_supports(d).empty() ||
      !dims_static(d.input(0)->dims))
    return false;
  const LayerNode ln(d.layer, d.tensors);
  auto inst = make_instance(ln.node, d.input(0)->dims, weights_of(d), config_of(d, blocked));
  return inst.ok() && (*inst)->impl.rfind("ref", 0) == 0;
}

namespace {

// The plan pass: packs the W of every static-shape oneDNN convolution that is W's only reader.
Status pack_conv_weights(engine::Plan& plan) {
  std::vector<int> readers(plan.tensors.size(), 0);
  for (const engine::PlanLayer& l : plan.layers) {
    for (int32_t t : l.inputs)
      if (t >= 0) ++readers[t];
    for (const auto& [_, t] : l.outer_reads) ++readers[t];
  }
  for (int32_t t : plan.outputs) ++readers[t];
  for (engine::PlanLayer& l : plan.layers) {
    const bool blocked = l.tactic == kConvTactic;
    if ((!blocked && l.tactic != kConvPlainTactic) || l.attrs.count(kPackedWeightDims)) continue;
    const LayerDesc d{l, plan.tensors};
    if (!conv_supports(d).empty() || !dims_static(d.input(0)->dims) || readers[l.inputs[1]] != 1) continue;
    const LayerNode ln(l, plan.tensors);
    auto inst = make_instance(ln.node, d.input(0)->dims, weights_of(d), config_of(d, blocked));
    if (!inst.ok()) continue;
    const memory& packed = (*inst)->weights;
    const size_t bytes = packed.get_desc().get_size();
    INGOT_ASSIGN_OR_RETURN(Tensor data, Tensor::create(DType::kU8, {static_cast<int64_t>(bytes)}));
    std::memcpy(data.raw(), packed.get_data_handle(), bytes);
    PlanTensor& w = plan.tensors[l.inputs[1]];
    const PlanTensor plain = w;
    ir::Attribute dims;
    dims.kind = ir::Attribute::Kind::kInts;
    dims.ints = w.dims;
    l.attrs[kPackedWeightDims] = dims;
    ir::Attribute format, threads;
    format.kind = threads.kind = ir::Attribute::Kind::kInt;
    format.i = format_hash(packed.get_desc());
    threads.i = (*inst)->weights_threads;
    l.attrs[kPackedWeightFormat] = format;
    l.attrs[kPackedWeightThreads] = threads;
    w.dtype = DType::kU8;
    w.dims = {static_cast<int64_t>(bytes)};
    w.dim_symbols.assign(1, "");
    w.weight = std::move(data);
    if (!conv_prepare(d, blocked).ok()) {  // keep the plain weights where the packed ones do not prepare
      w = plain;
      for (const char* a : {kPackedWeightDims, kPackedWeightFormat, kPackedWeightThreads}) l.attrs.erase(a);
    }
  }
  return Status::Ok();
}

}  // namespace

// After the layout pass (the formats it agrees on decide the primitive, and so W's format).
INGOT_REGISTER_PLAN_PASS(cpu_onednn_pack_conv_weights, pack_conv_weights, 100);

INGOT_REGISTER_TACTIC(
    cpu_onednn_conv, .id = kConvTactic, .supports = conv_supports,
    .prepare = [](const LayerDesc& d) { return conv_prepare(d, true); });
INGOT_REGISTER_TACTIC(
    cpu_onednn_conv_nchw, .id = kConvPlainTactic, .supports = conv_supports,
    .prepare = [](const LayerDesc& d) { return conv_prepare(d, false); });
INGOT_REGISTER_TACTIC(
    cpu_onednn_conv_bf16, .id = kConvBf16Tactic, .supports = conv_bf16_supports,
    .prepare = [](const LayerDesc& d) { return conv_prepare(d, true, true); }, .precision = "bf16");

}  // namespace ingot::backends::cpu
