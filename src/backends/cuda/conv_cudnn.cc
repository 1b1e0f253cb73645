// Convolution through cuDNN: Conv and ingot.FusedConv (y = act(conv(x, w) + bias + z)). The candidates
// are the algorithms cuDNN's heuristic offers, each either fused in cudnnConvolutionBiasActivationForward
// (ReLU or no activation) or as the convolution followed by ingot's epilogue kernel; the builder times
// them with CUDA events and the engine keeps the pick (attribute cuda_choice = algo * 2 + fused).
#include <algorithm>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda {
namespace {

using kernels::Fn;
using kernels::FnParams;

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
  }

  Status init(const LayerBuild& b) {
    half_ = b.fp16;
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
      // The filter repacked once, KCRS -> KRSC, next to the engine's copy.
      const DevTensor& wt = b.weights[1];
      const size_t e = dtype_size(wt.dtype);
      INGOT_CUDA_OK(cudaMalloc(&filter_, static_cast<size_t>(wt.numel()) * e));
      kernels::Strided m;
      m.rank = 4;
      const int64_t dims[4] = {w[0], w[2], w[3], w[1]};
      const int64_t strides[4] = {w[1] * w[2] * w[3], w[3], 1, w[2] * w[3]};
      for (int d = 0; d < 4; ++d) m.dims[d] = dims[d], m.strides[d] = strides[d];
      kernels::strided_copy(e, filter_, wt.ptr, m, nullptr);
      INGOT_CUDA_LAUNCHED();
      INGOT_CUDA_OK(cudaStreamSynchronize(nullptr));
    }
    std::vector<int64_t> pads = b.attr_ints("pads"), strides = b.attr_ints("strides"),
                         dil = b.attr_ints("dilations");
    if (pads.empty()) pads = {0, 0, 0, 0};
    if (strides.empty()) strides = {1, 1};
    if (dil.empty()) dil = {1, 1};
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

  // The candidates: (algo, fused) pairs cuDNN's heuristic offers, in its order.
  Expected<std::vector<int64_t>> candidates(cudnnHandle_t h) const {
    cudnnConvolutionFwdAlgoPerf_t perf[CUDNN_CONVOLUTION_FWD_ALGO_COUNT];
    int n = 0;
    INGOT_CUDNN_OK(cudnnGetConvolutionForwardAlgorithm_v7(h, x_, w_, conv_, y_,
                                                          CUDNN_CONVOLUTION_FWD_ALGO_COUNT, &n, perf));
    std::vector<int64_t> out;
    for (int k = 0; k < n; ++k) {
      if (perf[k].status != CUDNN_STATUS_SUCCESS || perf[k].memory > (size_t(1) << 30)) continue;
      const int64_t algo = perf[k].algo;
      if (fusable_ && (fn_.fn == Fn::kRelu || algo == CUDNN_CONVOLUTION_FWD_ALGO_IMPLICIT_PRECOMP_GEMM))
        out.push_back(algo * 2 + 1);
      out.push_back(algo * 2);
    }
    if (out.empty()) return unsupported("cuDNN offers no algorithm for this convolution");
    return out;
  }

  Status choose(cudnnHandle_t h, int64_t choice) {
    choice_ = choice;
    INGOT_CUDNN_OK(cudnnGetConvolutionForwardWorkspaceSize(h, x_, w_, conv_, y_, algo(), &ws_));
    return Status::Ok();
  }

  Status enqueue(const Launch& l) const override {
    const float one = 1.f, zero = 0.f;
    cudnnHandle_t h = l.handles->cudnn;
    INGOT_CUDNN_OK(cudnnSetStream(h, l.stream));
    const void* bias = has_bias_ ? l.in[2].ptr : zero_bias_;
    void* y = l.out[0].ptr;
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
  size_t max_workspace(cudnnHandle_t h, const std::vector<int64_t>& cands) const {
    size_t m = 0;
    for (int64_t c : cands) {
      size_t s = 0;
      if (cudnnGetConvolutionForwardWorkspaceSize(h, x_, w_, conv_, y_,
                                                  static_cast<cudnnConvolutionFwdAlgo_t>(c / 2),
                                                  &s) == CUDNN_STATUS_SUCCESS)
        m = std::max(m, s);
    }
    return m;
  }

 private:
  cudnnConvolutionFwdAlgo_t algo() const { return static_cast<cudnnConvolutionFwdAlgo_t>(choice_ / 2); }
  const void* filter(const Launch& l) const { return filter_ ? filter_ : l.in[1].ptr; }
  bool half_ = false, has_bias_ = false, has_z_ = false, fusable_ = false, nhwc_ = false;
  void* filter_ = nullptr;
  int64_t channels_ = 1, inner_ = 1, numel_ = 0, choice_ = 0;
  FnParams fn_;
  size_t ws_ = 0;
  void* zero_bias_ = nullptr;
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
  if (b.in(0).dtype != DType::kF32) return "not float32";
  return "";
}

Expected<std::unique_ptr<CudaLayer>> conv_prepare(LayerBuild& b) {
  auto c = std::make_unique<ConvLayer>();
  INGOT_RETURN_IF_ERROR(c->init(b));
  cudnnHandle_t h = b.handles->cudnn;
  int64_t choice = b.choice;
  if (choice < 0) {
    INGOT_ASSIGN_OR_RETURN(std::vector<int64_t> cands, c->candidates(h));
    choice = cands.front();  // the heuristic's first
    if (b.tune && b.tuning && cands.size() > 1) {
      void* ws = nullptr;
      const size_t ws_bytes = c->max_workspace(h, cands);
      INGOT_CUDA_OK(cudaMalloc(&ws, std::max<size_t>(ws_bytes, 1)));
      double best = -1;
      for (int64_t cand : cands) {
        if (!c->choose(h, cand).ok()) continue;
        Launch l = *b.tuning;
        l.workspace = ws;
        l.workspace_bytes = ws_bytes;
        const double ms = median_ms(l.stream, 5, [&] { return c->enqueue(l); });
        if (ms >= 0 && (best < 0 || ms < best)) {
          best = ms;
          choice = cand;
        }
      }
      cudaFree(ws);
    }
    b.choice = choice;
  }
  INGOT_RETURN_IF_ERROR(c->choose(h, choice));
  return std::unique_ptr<CudaLayer>(std::move(c));
}

INGOT_REGISTER_CUDA_TACTIC(cudnn_conv, "cuda.cudnn.conv", conv_supports, conv_prepare);

}  // namespace
}  // namespace ingot::backends::cuda
