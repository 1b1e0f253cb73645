// Convolution through cuDNN: Conv and ingot.FusedConv (y = act(conv(x, w) + bias + z)). Two kinds of
// candidates, timed by the builder with CUDA events, the pick kept in the engine (attribute cuda_choice):
//  - cuDNN's graph API (through NVIDIA's cuDNN frontend): the whole layer as one operation graph,
//    convolution -> add bias -> add z -> activation, and the execution plans (engine and knobs) that cuDNN's
//    heuristics offer for it, runtime-fused engines among them (choice = kGraphChoice + plan index; up to
//    8 plans, all of them at --opt-level 3);
//  - ingot's channels-last depthwise kernel (kernels::depthwise_nhwc, bias, residual and activation fused),
//  for
//    depthwise convolutions kept NHWC (choice = kOwnDepthwise, or kOwnDepthwise4 with 4 output pixels a
//    thread);
//  - the legacy API: the algorithms cudnnGetConvolutionForwardAlgorithm_v7 offers, each either fused in
//    cudnnConvolutionBiasActivationForward (ReLU or no activation) or as the convolution followed by
//    ingot's epilogue kernel (choice = algo * 2 + fused).
// INGOT_CUDA_CONV at build restricts the kinds (kind_enabled).
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <unordered_map>

#include "backends/cuda/cudnn_graph.h"
#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda {
namespace {

namespace fe = cudnn_frontend;
using kernels::Fn;
using kernels::FnParams;

constexpr int64_t kGraphChoice = 1000;    // choices from here on are graph-API plans
constexpr int64_t kOwnDepthwise = 5000;   // ingot's channels-last depthwise kernel, 1 output pixel a thread
constexpr int64_t kOwnDepthwise4 = 5001;  // the same, 4 pixels of a row a thread
constexpr int kMaxGraphPlans = 8;         // plans built and timed per layer below --opt-level 3
enum : int64_t { kUidX = 1, kUidW, kUidBias, kUidZ, kUidY };

// INGOT_CUDA_CONV=KIND[,KIND] (ingot, ingot4, graph, legacy) keeps only those kinds of candidates, where the
// layer has any of them: for tests and A/B timings.
bool kind_enabled(const char* kind) {
  const char* e = std::getenv("INGOT_CUDA_CONV");
  if (!e || !*e) return true;
  const std::string list = std::string(",") + e + ",";
  return list.find(std::string(",") + kind + ",") != std::string::npos;
}

class ConvLayer : public CudaLayer {
 public:
  ~ConvLayer() override {
    if (x_) cudnnDestroyTensorDescriptor(x_);
    if (y_) cudnnDestroyTensorDescriptor(y_);
    if (bias_d_) cudnnDestroyTensorDescriptor(bias_d_);
    if (w_) cudnnDestroyFilterDescriptor(w_);
    if (conv_) cudnnDestroyConvolutionDescriptor(conv_);
    if (act_) cudnnDestroyActivationDescriptor(act_);
    if (zero_bias_) cudaFree(zero_bias_);
    if (filter_) cudaFree(filter_);
    if (dw_filter_) cudaFree(dw_filter_);
  }

  Status init(const LayerBuild& b) {
    half_ = b.fp16;
    own_kernels_ = b.own_kernels;
    const cudnnDataType_t dt = half_ ? CUDNN_DATA_HALF : CUDNN_DATA_FLOAT;
    const Dims& x = b.in(0).dims;
    const Dims& w = b.in(1).dims;
    const Dims& y = b.out(0).dims;
    nhwc_ = b.nhwc_in(0);
    channels_ = y[1];
    inner_ = nhwc_ ? 1 : y[2] * y[3];
    numel_ = y[0] * y[1] * y[2] * y[3];
    INGOT_ASSIGN_OR_RETURN(fn_, fused_activation(b));
    has_bias_ = b.has_in(2);
    has_z_ = b.has_in(3);
    INGOT_CUDNN_OK(cudnnCreateTensorDescriptor(&x_));
    INGOT_CUDNN_OK(cudnnCreateTensorDescriptor(&y_));
    INGOT_CUDNN_OK(cudnnCreateTensorDescriptor(&bias_d_));
    INGOT_CUDNN_OK(cudnnCreateFilterDescriptor(&w_));
    INGOT_CUDNN_OK(cudnnCreateConvolutionDescriptor(&conv_));
    INGOT_CUDNN_OK(cudnnCreateActivationDescriptor(&act_));
    auto i = [](int64_t v) { return static_cast<int>(v); };
    const cudnnTensorFormat_t fmt = nhwc_ ? CUDNN_TENSOR_NHWC : CUDNN_TENSOR_NCHW;
    INGOT_CUDNN_OK(cudnnSetTensor4dDescriptor(x_, fmt, dt, i(x[0]), i(x[1]), i(x[2]), i(x[3])));
    INGOT_CUDNN_OK(cudnnSetTensor4dDescriptor(y_, fmt, dt, i(y[0]), i(y[1]), i(y[2]), i(y[3])));
    INGOT_CUDNN_OK(cudnnSetTensor4dDescriptor(bias_d_, CUDNN_TENSOR_NCHW, dt, 1, i(y[1]), 1, 1));
    INGOT_CUDNN_OK(cudnnSetFilter4dDescriptor(w_, dt, fmt, i(w[0]), i(w[1]), i(w[2]), i(w[3])));
    if (nhwc_) {
      // The filter repacked once next to the engine's copy: KCRS -> KRSC, and for a depthwise convolution
      // also [kh, kw, c] for ingot's kernel.
      const DevTensor& wt = b.weights[1];
      const size_t e = dtype_size(wt.dtype);
      auto repack = [&](void** dst,
                        std::initializer_list<std::pair<int64_t, int64_t>> dims_strides) -> Status {
        INGOT_CUDA_OK(cudaMalloc(dst, static_cast<size_t>(wt.numel()) * e));
        kernels::Strided m;
        for (const auto& [dim, stride] : dims_strides) {
          m.dims[m.rank] = dim;
          m.strides[m.rank++] = stride;
        }
        kernels::strided_copy(e, *dst, wt.ptr, m, nullptr);
        INGOT_CUDA_LAUNCHED();
        return Status::Ok();
      };
      INGOT_RETURN_IF_ERROR(
          repack(&filter_, {{w[0], w[1] * w[2] * w[3]}, {w[2], w[3]}, {w[3], 1}, {w[1], w[2] * w[3]}}));
      if (b.attr_int("group", 1) == x[1] && w[0] == x[1] && w[1] == 1)
        INGOT_RETURN_IF_ERROR(repack(&dw_filter_, {{w[2], w[3]}, {w[3], 1}, {w[0], w[2] * w[3]}}));
      INGOT_CUDA_OK(cudaStreamSynchronize(nullptr));
    }
    std::vector<int64_t> pads = b.attr_ints("pads"), strides = b.attr_ints("strides"),
                         dil = b.attr_ints("dilations");
    if (pads.empty()) pads = {0, 0, 0, 0};
    if (strides.empty()) strides = {1, 1};
    if (dil.empty()) dil = {1, 1};
    dims_x_.assign(x.begin(), x.end());
    dims_w_.assign(w.begin(), w.end());
    dims_y_.assign(y.begin(), y.end());
    pads_ = {pads[0], pads[1]};
    strides_ = strides;
    dil_ = dil;
    dw_ = kernels::DepthwiseShape{i(x[0]),    i(x[1]),    i(x[2]),   i(x[3]),       i(y[2]),
                                  i(y[3]),    i(w[2]),    i(w[3]),   i(strides[0]), i(strides[1]),
                                  i(pads[0]), i(pads[1]), i(dil[0]), i(dil[1])};
    INGOT_CUDNN_OK(cudnnSetConvolution2dDescriptor(conv_, i(pads[0]), i(pads[1]), i(strides[0]),
                                                   i(strides[1]), i(dil[0]), i(dil[1]),
                                                   CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT));
    INGOT_CUDNN_OK(cudnnSetConvolutionGroupCount(conv_, i(b.attr_int("group", 1))));
    // FP16: tensor cores. FP32: cuDNN's default math, which uses TF32 tensor cores on Hopper (as PyTorch's
    // cudnn.allow_tf32 default does).
    INGOT_CUDNN_OK(cudnnSetConvolutionMathType(conv_, half_ ? CUDNN_TENSOR_OP_MATH : CUDNN_DEFAULT_MATH));
    const bool relu = fn_.fn == Fn::kRelu;
    INGOT_CUDNN_OK(cudnnSetActivationDescriptor(
        act_, relu ? CUDNN_ACTIVATION_RELU : CUDNN_ACTIVATION_IDENTITY, CUDNN_NOT_PROPAGATE_NAN, 0.0));
    fusable_ = relu || fn_.fn == Fn::kNone;
    if (!has_bias_) {
      const size_t bytes = static_cast<size_t>(channels_) * (half_ ? 2 : 4);
      INGOT_CUDA_OK(cudaMalloc(&zero_bias_, bytes));
      INGOT_CUDA_OK(cudaMemset(zero_bias_, 0, bytes));
    }
    return Status::Ok();
  }

  // The operation graph conv -> +bias -> +z -> activation, and the plans cuDNN's heuristics (modes A and
  // fallback) offer for it.
  Status make_graph(cudnnHandle_t h) {
    if (graph_) return Status::Ok();
    fe::graph::Pointwise_attributes act;
    const bool with_act = fn_.fn != Fn::kNone;
    if (with_act && !graph_activation(fn_, &act))
      return unsupported("the activation has no cuDNN pointwise form");
    auto g = std::make_shared<fe::graph::Graph>();
    g->set_io_data_type(half_ ? fe::DataType_t::HALF : fe::DataType_t::FLOAT)
        .set_intermediate_data_type(fe::DataType_t::FLOAT)
        .set_compute_data_type(fe::DataType_t::FLOAT);
    // Strides of an NCHW-indexed 4-D tensor in this layer's layout (the filter KCRS or KRSC alike).
    auto layout = [&](const std::vector<int64_t>& d) {
      return nhwc_ ? std::vector<int64_t>{d[1] * d[2] * d[3], 1, d[3] * d[1], d[1]}
                   : std::vector<int64_t>{d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
    };
    auto tensor = [&](const char* name, int64_t uid, const std::vector<int64_t>& d, std::vector<int64_t> st) {
      return g->tensor(fe::graph::Tensor_attributes().set_name(name).set_uid(uid).set_dim(d).set_stride(st));
    };
    auto y = g->conv_fprop(tensor("x", kUidX, dims_x_, layout(dims_x_)),
                           tensor("w", kUidW, dims_w_, layout(dims_w_)),
                           fe::graph::Conv_fprop_attributes()
                               .set_name("conv")
                               .set_padding(pads_)
                               .set_stride(strides_)
                               .set_dilation(dil_));
    const auto add = [] { return fe::graph::Pointwise_attributes().set_mode(fe::PointwiseMode_t::ADD); };
    if (has_bias_) {
      const int64_t k = dims_y_[1];
      y = g->pointwise(y, tensor("bias", kUidBias, {1, k, 1, 1}, {k, 1, k, k}), add().set_name("bias"));
    }
    if (has_z_) y = g->pointwise(y, tensor("z", kUidZ, dims_y_, layout(dims_y_)), add().set_name("residual"));
    if (with_act) y = g->pointwise(y, act.set_name("activation"));
    y->set_output(true).set_uid(kUidY).set_dim(dims_y_).set_stride(layout(dims_y_));
    INGOT_RETURN_IF_ERROR(plan_graph(*g, h));
    graph_ = std::move(g);
    return Status::Ok();
  }

  // Builds graph plan `index` once (cuDNN checks that it supports the graph first).
  Status build_plan(cudnnHandle_t h, int64_t index) {
    INGOT_RETURN_IF_ERROR(make_graph(h));
    if (std::find(graph_plans_.begin(), graph_plans_.end(), index) != graph_plans_.end()) return Status::Ok();
    if (index < 0 || index >= graph_->get_execution_plan_count())
      return unsupported("cuDNN graph plan " + std::to_string(index) +
                         " is not offered on this GPU and cuDNN");
    INGOT_FE_OK(graph_->build_plan_at_index(index));
    graph_plans_.push_back(index);
    return Status::Ok();
  }

  // The candidates: the graph plans that build (up to kMaxGraphPlans, in the heuristics' order), then the
  // (algo, fused) pairs of the legacy API's heuristic, in its order.
  Expected<std::vector<int64_t>> candidates(cudnnHandle_t h, bool exhaustive) {
    std::vector<int64_t> out;
    if (dw_filter_) out.insert(out.end(), {kOwnDepthwise, kOwnDepthwise4});
    if (make_graph(h).ok()) {
      const int64_t n = graph_->get_execution_plan_count();
      for (int64_t i = 0; i < n && (exhaustive || static_cast<int>(out.size()) < kMaxGraphPlans); ++i)
        if (build_plan(h, i).ok()) out.push_back(kGraphChoice + i);
    }
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    INGOT_CUDNN_OK(cudnnGetConvolutionForwardAlgorithm_v7(h, x_, w_, conv_, y_,
                                                          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    for (int k = 0; k < n; ++k) {
      if (perf[k].status != CUDNN_STATUS_SUCCESS || perf[k].memory > (size_t(1) << 30)) continue;
      const int64_t algo = perf[k].algo;
      if (fusable_ && (fn_.fn == Fn::kRelu || algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM))
        out.push_back(algo * 2 + 1);
      out.push_back(algo * 2);
    }
    if (out.empty()) return unsupported("cuDNN offers no algorithm for this convolution");
    std::vector<int64_t> kept;
    for (int64_t c : out)
      if ((own_kernels_ || !own_choice(c)) && kind_enabled(c == kOwnDepthwise4  ? "ingot4"
                                                           : c == kOwnDepthwise ? "ingot"
                                                           : graph_choice(c)    ? "graph"
                                                                                : "legacy"))
        kept.push_back(c);
    return kept.empty() ? out : kept;
  }

  Status choose(cudnnHandle_t h, int64_t choice) {
    choice_ = choice;
    if (own_choice(choice)) {
      dw_.pixels = choice == kOwnDepthwise4 ? 4 : 1;
      if (!dw_filter_)
        return unsupported("ingot's depthwise kernel: not a channels-last depthwise convolution");
      ws_ = 0;
      return Status::Ok();
    }
    if (graph_choice(choice)) {
      INGOT_RETURN_IF_ERROR(build_plan(h, choice - kGraphChoice));
      int64_t ws = 0;
      INGOT_FE_OK(graph_->get_workspace_size_plan_at_index(choice - kGraphChoice, ws));
      ws_ = static_cast<size_t>(ws);
      return Status::Ok();
    }
    INGOT_CUDNN_OK(cudnnGetConvolutionForwardWorkspaceSize(h, x_, w_, conv_, y_, algo(), &ws_));
    return Status::Ok();
  }

  Status enqueue(const Launch& l) const override {
    const float one = 1.f, zero = 0.f;
    cudnnHandle_t h = l.handles->cudnn;
    INGOT_CUDNN_OK(cudnnSetStream(h, l.stream));
    const void* bias = has_bias_ ? l.in[2].ptr : zero_bias_;
    void* y = l.out[0].ptr;
    if (own_choice(choice_)) {
      kernels::depthwise_nhwc(half_, y, l.in[0].ptr, dw_filter_, has_bias_ ? l.in[2].ptr : nullptr,
                              has_z_ ? l.in[3].ptr : nullptr, dw_, fn_, l.stream);
      INGOT_CUDA_LAUNCHED();
      return Status::Ok();
    }
    if (graph_choice(choice_)) {
      std::unordered_map<int64_t, void*> pack{
          {kUidX, l.in[0].ptr}, {kUidW, const_cast<void*>(filter(l))}, {kUidY, y}};
      if (has_bias_) pack[kUidBias] = l.in[2].ptr;
      if (has_z_) pack[kUidZ] = l.in[3].ptr;
      INGOT_FE_OK(graph_->execute_plan_at_index(h, pack, l.workspace, choice_ - kGraphChoice));
      return Status::Ok();
    }
    if (choice_ % 2 == 1) {
      const float alpha2 = has_z_ ? 1.f : 0.f;
      const void* z = has_z_ ? l.in[3].ptr : y;
      INGOT_CUDNN_OK(cudnnConvolutionBiasActivationForward(h, &one, x_, l.in[0].ptr, w_, filter(l), conv_,
                                                           algo(), l.workspace, ws_, &alpha2, y_, z, bias_d_,
                                                           bias, act_, y_, y));
      return Status::Ok();
    }
    INGOT_CUDNN_OK(cudnnConvolutionForward(h, &one, x_, l.in[0].ptr, w_, filter(l), conv_, algo(),
                                           l.workspace, ws_, &zero, y_, y));
    if (has_bias_ || has_z_ || fn_.fn != Fn::kNone) {
      kernels::epilogue(half_, y, y, has_bias_ ? bias : nullptr, has_z_ ? l.in[3].ptr : nullptr, numel_,
                        inner_, channels_, fn_, l.stream);
      INGOT_CUDA_LAUNCHED();
    }
    return Status::Ok();
  }
  size_t workspace_bytes() const override { return ws_; }
  // A candidate in words, for INGOT_LOG_TUNING.
  std::string describe(int64_t c) const {
    if (own_choice(c)) return c == kOwnDepthwise4 ? "ingot depthwise, 4 pixels a thread" : "ingot depthwise";
    if (graph_choice(c)) {
      std::string name;
      if (graph_->get_plan_name_at_index(c - kGraphChoice, name).is_bad()) name = "?";
      return "graph plan " + std::to_string(c - kGraphChoice) + " (" + name + ")";
    }
    return "legacy algo " + std::to_string(c / 2) + (c % 2 ? " fused" : " + epilogue");
  }
  size_t max_workspace(cudnnHandle_t h, const std::vector<int64_t>& cands) const {
    size_t m = 0;
    for (int64_t c : cands) {
      if (own_choice(c)) continue;
      if (graph_choice(c)) {
        int64_t ws = 0;
        if (graph_->get_workspace_size_plan_at_index(c - kGraphChoice, ws).is_good())
          m = std::max(m, static_cast<size_t>(ws));
        continue;
      }
      size_t s = 0;
      if (cudnnGetConvolutionForwardWorkspaceSize(h, x_, w_, conv_, y_,
                                                  static_cast<cudnnConvolutionFwdAlgo_t>(c / 2),
                                                  &s) == CUDNN_STATUS_SUCCESS)
        m = std::max(m, s);
    }
    return m;
  }

 private:
  static bool graph_choice(int64_t c) { return c >= kGraphChoice && c < kOwnDepthwise; }
  static bool own_choice(int64_t c) { return own_kernel_choice(c); }
  cudnnConvolutionFwdAlgo_t algo() const { return static_cast<cudnnConvolutionFwdAlgo_t>(choice_ / 2); }
  const void* filter(const Launch& l) const { return filter_ ? filter_ : l.in[1].ptr; }
  bool own_kernels_ = true;  // LayerBuild::own_kernels
  bool half_ = false, has_bias_ = false, has_z_ = false, fusable_ = false, nhwc_ = false;
  void* filter_ = nullptr;
  void* dw_filter_ = nullptr;  // depthwise and channels-last: the filter as [kh, kw, c]
  kernels::DepthwiseShape dw_;
  int64_t channels_ = 1, inner_ = 1, numel_ = 0, choice_ = 0;
  FnParams fn_;
  size_t ws_ = 0;
  void* zero_bias_ = nullptr;
  // The graph-API form of the layer and its plans (built lazily; graph_plans_ holds the built indices).
  std::shared_ptr<fe::graph::Graph> graph_;
  std::vector<int64_t> graph_plans_;
  std::vector<int64_t> dims_x_, dims_w_, dims_y_, pads_, strides_, dil_;
  cudnnTensorDescriptor_t x_ = nullptr, y_ = nullptr, bias_d_ = nullptr;
  cudnnFilterDescriptor_t w_ = nullptr;
  cudnnConvolutionDescriptor_t conv_ = nullptr;
  cudnnActivationDescriptor_t act_ = nullptr;
};

std::string conv_supports(const LayerBuild& b) {
  const bool fused = b.layer.domain == "ingot" && b.layer.op_type == "FusedConv";
  if (!fused && !(b.layer.domain.empty() && b.layer.op_type == "Conv")) return "-";
  if (!b.has_in(0) || b.in(0).dims.size() != 4) return "only 2-D convolution (NCHW)";
  if (!b.is_weight(1)) return "the filter is not a constant";
  if (b.attr_string("auto_pad", "NOTSET") != "NOTSET") return "auto_pad";
  const auto pads = b.attr_ints("pads");
  if (pads.size() == 4 && (pads[0] != pads[2] || pads[1] != pads[3])) return "asymmetric pads";
  if (fused && !fused_activation(b).ok()) return fused_activation(b).status().message();
  if (b.in(0).dtype != DType::kF32 || b.out(0).dtype != DType::kF32 ||
      (b.has_in(3) && b.in(3).dtype != DType::kF32))
    return "not float32";
  return "";
}

Expected<std::unique_ptr<CudaLayer>> conv_prepare(LayerBuild& b) {
  auto c = std::make_unique<ConvLayer>();
  INGOT_RETURN_IF_ERROR(c->init(b));
  INGOT_RETURN_IF_ERROR(choose_candidate(*c, b.handles->cudnn, b));
  return std::unique_ptr<CudaLayer>(std::move(c));
}

}  // namespace

bool own_kernel_choice(int64_t choice) { return choice == kOwnDepthwise || choice == kOwnDepthwise4; }

bool graph_activation(const FnParams& f, fe::graph::Pointwise_attributes* a) {
  switch (f.fn) {
    case Fn::kRelu:
      a->set_mode(fe::PointwiseMode_t::RELU_FWD);
      return true;
    case Fn::kClip:  // ReLU clipped above: exact only when the lower bound is 0 (ReLU6)
      if (f.alpha != 0.f) return false;
      a->set_mode(fe::PointwiseMode_t::RELU_FWD).set_relu_upper_clip(f.beta);
      return true;
    case Fn::kSigmoid:
      a->set_mode(fe::PointwiseMode_t::SIGMOID_FWD);
      return true;
    case Fn::kSilu:
      a->set_mode(fe::PointwiseMode_t::SWISH_FWD).set_swish_beta(1.f);
      return true;
    default:
      return false;
  }
}

namespace {

INGOT_REGISTER_CUDA_TACTIC(cudnn_conv, "cuda.cudnn.conv", conv_supports, conv_prepare);

}  // namespace
}  // namespace ingot::backends::cuda
