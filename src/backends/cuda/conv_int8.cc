// cuda.cudnn.conv.int8: the convolutions the builder marked int8 (precision "int8", with X's calibrated scale
// in quant_x_scale), channels-last, through cuDNN's graph API with int8 X and W and int32 products:
//   y = act(conv(qx, qw) * alpha[k] + bias[k] + z * sz) / sy
// - qx: X quantized (symmetric s8, clamp +-127) by ingot's kernel at the layer's start, into its workspace;
//   or X as it arrives, where the plan keeps that tensor int8 (quant_x_int8);
// - qw: W quantized per output channel once, when the layer is prepared (scale amax / 127), repacked KRSC;
// - alpha[k] = sx * sw[k]; Z is FP16 (sz = 1) or a kept int8 tensor at scale sz (quant_z_scale);
// - Y is FP16 (sy = 1), or int8 at scale sy where the plan keeps it so (quant_y_scale): then cuDNN rounds
//   and saturates the output. With ReLU, ReLU6 or no activation, 1 / sy is folded into alpha, the bias, sz
//   and the clip; otherwise it is a last multiply.
// Every int8 activation on the GPU is symmetric s8: a tensor calibrated as unsigned (u8, scale amax / 255)
// gets the scale amax / 127 here. Candidates: the plans cuDNN's heuristics offer for the graph (up to 8 that
// build, all at --opt-level 3), timed like the FP16 convolution's. keep_int8_activations decides which
// tensors stay int8 between such layers.
#include <cmath>
#include <cstring>
#include <unordered_map>

#include "backends/cuda/cudnn_graph.h"

namespace ingot::backends::cuda {
namespace {

namespace fe = cudnn_frontend;
using engine::Plan;
using engine::PlanLayer;
using engine::PlanTensor;
using kernels::Fn;
using kernels::FnParams;

constexpr int kMaxPlans = 8;
enum : int64_t { kUidX = 1, kUidW, kUidAlpha, kUidBias, kUidZ, kUidY };

// A tensor's symmetric s8 scale from the builder's calibration attributes (scale, and whether it was
// calibrated as unsigned, u8); an error where the attributes say an asymmetric zero point.
std::string s8_scale(const PlanLayer& l, const char* scale_attr, const char* unsigned_attr, float* out) {
  auto it = l.attrs.find(scale_attr);
  if (it == l.attrs.end()) return std::string("no calibrated scale (") + scale_attr + ")";
  const float s = it->second.f;
  if (!(s > 0) || !std::isfinite(s)) return std::string(scale_attr) + " is not a positive number";
  auto u = l.attrs.find(unsigned_attr);
  const bool is_unsigned = u != l.attrs.end() && u->second.i != 0;
  auto z = l.attrs.find(engine::zero_point_attr(scale_attr));
  if (z != l.attrs.end() && z->second.i != (is_unsigned ? 0 : 128))
    return "an asymmetric zero point (the GPU's int8 activations are symmetric)";
  *out = is_unsigned ? s * 255.f / 127.f : s;
  return "";
}

bool has_attr(const PlanLayer& l, const char* name) { return l.attrs.count(name) > 0; }
bool int_attr(const PlanLayer& l, const char* name) {
  auto it = l.attrs.find(name);
  return it != l.attrs.end() && it->second.i != 0;
}

// 1 / sy folds into the affine part where act(v) / sy = act'(v / sy): ReLU, ReLU6 (the clip scaled), none.
bool homogeneous(const FnParams& f) {
  return f.fn == Fn::kNone || f.fn == Fn::kRelu || (f.fn == Fn::kClip && f.alpha == 0.f);
}

std::string int8_conv_supports(const LayerBuild& b) {
  const PlanLayer& l = b.layer;
  const bool fused = l.domain == "ingot" && l.op_type == "FusedConv";
  if (!fused && !(l.domain.empty() && l.op_type == "Conv")) return "-";
  if (l.precision != "int8") return "-";
  if (!b.fp16) return "int8 convolutions are for --int8 engines";
  if (!b.has_in(0) || b.in(0).dims.size() != 4) return "only 2-D convolution";
  if (!b.nhwc_in(0) || !b.nhwc_out(0) || (b.has_in(3) && !b.nhwc_in(3))) return "not channels-last";
  if (!b.is_weight(1) || b.in(1).dtype != DType::kF32) return "the filter is not a constant float32";
  if (b.has_in(2) && (!b.is_weight(2) || b.in(2).dtype != DType::kF32)) return "the bias is not a constant";
  if (b.attr_int("group", 1) != 1) return "grouped convolution";
  if (b.attr_string("auto_pad", "NOTSET") != "NOTSET") return "auto_pad";
  const auto pads = b.attr_ints("pads");
  if (pads.size() == 4 && (pads[0] != pads[2] || pads[1] != pads[3])) return "asymmetric pads";
  // cuDNN's int8 convolutions read channels in groups of 4. (Two ways to run resnet50's stem, of 3 channels,
  // in int8 were tried on an H100, both slower than its FP16 convolution's 0.088 ms at batch 32: X padded to
  // 4 channels as it is quantized, 1.43 ms; X and W in FP16 into an int8 Y, 0.39 ms.)
  if (b.in(0).dims[1] % 4 != 0 || b.in(1).dims[0] % 4 != 0) return "channels not a multiple of 4";
  FnParams fn;
  if (fused) {
    auto f = fused_activation(b);
    if (!f.ok()) return f.status().message();
    fn = *f;
    fe::graph::Pointwise_attributes a;
    if (fn.fn != Fn::kNone && !graph_activation(fn, &a)) return "the activation has no cuDNN pointwise form";
  }
  float s = 0;
  std::string why = s8_scale(l, engine::kQuantScaleAttr, engine::kQuantUnsignedAttr, &s);
  if (!why.empty()) return why;
  const bool x8 = int_attr(l, engine::kQuantXInt8Attr);
  if (b.in(0).dtype != (x8 ? DType::kI8 : DType::kF32)) return "X's type is not what quant_x_int8 says";
  const bool y8 = has_attr(l, engine::kQuantYScaleAttr);
  if (b.out(0).dtype != (y8 ? DType::kI8 : DType::kF32)) return "Y's type is not what quant_y_scale says";
  if (y8) {
    why = s8_scale(l, engine::kQuantYScaleAttr, engine::kQuantYUnsignedAttr, &s);
    if (!why.empty()) return why;
  }
  if (b.has_in(3)) {
    const bool z8 = has_attr(l, engine::kQuantZScaleAttr);
    if (b.in(3).dtype != (z8 ? DType::kI8 : DType::kF32)) return "Z's type is not what quant_z_scale says";
    if (z8) {
      why = s8_scale(l, engine::kQuantZScaleAttr, engine::kQuantZUnsignedAttr, &s);
      if (!why.empty()) return why;
    }
  }
  return "";
}

class Int8ConvLayer : public CudaLayer {
 public:
  ~Int8ConvLayer() override {
    for (void* p : {filter_, alpha_, bias_})
      if (p) cudaFree(p);
  }

  Status init(const LayerBuild& b) {
    const PlanLayer& l = b.layer;
    const Dims& x = b.in(0).dims;
    const Dims& w = b.in(1).dims;
    const Dims& y = b.out(0).dims;
    dims_x_.assign(x.begin(), x.end());
    dims_w_.assign(w.begin(), w.end());
    dims_y_.assign(y.begin(), y.end());
    std::vector<int64_t> pads = b.attr_ints("pads"), strides = b.attr_ints("strides"),
                         dil = b.attr_ints("dilations");
    pads_ = pads.empty() ? std::vector<int64_t>{0, 0} : std::vector<int64_t>{pads[0], pads[1]};
    strides_ = strides.empty() ? std::vector<int64_t>{1, 1} : strides;
    dil_ = dil.empty() ? std::vector<int64_t>{1, 1} : dil;
    if (b.layer.domain == "ingot") {
      INGOT_ASSIGN_OR_RETURN(fn_, fused_activation(b));
    }
    float sx = 1, sy = 1, sz = 1;
    (void)s8_scale(l, engine::kQuantScaleAttr, engine::kQuantUnsignedAttr, &sx);
    x_int8_ = int_attr(l, engine::kQuantXInt8Attr);
    y_int8_ = has_attr(l, engine::kQuantYScaleAttr);
    if (y_int8_) (void)s8_scale(l, engine::kQuantYScaleAttr, engine::kQuantYUnsignedAttr, &sy);
    has_z_ = b.has_in(3);
    z_int8_ = has_z_ && has_attr(l, engine::kQuantZScaleAttr);
    if (z_int8_) (void)s8_scale(l, engine::kQuantZScaleAttr, engine::kQuantZUnsignedAttr, &sz);
    sx_ = sx;
    // 1 / sy into the affine part where the activation allows, else a last multiply.
    const float fold = y_int8_ && homogeneous(fn_) ? 1.f / sy : 1.f;
    out_mul_ = y_int8_ && !homogeneous(fn_) ? 1.f / sy : 1.f;
    z_mul_ = sz * fold;
    if (fn_.fn == Fn::kClip) fn_.beta *= fold;

    // W per output channel to s8, repacked KCRS -> KRSC; alpha and the bias as FP32 vectors.
    const Tensor& wt = b.in(1).weight;
    const float* wf = wt.data<float>();
    const int64_t k = w[0], c = w[1], rs = w[2] * w[3], per = c * rs;
    std::vector<int8_t> q(static_cast<size_t>(k * per));
    std::vector<float> alpha(static_cast<size_t>(k)), bias(static_cast<size_t>(k), 0.f);
    for (int64_t o = 0; o < k; ++o) {
      float amax = 0;
      for (int64_t i = 0; i < per; ++i) amax = std::max(amax, std::fabs(wf[o * per + i]));
      const float sw = amax > 0 ? amax / 127.f : 1.f;
      alpha[o] = sx * sw * fold;
      for (int64_t ci = 0; ci < c; ++ci)
        for (int64_t p = 0; p < rs; ++p) {
          const float v = std::nearbyint(wf[o * per + ci * rs + p] / sw);
          q[(o * rs + p) * c + ci] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, v)));
        }
    }
    if (b.has_in(2)) {
      const float* bf = b.in(2).weight.data<float>();
      for (int64_t o = 0; o < k; ++o) bias[o] = bf[o] * fold;
    }
    INGOT_CUDA_OK(cudaMalloc(&filter_, q.size()));
    INGOT_CUDA_OK(cudaMemcpy(filter_, q.data(), q.size(), cudaMemcpyHostToDevice));
    INGOT_CUDA_OK(cudaMalloc(&alpha_, alpha.size() * 4));
    INGOT_CUDA_OK(cudaMemcpy(alpha_, alpha.data(), alpha.size() * 4, cudaMemcpyHostToDevice));
    INGOT_CUDA_OK(cudaMalloc(&bias_, bias.size() * 4));
    INGOT_CUDA_OK(cudaMemcpy(bias_, bias.data(), bias.size() * 4, cudaMemcpyHostToDevice));
    numel_x_ = x[0] * x[1] * x[2] * x[3];
    qx_bytes_ = x_int8_ ? 0 : (static_cast<size_t>(numel_x_) + 255) / 256 * 256;
    return Status::Ok();
  }

  // conv (int32) -> * alpha -> + bias -> + z [* sz] -> activation [-> * 1/sy] -> Y (int8 or FP16).
  Status make_graph(cudnnHandle_t h) {
    if (graph_) return Status::Ok();
    auto g = std::make_shared<fe::graph::Graph>();
    g->set_io_data_type(fe::DataType_t::INT8)
        .set_intermediate_data_type(fe::DataType_t::FLOAT)
        .set_compute_data_type(fe::DataType_t::FLOAT);
    auto nhwc = [](const std::vector<int64_t>& d) {
      return std::vector<int64_t>{d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]};
    };
    auto tensor = [&](const char* name, int64_t uid, const std::vector<int64_t>& d, std::vector<int64_t> st,
                      fe::DataType_t t) {
      return g->tensor(
          fe::graph::Tensor_attributes().set_name(name).set_uid(uid).set_dim(d).set_stride(st).set_data_type(
              t));
    };
    auto pw = [](fe::PointwiseMode_t m, const char* name) {
      return fe::graph::Pointwise_attributes().set_mode(m).set_name(name);
    };
    auto y = g->conv_fprop(tensor("x", kUidX, dims_x_, nhwc(dims_x_), fe::DataType_t::INT8),
                           tensor("w", kUidW, dims_w_, nhwc(dims_w_), fe::DataType_t::INT8),
                           fe::graph::Conv_fprop_attributes()
                               .set_name("conv")
                               .set_padding(pads_)
                               .set_stride(strides_)
                               .set_dilation(dil_)
                               .set_compute_data_type(fe::DataType_t::INT32));
    y->set_data_type(fe::DataType_t::FLOAT);
    const int64_t k = dims_y_[1];
    const std::vector<int64_t> dk{1, k, 1, 1}, sk{k, 1, k, k};
    y = g->pointwise(y, tensor("alpha", kUidAlpha, dk, sk, fe::DataType_t::FLOAT),
                     pw(fe::PointwiseMode_t::MUL, "alpha"));
    y = g->pointwise(y, tensor("bias", kUidBias, dk, sk, fe::DataType_t::FLOAT),
                     pw(fe::PointwiseMode_t::ADD, "bias"));
    if (has_z_) {
      auto z =
          tensor("z", kUidZ, dims_y_, nhwc(dims_y_), z_int8_ ? fe::DataType_t::INT8 : fe::DataType_t::HALF);
      if (z_mul_ != 1.f) z = g->pointwise(z, g->tensor(z_mul_), pw(fe::PointwiseMode_t::MUL, "z_scale"));
      y = g->pointwise(y, z, pw(fe::PointwiseMode_t::ADD, "residual"));
    }
    if (fn_.fn != Fn::kNone) {
      fe::graph::Pointwise_attributes act;
      if (!graph_activation(fn_, &act)) return unsupported("the activation has no cuDNN pointwise form");
      y = g->pointwise(y, act.set_name("activation"));
    }
    if (out_mul_ != 1.f) y = g->pointwise(y, g->tensor(out_mul_), pw(fe::PointwiseMode_t::MUL, "y_scale"));
    y->set_output(true)
        .set_uid(kUidY)
        .set_dim(dims_y_)
        .set_stride(nhwc(dims_y_))
        .set_data_type(y_int8_ ? fe::DataType_t::INT8 : fe::DataType_t::HALF);
    INGOT_RETURN_IF_ERROR(plan_graph(*g, h));
    graph_ = std::move(g);
    return Status::Ok();
  }

  // The plans that build, in the heuristics' order (up to kMaxPlans unless exhaustive).
  Expected<std::vector<int64_t>> candidates(cudnnHandle_t h, bool exhaustive) {
    INGOT_RETURN_IF_ERROR(make_graph(h));
    std::vector<int64_t> out;
    const int64_t n = graph_->get_execution_plan_count();
    for (int64_t i = 0; i < n && (exhaustive || static_cast<int>(out.size()) < kMaxPlans); ++i)
      if (graph_->build_plan_at_index(i).is_good()) out.push_back(i);
    if (out.empty()) return unsupported("cuDNN builds no int8 plan for this convolution");
    return out;
  }

  Status choose(cudnnHandle_t h, int64_t choice) {
    INGOT_RETURN_IF_ERROR(make_graph(h));
    if (choice < 0 || choice >= graph_->get_execution_plan_count())
      return unsupported("cuDNN int8 plan " + std::to_string(choice) +
                         " is not offered on this GPU and cuDNN");
    INGOT_FE_OK(graph_->build_plan_at_index(choice));
    int64_t ws = 0;
    INGOT_FE_OK(graph_->get_workspace_size_plan_at_index(choice, ws));
    plan_ws_ = static_cast<size_t>(ws);
    choice_ = choice;
    return Status::Ok();
  }

  Status enqueue(const Launch& l) const override {
    cudnnHandle_t h = l.handles->cudnn;
    INGOT_CUDNN_OK(cudnnSetStream(h, l.stream));
    void* x = l.in[0].ptr;
    if (!x_int8_) {
      kernels::quantize_s8(true, l.in[0].ptr, l.workspace, numel_x_, sx_, l.stream);
      INGOT_CUDA_LAUNCHED();
      x = l.workspace;
    }
    std::unordered_map<int64_t, void*> pack{
        {kUidX, x}, {kUidW, filter_}, {kUidAlpha, alpha_}, {kUidBias, bias_}, {kUidY, l.out[0].ptr}};
    if (has_z_) pack[kUidZ] = l.in[3].ptr;
    void* ws = static_cast<uint8_t*>(l.workspace) + qx_bytes_;
    INGOT_FE_OK(graph_->execute_plan_at_index(h, pack, ws, choice_));
    return Status::Ok();
  }
  size_t workspace_bytes() const override { return qx_bytes_ + plan_ws_; }
  size_t max_workspace(cudnnHandle_t, const std::vector<int64_t>& cands) const {
    size_t m = 0;
    for (int64_t c : cands) {
      int64_t ws = 0;
      if (graph_->get_workspace_size_plan_at_index(c, ws).is_good()) m = std::max(m, static_cast<size_t>(ws));
    }
    return qx_bytes_ + m;
  }
  std::string describe(int64_t c) const {
    std::string name;
    if (graph_->get_plan_name_at_index(c, name).is_bad()) name = "?";
    return "int8 graph plan " + std::to_string(c) + " (" + name + ")";
  }

 private:
  std::vector<int64_t> dims_x_, dims_w_, dims_y_, pads_, strides_, dil_;
  FnParams fn_;
  bool x_int8_ = false, y_int8_ = false, has_z_ = false, z_int8_ = false;
  float sx_ = 1, z_mul_ = 1, out_mul_ = 1;
  int64_t numel_x_ = 0, choice_ = 0;
  size_t qx_bytes_ = 0, plan_ws_ = 0;
  void *filter_ = nullptr, *alpha_ = nullptr, *bias_ = nullptr;
  std::shared_ptr<fe::graph::Graph> graph_;
};

Expected<std::unique_ptr<CudaLayer>> int8_conv_prepare(LayerBuild& b) {
  const std::string why = int8_conv_supports(b);
  if (!why.empty()) return unsupported("layer '" + b.layer.name + "': " + why);
  auto c = std::make_unique<Int8ConvLayer>();
  INGOT_RETURN_IF_ERROR(c->init(b));
  INGOT_RETURN_IF_ERROR(choose_candidate(*c, b.handles->cudnn, b));
  return std::unique_ptr<CudaLayer>(std::move(c));
}

INGOT_REGISTER_CUDA_TACTIC(cudnn_conv_int8, kInt8ConvTactic, int8_conv_supports, int8_conv_prepare);

ir::Attribute float_attr(float v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kFloat;
  a.f = v;
  return a;
}
ir::Attribute int_value(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}

}  // namespace

// An activation that an int8 convolution writes and only int8 convolutions read (as X or as the residual Z)
// stays int8 (s8, NHWC) at the scale its readers were calibrated with, so that neither side converts it.
// Each agreement is kept where the producer and every reader still pass int8_conv_supports.
int keep_int8_activations(Plan& plan, bool fp16, bool through_pools) {
  const size_t n = plan.tensors.size();
  std::vector<int> producer(n, -1);
  std::vector<std::vector<std::pair<int, size_t>>> readers(n);
  std::vector<bool> fixed(n, false);  // engine inputs and outputs, views and what they view
  for (int32_t t : plan.inputs) fixed[t] = true;
  for (int32_t t : plan.outputs) fixed[t] = true;
  for (size_t t = 0; t < n; ++t)
    if (plan.tensors[t].alias_of >= 0) fixed[t] = fixed[plan.tensors[t].alias_of] = true;
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const PlanLayer& layer = plan.layers[l];
    for (size_t i = 0; i < layer.inputs.size(); ++i)
      if (layer.inputs[i] >= 0) readers[layer.inputs[i]].push_back({static_cast<int>(l), i});
    for (int32_t o : layer.outputs)
      if (o >= 0) producer[o] = static_cast<int>(l);
  }
  auto supported = [&](int l) {
    LayerBuild b{plan.layers[l], plan.tensors};
    b.fp16 = fp16;
    return int8_conv_supports(b).empty();
  };
  // Makes `ts` int8: `prod` (an int8 convolution) writes ts[0], `pool` (a max pooling, or -1) reads ts[0] and
  // writes ts[1], and `rs` read the last, all at the scale its readers were calibrated with; or, with prod ==
  // pool, the pooling writes ts[0] from its float input. Undone unless every layer involved still supports
  // it.
  const CudaTactic* pool_tactic = find_cuda_tactic("cuda.ingot.pool2d");
  auto try_keep = [&](const std::vector<size_t>& ts, int prod, int pool,
                      const std::vector<std::pair<int, size_t>>& rs) {
    for (size_t t : ts) {
      const PlanTensor& tensor = plan.tensors[t];
      if (tensor.kind != engine::TensorKind::kActivation || fixed[t] || tensor.dtype != DType::kF32 ||
          tensor.dims.size() != 4)
        return false;
    }
    if (rs.empty() || (prod != pool && !supported(prod))) return false;
    float scale = 0;
    for (const auto& [l, slot] : rs) {
      if ((slot != 0 && slot != 3) || !supported(l)) return false;
      const PlanLayer& r = plan.layers[l];
      float s = 0;
      const bool found =
          slot == 0
              ? s8_scale(r, engine::kQuantScaleAttr, engine::kQuantUnsignedAttr, &s).empty()
              : s8_scale(r, engine::kQuantZCalibScaleAttr, engine::kQuantZCalibUnsignedAttr, &s).empty();
      if (found && (scale == 0 || slot == 0)) scale = s;
    }
    if (scale == 0) return false;
    std::vector<std::pair<int, std::map<std::string, ir::Attribute>>> before;
    auto set = [&](int l, std::initializer_list<std::pair<const char*, ir::Attribute>> attrs) {
      before.push_back({l, plan.layers[l].attrs});
      for (const auto& [name, value] : attrs) plan.layers[l].attrs[name] = value;
    };
    std::vector<PlanTensor> was;
    for (size_t t : ts) {
      was.push_back(plan.tensors[t]);
      plan.tensors[t].dtype = DType::kI8;
    }
    set(prod, {{engine::kQuantYScaleAttr, float_attr(scale)}, {engine::kQuantYUnsignedAttr, int_value(0)}});
    for (const auto& [l, slot] : rs) {
      if (slot == 0)
        set(l, {{engine::kQuantScaleAttr, float_attr(scale)},
                {engine::kQuantUnsignedAttr, int_value(0)},
                {engine::kQuantXInt8Attr, int_value(1)}});
      else
        set(l, {{engine::kQuantZScaleAttr, float_attr(scale)}, {engine::kQuantZUnsignedAttr, int_value(0)}});
    }
    // A Q/DQ model's zero points no longer apply to the s8 tensor.
    for (auto& [l, _] : before)
      for (const char* a : {engine::kQuantScaleAttr, engine::kQuantYScaleAttr, engine::kQuantZScaleAttr})
        if (plan.layers[l].attrs.count(a)) plan.layers[l].attrs.erase(engine::zero_point_attr(a));
    bool ok = prod == pool || supported(prod);
    for (const auto& [l, _] : rs) ok = ok && supported(l);
    if (ok && pool >= 0) {
      LayerBuild b{plan.layers[pool], plan.tensors};
      b.fp16 = fp16;
      ok = pool_tactic && pool_tactic->supports(b).empty();
    }
    if (ok) return true;
    for (size_t i = 0; i < ts.size(); ++i) plan.tensors[ts[i]] = was[i];
    for (auto it = before.rbegin(); it != before.rend(); ++it) plan.layers[it->first].attrs = it->second;
    return false;
  };
  int kept = 0;
  for (size_t t = 0; t < n; ++t)
    if (producer[t] >= 0) kept += try_keep({t}, producer[t], -1, readers[t]);
  // Max pooling between int8 convolutions keeps both its tensors int8: the max commutes with the
  // quantization. Into int8 convolutions only, it writes int8.
  for (size_t p = 0; p < plan.layers.size() && through_pools; ++p) {
    const PlanLayer& pl = plan.layers[p];
    if (!pl.domain.empty() || pl.op_type != "MaxPool" || pl.inputs.empty() || pl.inputs[0] < 0 ||
        pl.outputs.empty() || pl.outputs[0] < 0 || (pl.outputs.size() > 1 && pl.outputs[1] >= 0))
      continue;
    const size_t t1 = pl.inputs[0], t2 = pl.outputs[0];
    const int pi = static_cast<int>(p);
    if (producer[t1] >= 0 && readers[t1].size() == 1 && try_keep({t1, t2}, producer[t1], pi, readers[t2]))
      kept += 2;
    else  // its input stays float (resnet's stem, a convolution of 3 channels): the pooling quantizes
      kept += try_keep({t2}, pi, pi, readers[t2]);
  }
  return kept;
}

}  // namespace ingot::backends::cuda
