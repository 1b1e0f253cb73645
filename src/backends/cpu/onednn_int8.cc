// cpu.onednn.conv.int8 / cpu.onednn.matmul.int8: layers the builder marked int8 (precision "int8", with the
// calibrated scale of input 0 in kQuantScaleAttr) through oneDNN's u8s8 / s8s8 convolution and matmul.
// Weights are quantized per output channel, symmetric, when the kernel is prepared; the input is quantized
// at the layer's edge (u8 where calibration saw no negative value, else s8) and the output comes back as
// fp32 through the per-channel output scales, with the bias, the residual (sum post-op) and the activation
// fused. Inputs and outputs of the layer are plain fp32, as for the fp32 tactics.
//
// Without VNNI, x86 int8 products go through vpmaddubsw, whose pairwise int16 sums saturate for
// 8-bit weights; weights are then quantized to 7 bits ([-63, 63]) as oneDNN advises, which cannot saturate.
//
// A signed activation (symmetric, calibration saw negative values) is s8 with VNNI: oneDNN's s8s8
// convolution adds 128 to the source inside its VNNI kernels and takes the compensation from the packed
// weights. As u8 with zero point 128 instead, oneDNN 2.6 runs 1x1 convolutions through its slower
// jit_1x1 kernel with a source zero point (mobilenet_v2's expansion layers, which read the blocks'
// signed outputs). Without VNNI, s8s8 halves the weights to avoid vpmaddubsw's saturation and loses a
// bit, so there the signed activation stays u8 with zero point 128. INGOT_INT8_S8=0 keeps u8 everywhere,
// =1 takes s8 without VNNI too (for A/B runs and tests; read at build time: the plan records the types).
#include <cmath>
#include <cstring>
#include <tuple>
#include <unordered_map>

#include "backends/cpu/onednn_conv.h"
#include "core/platform.h"

namespace ingot::backends::cpu {
namespace {

using dnnl::memory;
using engine::PlanTensor;

}  // namespace

int int8_weight_qmax() {
  static const int q = cpu_features().avx512vnni ? 127 : 63;
  return q;
}

DType int8_activation_dtype(bool is_unsigned, int64_t zero_point) {
  static const bool s8_allowed = [] {
    const std::string e = std::getenv("INGOT_INT8_S8") ? std::getenv("INGOT_INT8_S8") : "";
    return e == "1" || (e != "0" && int8_weight_qmax() == 127);
  }();
  return !is_unsigned && zero_point == 128 && s8_allowed ? DType::kI8 : DType::kU8;
}

namespace {

// Per output channel: W's channel c is the `inner` elements at c * inner (conv [O, ...]) or every
// `channels`-th element from c (matmul [K, N]). Returns the int8 values and the scales.
struct QuantWeights {
  std::vector<int8_t> q;
  std::vector<float> scale;
};
QuantWeights quantize_weights(const float* w, int64_t channels, int64_t inner, bool channel_last) {
  QuantWeights out;
  out.q.resize(static_cast<size_t>(channels * inner));
  out.scale.resize(static_cast<size_t>(channels));
  const int qmax = int8_weight_qmax();
  auto at = [&](int64_t c, int64_t i) { return channel_last ? i * channels + c : c * inner + i; };
  for (int64_t c = 0; c < channels; ++c) {
    float amax = 0;
    for (int64_t i = 0; i < inner; ++i) amax = std::max(amax, std::fabs(w[at(c, i)]));
    const float s = amax > 0 ? amax / qmax : 1.f;
    out.scale[c] = s;
    for (int64_t i = 0; i < inner; ++i) {
      const float v = std::nearbyint(w[at(c, i)] / s);
      out.q[at(c, i)] = static_cast<int8_t>(std::max<float>(-qmax, std::min<float>(qmax, v)));
    }
  }
  return out;
}

// What both int8 tactics read from the layer.
struct QuantInput {
  float scale = 1.f;
  bool is_unsigned = false;
  int32_t zp = 0;   // in u8 terms: 0 unsigned, 128 signed, or a Q/DQ model's own
  bool s8 = false;  // held as s8 with zero point 0 (the convolution's int8 activations only)
};
std::string read_quant(const ir::Node& node, const char* scale_attr, const char* unsigned_attr,
                       QuantInput* q) {
  auto it = node.attrs.find(scale_attr);
  if (it == node.attrs.end()) return std::string("no calibrated scale for ") + scale_attr;
  q->scale = it->second.f;
  if (!(q->scale > 0) || !std::isfinite(q->scale))
    return std::string(scale_attr) + " is not a positive number";
  q->is_unsigned = node.attr_int(unsigned_attr, 0) != 0;
  const int64_t zp = node.attr_int(engine::zero_point_attr(scale_attr), q->is_unsigned ? 0 : 128);
  if (zp < 0 || zp > 255) return engine::zero_point_attr(scale_attr) + " is not in [0, 255]";
  q->zp = static_cast<int32_t>(zp);
  return "";
}
std::string read_quant_input(const ir::Node& node, QuantInput* q) {
  if (!node.attrs.count(engine::kQuantScaleAttr)) return "no calibrated scale for input 0";
  return read_quant(node, engine::kQuantScaleAttr, engine::kQuantUnsignedAttr, q);
}

// The zero point in the stored type's terms: 0 for s8.
int32_t zero_point(const QuantInput& q) { return q.s8 ? 0 : q.zp; }
memory::data_type int8_type(const QuantInput& q) {
  return q.s8 ? memory::data_type::s8 : memory::data_type::u8;
}
// Whether an int8 activation is s8: a kept one's type is the plan's (chosen when the engine was built), a
// float X is quantized inside the layer the way int8_activation_dtype says.
std::string choose_int8_type(QuantInput* q, bool kept, const PlanTensor* t) {
  q->s8 = kept ? t && t->dtype == DType::kI8 : int8_activation_dtype(q->is_unsigned, q->zp) == DType::kI8;
  if (q->s8 && (q->is_unsigned || q->zp != 128)) return "an s8 activation must be signed with zero point 128";
  return "";
}

// An int8 activation of the plan: u8 or s8, NHWC.
memory::desc int8_desc(const Dims& d, const QuantInput& q) {
  return memory::desc(to_dnnl_dims(d), int8_type(q), memory::format_tag::nhwc);
}

// ---- convolution ----

struct ConvInstance {
  Dims y;
  dnnl::convolution_forward prim;
  memory::desc src_md, dst_md, user_src_md, user_dst_md, user_z_md, bias_md, scratch_md;
  dnnl::reorder quantize_src, dst_out, z_in;
  bool reorder_src = false, reorder_dst = false, reorder_z = false;
  memory weights;
  std::vector<float> bias;  // in the accumulator's units (oneDNN 2.x adds it before the output scales)
};

struct ConvConfig {
  QuantInput in;
  bool has_bias = false, residual = false;
  // Kept int8 between layers (plan.h): X arrives u8 NHWC; Y leaves so at `out`; Z arrives so at `z`.
  bool x_int8 = false, y_int8 = false, z_int8 = false;
  QuantInput out, z;
};

Expected<std::unique_ptr<ConvInstance>> make_conv(const ir::Node& node, const Dims& x, const Tensor& w,
                                                  const Tensor* b, const ConvConfig& cfg) {
  INGOT_ASSIGN_OR_RETURN(ConvGeometry g, conv_geometry(node, x, w.dims()));
  auto inst = std::make_unique<ConvInstance>();
  inst->y = g.y;
  const int64_t oc = w.dim(0);
  const QuantWeights qw = quantize_weights(w.data<float>(), oc, w.numel() / std::max<int64_t>(oc, 1), false);
  std::vector<float> out_scales(static_cast<size_t>(oc));
  for (int64_t c = 0; c < oc; ++c) out_scales[c] = cfg.in.scale * qw.scale[c];
  if (b) {
    inst->bias.resize(static_cast<size_t>(oc));
    for (int64_t c = 0; c < oc; ++c) inst->bias[c] = b->data<float>()[c] / out_scales[c];
  }
  const dnnl::engine& eng = onednn_engine();
  const auto f32 = memory::data_type::f32, s8 = memory::data_type::s8;
  try {
    inst->user_src_md = cfg.x_int8 ? int8_desc(x, cfg.in) : plain_f32_desc(x);
    inst->user_dst_md = cfg.y_int8 ? int8_desc(g.y, cfg.out) : plain_f32_desc(g.y);
    inst->user_z_md = cfg.z_int8 ? int8_desc(g.y, cfg.z) : plain_f32_desc(g.y);
    const memory::desc src_any =
        cfg.x_int8 ? inst->user_src_md
                   : memory::desc(to_dnnl_dims(x), int8_type(cfg.in), memory::format_tag::any);
    const memory::desc dst_any =
        cfg.y_int8 ? inst->user_dst_md : memory::desc(to_dnnl_dims(g.y), f32, memory::format_tag::any);
    const memory::desc w_any(g.weights, s8, memory::format_tag::any);
    if (cfg.has_bias) inst->bias_md = memory::desc({oc}, f32, memory::format_tag::a);
    const dnnl::convolution_forward::desc desc(
        dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct, src_any, w_any,
        inst->bias_md, dst_any, g.strides, g.dilates, g.pad_l, g.pad_r);
    // The post-ops work in real units: the output scales give x * w + b; the residual in the dst buffer
    // holds Z in the dst's representation (its scale and zero point when u8); the activation; then an
    // int8 Y is requantized to its own scale and zero point.
    dnnl::post_ops ops;
    if (cfg.residual && cfg.y_int8 != cfg.z_int8 && cfg.y_int8)
      return onednn_failure(node.name, "an int8 Y needs an int8 Z");
    if (cfg.residual) {
      if (!cfg.y_int8)
        ops.append_sum(1.f);
      else
        ops.append_sum(cfg.z.scale, zero_point(cfg.z), int8_type(cfg.z));
    }
    const std::string why = append_activation(node, ops);
    if (!why.empty()) return onednn_failure(node.name, why);
    if (cfg.y_int8)
      ops.append_eltwise(1.f, dnnl::algorithm::eltwise_linear, 1.f / cfg.out.scale,
                         static_cast<float>(zero_point(cfg.out)));
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    attr.set_output_scales(1 << 1, out_scales);
    if (zero_point(cfg.in)) attr.set_zero_points(DNNL_ARG_SRC, 0, {zero_point(cfg.in)});
    attr.set_post_ops(ops);
    const dnnl::convolution_forward::primitive_desc pd(desc, attr, eng);
    inst->prim = dnnl::convolution_forward(pd);
    inst->src_md = pd.src_desc();
    inst->dst_md = pd.dst_desc();
    inst->scratch_md = pd.scratchpad_desc();
    inst->reorder_src = inst->src_md != inst->user_src_md;
    if (inst->reorder_src) {
      if (cfg.x_int8) return onednn_failure(node.name, "the int8 convolution does not take NHWC int8 input");
      dnnl::primitive_attr q_attr;
      q_attr.set_output_scales(0, {1.f / cfg.in.scale});
      if (zero_point(cfg.in)) q_attr.set_zero_points(DNNL_ARG_DST, 0, {zero_point(cfg.in)});
      inst->quantize_src =
          dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->user_src_md, eng, inst->src_md, q_attr));
    }
    inst->reorder_dst = inst->dst_md != inst->user_dst_md;
    if (inst->reorder_dst) {
      if (cfg.y_int8)
        return onednn_failure(node.name, "the int8 convolution does not write NHWC int8 output");
      inst->dst_out = dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->dst_md, eng, inst->user_dst_md));
    }
    // Z into the dst buffer: an int8 Z under an int8 Y is copied as it is (the sum reads it at Z's scale
    // and zero point), else it enters the f32 dst's format (dequantized when int8).
    inst->reorder_z = cfg.residual && !(cfg.z_int8 && cfg.y_int8) && inst->user_z_md != inst->dst_md;
    if (inst->reorder_z) {
      dnnl::primitive_attr z_attr;
      if (cfg.z_int8) {  // into an f32 Y: dequantize
        z_attr.set_output_scales(0, {cfg.z.scale});
        if (zero_point(cfg.z)) z_attr.set_zero_points(DNNL_ARG_SRC, 0, {zero_point(cfg.z)});
      }
      inst->z_in =
          dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->user_z_md, eng, inst->dst_md, z_attr));
    }
    const memory::desc user_w_md(g.weights, s8, plain_tag(g.weights.size()));
    inst->weights = memory(pd.weights_desc(), eng);
    memory user_w(user_w_md, eng, const_cast<int8_t*>(qw.q.data()));
    dnnl::stream s(eng);
    dnnl::reorder(user_w, inst->weights).execute(s, user_w, inst->weights);
    s.wait();
  } catch (const dnnl::error& e) {
    return onednn_failure(node.name, std::string("no int8 convolution for X ") + dims_to_string(x) + ", W " +
                                         dims_to_string(w.dims()) + ": " + e.what());
  }
  return inst;
}

// The type of a layer's X, Y or Z: float32, or the int8 activation's (kept int8 between layers).
DType io_dtype(bool int8, const QuantInput& q) {
  return !int8 ? DType::kF32 : q.s8 ? DType::kI8 : DType::kU8;
}

class ConvKernel : public Kernel {
 public:
  ConvKernel(Tensor w, Tensor b, ConvConfig cfg) : w_(std::move(w)), b_(std::move(b)), cfg_(cfg) {}

  Status prepare_static(const ir::Node& node, const Dims& x) {
    INGOT_ASSIGN_OR_RETURN(static_, make_conv(node, x, w_, bias(), cfg_));
    static_x_ = x;
    return Status::Ok();
  }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    if (x.dtype() != io_dtype(cfg_.x_int8, cfg_.in) || x.rank() != w_.rank())
      return ctx.fail(std::string("X must be ") + dtype_name(io_dtype(cfg_.x_int8, cfg_.in)) +
                      " of W's rank, got " + dtype_name(x.dtype()) + dims_to_string(x.dims()));
    const ConvInstance* inst = static_.get();
    if (!inst || x.dims() != static_x_) {
      if (cfg_.x_int8 || cfg_.y_int8 || cfg_.z_int8)
        return ctx.fail("int8 activations need the planned shapes");
      INGOT_ASSIGN_OR_RETURN(
          inst, dynamic_.get(x.dims(), [&] { return make_conv(ctx.node(), x.dims(), w_, bias(), cfg_); }));
    }
    const Tensor* z = cfg_.residual ? &ctx.input(3) : nullptr;
    if (z && (z->dtype() != io_dtype(cfg_.z_int8, cfg_.z) || z->dims() != inst->y)) {
      return ctx.fail("residual Z " + dims_to_string(z->dims()) + " does not match the output " +
                      dims_to_string(inst->y));
    }
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, io_dtype(cfg_.y_int8, cfg_.out), inst->y));
    if (y->numel() == 0) return Status::Ok();
    try {
      const dnnl::engine& eng = onednn_engine();
      dnnl::stream s(eng);
      memory user_src(inst->user_src_md, eng, const_cast<void*>(x.raw()));
      memory user_dst(inst->user_dst_md, eng, y->raw());
      memory src = user_src;
      if (inst->reorder_src) {
        src = memory(inst->src_md, eng, thread_scratch(0, inst->src_md.get_size()));
        inst->quantize_src.execute(s, user_src, src);
      }
      memory dst = user_dst;
      if (inst->reorder_dst) dst = memory(inst->dst_md, eng, thread_scratch(1, inst->dst_md.get_size()));
      if (z && inst->reorder_z) {
        memory user_z(inst->user_z_md, eng, const_cast<void*>(z->raw()));
        inst->z_in.execute(s, user_z, dst);
      } else if (z && dst.get_data_handle() != z->raw()) {
        std::memcpy(dst.get_data_handle(), z->raw(), inst->dst_md.get_size());
      }
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, inst->weights}, {DNNL_ARG_DST, dst}};
      if (cfg_.has_bias)
        args.emplace(DNNL_ARG_BIAS, memory(inst->bias_md, eng, const_cast<float*>(inst->bias.data())));
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
  const Tensor* bias() const { return cfg_.has_bias ? &b_ : nullptr; }
  Tensor w_, b_;
  ConvConfig cfg_;
  std::unique_ptr<ConvInstance> static_;
  Dims static_x_;
  ShapeCache<ConvInstance> dynamic_;
};

// "" when t is present, of known rank and float32, or an int8 activation of q's type where `int8` (kept int8
// between layers).
std::string check_io(const PlanTensor* t, const char* what, bool int8, const QuantInput& q) {
  if (!int8) return check_f32(t, what);
  if (!t) return std::string(what) + " is missing";
  const DType want = io_dtype(true, q);
  if (t->dtype != want || t->dims.size() != 4 || !dims_static(t->dims))
    return std::string(what) + " is not a static 4-D " + dtype_name(want) + " activation";
  return "";
}

// The quantization of a conv layer's input and the int8 activations it reads or writes (plan.h), from
// its attributes, with the type each is stored in.
std::string read_conv_quant(const ir::Node& node, const LayerDesc& d, ConvConfig* cfg) {
  std::string why = read_quant_input(node, &cfg->in);
  if (!why.empty()) return why;
  cfg->x_int8 = node.attr_int(engine::kQuantXInt8Attr, 0) != 0;
  cfg->y_int8 = node.attrs.count(engine::kQuantYScaleAttr) != 0;
  cfg->z_int8 = node.attrs.count(engine::kQuantZScaleAttr) != 0;
  if (cfg->y_int8) why = read_quant(node, engine::kQuantYScaleAttr, engine::kQuantYUnsignedAttr, &cfg->out);
  if (why.empty() && cfg->z_int8)
    why = read_quant(node, engine::kQuantZScaleAttr, engine::kQuantZUnsignedAttr, &cfg->z);
  if (why.empty()) why = choose_int8_type(&cfg->in, cfg->x_int8, d.input(0));
  if (why.empty()) why = choose_int8_type(&cfg->out, cfg->y_int8, d.output(0));
  if (why.empty()) why = choose_int8_type(&cfg->z, cfg->z_int8, d.input(3));
  return why;
}

std::string int8_layer(const LayerDesc& d) {
  if (d.layer.precision != "int8") return "the layer is not int8";
  return "";
}

std::string conv_supports(const LayerDesc& d) {
  const engine::PlanLayer& l = d.layer;
  if (!is_conv(l)) return "not a Conv";
  std::string why = int8_layer(d);
  if (!why.empty()) return why;
  const bool fused = !l.domain.empty();
  if (l.inputs.size() > (fused ? 4u : 3u)) return "too many inputs";
  const PlanTensor *x = d.input(0), *w = d.input(1), *b = d.input(2), *y = d.output(0);
  const LayerNode ln(l, d.tensors);
  ConvConfig io;
  why = read_conv_quant(ln.node, d, &io);
  if (!why.empty()) return why;
  for (auto [t, what, int8, q] :
       {std::tuple{x, "X", io.x_int8, io.in}, {w, "W", false, io.in}, {y, "the output", io.y_int8, io.out}}) {
    why = check_io(t, what, int8, q);
    if (!why.empty()) return why;
  }
  if (w->kind != engine::TensorKind::kWeight) return "W is not a constant";
  if (b && (b->kind != engine::TensorKind::kWeight || b->dtype != DType::kF32 || b->dims.size() != 1 ||
            b->dims[0] != w->dims[0]))
    return "B is not a constant float32 vector of W's output channels";
  if (d.input(3) && !check_io(d.input(3), "Z", io.z_int8, io.z).empty())
    return check_io(d.input(3), "Z", io.z_int8, io.z);
  if (io.z_int8 && !d.input(3)) return "Z is missing";
  // A float Z would have to enter Y's representation before the sum, where an unsigned Y clips it.
  if (io.y_int8 && d.input(3) && !io.z_int8) return "an int8 Y needs an int8 Z";
  if (x->dims.size() < 3 || x->dims.size() > 5) return "only 1 to 3 spatial dims";
  if (w->dims.size() != x->dims.size()) return "W's rank differs from X's";
  for (const char* attr : {kSrcLayout, kDstLayout, kZLayout})
    if (!ln.node.attr_string(attr, "").empty()) return "blocked layouts are for the fp32 tactics";
  dnnl::post_ops ops;
  why = append_activation(ln.node, ops);
  if (!why.empty()) return why;
  if (dims_static(x->dims)) {
    auto g = conv_geometry(ln.node, x->dims, w->dims);
    return g.ok() ? "" : g.status().message();
  }
  const int64_t group = ln.node.attr_int("group", 1);
  if (group < 1 || w->dims[0] % group != 0 || (x->dims[1] >= 0 && x->dims[1] != w->dims[1] * group))
    return "X's channels, W and group do not agree";
  return "";
}

Expected<std::unique_ptr<Kernel>> conv_prepare(const LayerDesc& d) {
  const std::string why = conv_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  const LayerNode ln(d.layer, d.tensors);
  ConvConfig cfg;
  (void)read_conv_quant(ln.node, d, &cfg);
  cfg.has_bias = d.input(2) != nullptr;
  cfg.residual = d.input(3) != nullptr;
  auto k =
      std::make_unique<ConvKernel>(d.input(1)->weight, cfg.has_bias ? d.input(2)->weight : Tensor(), cfg);
  if (dims_static(d.input(0)->dims)) {
    INGOT_RETURN_IF_ERROR(k->prepare_static(ln.node, d.input(0)->dims));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

// ---- matmul: A [..., K] (leading dims folded into M) times a constant B [K, N] ----

struct MatMulConfig {
  QuantInput in;
  bool gemm = false, trans_b = false;
  int bias_input = -1;  // FusedMatMul's bias / Gemm's C: N values
  int sum_input = -1;   // FusedMatMul's Z
};

struct MatMulInstance {
  int64_t M = 0;
  Dims out;
  dnnl::matmul prim;
  memory::desc src_md, dst_md, bias_md, scratch_md;
};

class MatMulKernel : public Kernel {
 public:
  MatMulKernel(const Tensor& b, const Tensor* bias, MatMulConfig cfg) : cfg_(cfg) {
    K_ = cfg.trans_b ? b.dim(1) : b.dim(0);
    N_ = cfg.trans_b ? b.dim(0) : b.dim(1);
    // Quantize per column n of B (per row of a transposed B), then keep it [K, N].
    QuantWeights qw = quantize_weights(b.data<float>(), N_, K_, !cfg.trans_b);
    q_ = std::move(qw.q);
    if (cfg.trans_b) {
      std::vector<int8_t> t(q_.size());
      for (int64_t n = 0; n < N_; ++n)
        for (int64_t k = 0; k < K_; ++k) t[k * N_ + n] = q_[n * K_ + k];
      q_ = std::move(t);
    }
    out_scales_.resize(static_cast<size_t>(N_));
    for (int64_t n = 0; n < N_; ++n) out_scales_[n] = cfg.in.scale * qw.scale[n];
    if (bias) {
      bias_.resize(static_cast<size_t>(N_));
      for (int64_t n = 0; n < N_; ++n) bias_[n] = bias->data<float>()[n] / out_scales_[n];
    }
  }

  Expected<std::unique_ptr<MatMulInstance>> make(const ir::Node& node, const Dims& a) const {
    if (a.empty() || a.back() != K_)
      return invalid_argument(node.describe() + ": A " + dims_to_string(a) +
                              " does not have K = " + std::to_string(K_));
    if (cfg_.gemm && a.size() != 2) return invalid_argument(node.describe() + ": Gemm's A must be 2-D");
    auto inst = std::make_unique<MatMulInstance>();
    inst->M = 1;
    for (size_t i = 0; i + 1 < a.size(); ++i) inst->M *= a[i];
    inst->out.assign(a.begin(), a.end() - 1);
    inst->out.push_back(N_);
    const dnnl::engine& eng = onednn_engine();
    try {
      inst->src_md = memory::desc({inst->M, K_}, memory::data_type::u8, memory::format_tag::ab);
      inst->dst_md = plain_f32_desc({inst->M, N_});
      const memory::desc w_md({K_, N_}, memory::data_type::s8, memory::format_tag::ab);
      if (!bias_.empty()) inst->bias_md = plain_f32_desc({1, N_});
      const dnnl::matmul::desc desc(inst->src_md, w_md, inst->bias_md, inst->dst_md);
      dnnl::post_ops ops;
      if (cfg_.sum_input >= 0) ops.append_sum(1.f);
      const std::string why = append_activation(node, ops);
      if (!why.empty()) return onednn_failure(node.name, why);
      dnnl::primitive_attr attr;
      attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
      attr.set_output_scales(1 << 1, out_scales_);
      if (zero_point(cfg_.in)) attr.set_zero_points(DNNL_ARG_SRC, 0, {zero_point(cfg_.in)});
      attr.set_post_ops(ops);
      const dnnl::matmul::primitive_desc pd(desc, attr, eng);
      inst->prim = dnnl::matmul(pd);
      inst->scratch_md = pd.scratchpad_desc();
    } catch (const dnnl::error& e) {
      return onednn_failure(node.name,
                            std::string("no int8 matmul for A ") + dims_to_string(a) + ": " + e.what());
    }
    return inst;
  }

  Status prepare_static(const ir::Node& node, const Dims& a) {
    INGOT_ASSIGN_OR_RETURN(static_, make(node, a));
    static_a_ = a;
    return Status::Ok();
  }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    if (a.dtype() != DType::kF32) return ctx.fail("A must be float32");
    const MatMulInstance* inst = static_.get();
    if (!inst || a.dims() != static_a_) {
      INGOT_ASSIGN_OR_RETURN(inst, dynamic_.get(a.dims(), [&] { return make(ctx.node(), a.dims()); }));
    }
    const Tensor* z = cfg_.sum_input >= 0 ? &ctx.input(cfg_.sum_input) : nullptr;
    if (z && (z->dtype() != DType::kF32 || z->numel() != inst->M * N_))
      return ctx.fail("Z " + dims_to_string(z->dims()) + " does not have the output's shape");
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, inst->out));
    if (y->numel() == 0) return Status::Ok();
    // Quantize A (round to nearest even, saturate), into this thread's scratch.
    const int64_t n = a.numel();
    void* qa = thread_scratch(0, static_cast<size_t>(n));
    const float inv = 1.f / cfg_.in.scale;
    const float* ad = a.data<float>();
    // u8 with the zero point (128 for a signed A: the s8 range, shifted).
    auto* q = static_cast<uint8_t*>(qa);
    const float zp = static_cast<float>(zero_point(cfg_.in));
    for (int64_t i = 0; i < n; ++i)
      q[i] = static_cast<uint8_t>(std::min(255.f, std::max(0.f, std::nearbyint(ad[i] * inv) + zp)));
    if (z && z->raw() != y->raw()) std::memcpy(y->raw(), z->raw(), y->nbytes());
    try {
      const dnnl::engine& eng = onednn_engine();
      dnnl::stream s(eng);
      std::unordered_map<int, memory> args{{DNNL_ARG_SRC, memory(inst->src_md, eng, qa)},
                                           {DNNL_ARG_WEIGHTS, weights_},
                                           {DNNL_ARG_DST, memory(inst->dst_md, eng, y->raw())}};
      if (!bias_.empty())
        args.emplace(DNNL_ARG_BIAS, memory(inst->bias_md, eng, const_cast<float*>(bias_.data())));
      add_scratchpad(args, inst->scratch_md);
      inst->prim.execute(s, args);
      s.wait();
    } catch (const dnnl::error& e) {
      return ctx.fail(std::string("oneDNN: ") + e.what());
    }
    return Status::Ok();
  }

  Status pack() {
    try {
      weights_ =
          memory(memory::desc({K_, N_}, memory::data_type::s8, memory::format_tag::ab), onednn_engine());
      std::memcpy(weights_.get_data_handle(), q_.data(), q_.size());
    } catch (const dnnl::error& e) {
      return internal_error(std::string("oneDNN: ") + e.what());
    }
    return Status::Ok();
  }

 private:
  MatMulConfig cfg_;
  int64_t K_ = 0, N_ = 0;
  std::vector<int8_t> q_;
  std::vector<float> out_scales_, bias_;
  memory weights_;
  std::unique_ptr<MatMulInstance> static_;
  Dims static_a_;
  ShapeCache<MatMulInstance> dynamic_;
};

std::string matmul_supports(const LayerDesc& d) {
  const engine::PlanLayer& l = d.layer;
  const bool mm = l.domain.empty() && l.op_type == "MatMul", gemm = l.domain.empty() && l.op_type == "Gemm",
             fused = l.domain == "ingot" && l.op_type == "FusedMatMul";
  if (!mm && !gemm && !fused) return "not a MatMul, Gemm or FusedMatMul";
  std::string why = int8_layer(d);
  if (!why.empty()) return why;
  const PlanTensor *a = d.input(0), *b = d.input(1), *y = d.output(0);
  for (auto [t, what] : {std::pair{a, "A"}, {b, "B"}, {y, "the output"}}) {
    why = check_f32(t, what);
    if (!why.empty()) return why;
  }
  if (b->kind != engine::TensorKind::kWeight || b->dims.size() != 2) return "B is not a constant matrix";
  const LayerNode ln(l, d.tensors);
  QuantInput q;
  why = read_quant_input(ln.node, &q);
  if (!why.empty()) return why;
  const bool trans_b = gemm && ln.node.attr_int("transB", 0) != 0;
  const int64_t N = trans_b ? b->dims[0] : b->dims[1];
  if (gemm) {
    if (ln.node.attr_int("transA", 0) != 0) return "Gemm with transA";
    if (ln.node.attr_float("alpha", 1.f) != 1.f) return "Gemm with alpha != 1";
    const PlanTensor* c = d.input(2);
    if (c && (c->kind != engine::TensorKind::kWeight || c->dtype != DType::kF32 || c->weight.numel() != N ||
              ln.node.attr_float("beta", 1.f) != 1.f))
      return "Gemm's C is not a constant row of N values with beta 1";
  }
  if (fused) {
    const PlanTensor* bias = d.input(2);
    if (bias && (bias->kind != engine::TensorKind::kWeight || bias->dtype != DType::kF32 ||
                 bias->weight.numel() != N))
      return "the bias is not a constant of N values";
    if (d.input(3) && !check_f32(d.input(3), "Z").empty()) return check_f32(d.input(3), "Z");
  } else if (mm && l.inputs.size() > 2) {
    return "too many inputs";
  }
  dnnl::post_ops ops;
  why = append_activation(ln.node, ops);
  if (!why.empty()) return why;
  if (a->dims.empty() || (a->dims.back() >= 0 && a->dims.back() != (trans_b ? b->dims[1] : b->dims[0])))
    return "A's last dim is not B's K";
  if (gemm && a->dims.size() != 2) return "Gemm's A is not 2-D";
  return "";
}

Expected<std::unique_ptr<Kernel>> matmul_prepare(const LayerDesc& d) {
  const std::string why = matmul_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  const LayerNode ln(d.layer, d.tensors);
  MatMulConfig cfg;
  (void)read_quant_input(ln.node, &cfg.in);
  cfg.gemm = d.layer.op_type == "Gemm";
  cfg.trans_b = cfg.gemm && ln.node.attr_int("transB", 0) != 0;
  const PlanTensor* bias = d.input(2);
  if (d.layer.domain == "ingot" && d.input(3)) cfg.sum_input = 3;
  auto k = std::make_unique<MatMulKernel>(d.input(1)->weight, bias ? &bias->weight : nullptr, cfg);
  INGOT_RETURN_IF_ERROR(k->pack());
  if (dims_static(d.input(0)->dims)) {
    INGOT_RETURN_IF_ERROR(k->prepare_static(ln.node, d.input(0)->dims));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

}  // namespace

INGOT_REGISTER_TACTIC(cpu_onednn_conv_int8, .id = "cpu.onednn.conv.int8", .supports = conv_supports,
                      .prepare = conv_prepare, .precision = "int8");
INGOT_REGISTER_TACTIC(cpu_onednn_matmul_int8, .id = "cpu.onednn.matmul.int8", .supports = matmul_supports,
                      .prepare = matmul_prepare, .precision = "int8");

}  // namespace ingot::backends::cpu
