// cpu.ingot.depthwise.{avx512,avx2}: depthwise convolutions (group = channels, one output channel each;
// Conv and ingot.FusedConv with bias and ReLU, Clip, SiLU or Sigmoid; no residual), any kernel up to 7x7,
// any strides, dilation 1: what mobilenet_v2 (3x3) and efficientnet_b0 (3x3, 5x5) are made of. One vector
// holds a pixel's channel block in the blocked layout (nChw8c / nChw16c) the layout pass agrees with the
// neighbouring oneDNN layers, so a tap is one multiply-add per vector; four output columns at a time keep
// the FMA units busy. Work is split over the pool by (image, channel block, output row), which keeps both
// threads busy on the small late layers where oneDNN 2.6's depthwise kernel gets slower with a second
// thread (mobilenet_v2: 1.28 ms at 1 thread, 1.46 ms at 2 over its 17 depthwise layers).
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"
#include "ops/conv_pool_common.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

constexpr int64_t kMaxKernel = 7;

struct DepthwiseConfig {
  int64_t C = 0, kh = 0, kw = 0;
  bool has_bias = false;
  SimdActivation act;
};

Expected<DepthwiseConfig> depthwise_config(const LayerDesc& d) {
  const LayerNode ln(d.layer, d.tensors);
  const ir::Node& n = ln.node;
  INGOT_ASSIGN_OR_RETURN(SimdConvLayer l, simd_conv_layer(d, n));
  if (l.z) return unsupported("a residual");
  const Dims& wd = l.w->dims;
  DepthwiseConfig c;
  c.C = wd[0];
  if (wd[1] != 1 || n.attr_int("group", 1) != c.C || (l.x->dims[1] >= 0 && l.x->dims[1] != c.C))
    return unsupported("not depthwise (one input channel per group, one output channel per input channel)");
  INGOT_RETURN_IF_ERROR(check_simd_conv_channels({c.C}));
  c.kh = wd[2];
  c.kw = wd[3];
  if (c.kh > kMaxKernel || c.kw > kMaxKernel)
    return unsupported("kernel larger than " + std::to_string(kMaxKernel) + "x" + std::to_string(kMaxKernel));
  c.act = l.act;
  c.has_bias = l.b != nullptr;
  return c;
}

class DepthwiseKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  DepthwiseKernel(const SimdKernels& k, DepthwiseConfig c, BlockedLayouts layouts, const Tensor& w)
      : k_(k), c_(c), layouts_(layouts) {
    // W [C, 1, kh, kw] as [C / width][kh * kw][width]; zeros for the bias when there is none.
    const int64_t bw = k_.width, taps = c_.kh * c_.kw;
    w_.resize(static_cast<size_t>(c_.C * taps));
    for (int64_t ch = 0; ch < c_.C; ++ch)
      for (int64_t t = 0; t < taps; ++t)
        w_[(ch / bw * taps + t) * bw + ch % bw] = w.data<float>()[ch * taps + t];
    zeros_.assign(static_cast<size_t>(c_.C), 0.f);
  }

  int reorders() const override { return layouts_.count_plain(false); }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t C = c_.C, bw = k_.width;
    ops::WindowAttrs a;
    INGOT_ASSIGN_OR_RETURN(const Dims yd, simd_conv_output(ctx, C, C, {c_.kh, c_.kw}, &a));
    const int64_t N = x.dim(0), H = x.dim(2), Wd = x.dim(3), OH = yd[2], OW = yd[3], Cb = C / bw;
    INGOT_ASSIGN_OR_RETURN(SimdConvRun r, SimdConvRun::begin(ctx, layouts_, bw, yd, c_.has_bias, false));
    if (r.y->numel() == 0) return Status::Ok();
    const float* xb = r.xb;
    const float* bias = r.bias ? r.bias : zeros_.data();
    float* yb = r.yb;
    // Items are output rows of every plane; a thread's range may span planes.
    const int64_t taps = c_.kh * c_.kw, rows = N * Cb * OH;
    const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(1, OW * taps));
    parallel_for(rows, grain, [&](int64_t r0, int64_t r1) {
      while (r0 < r1) {
        const int64_t plane = r0 / OH, oh0 = r0 % OH, oh1 = std::min(OH, oh0 + (r1 - r0)), cb = plane % Cb;
        k_.depthwise(xb + plane * bw * H * Wd, H, Wd, w_.data() + cb * taps * bw, bias + cb * bw, c_.kh,
                     c_.kw, a.strides[0], a.strides[1], a.pads[0], a.pads[1], c_.act.act, c_.act.alpha,
                     c_.act.beta, yb + plane * bw * OH * OW, OH, OW, oh0, oh1);
        r0 += oh1 - oh0;
      }
    });
    return r.finish();
  }

 private:
  const SimdKernels& k_;
  DepthwiseConfig c_;
  BlockedLayouts layouts_;
  std::vector<float> w_, zeros_;
};

Expected<std::unique_ptr<Kernel>> depthwise_prepare(const LayerDesc& d, const SimdKernels& k) {
  auto c = depthwise_config(d);
  if (!c.ok()) return unsupported("layer '" + d.layer.name + "': " + c.status().message());
  const LayerNode ln(d.layer, d.tensors);
  INGOT_ASSIGN_OR_RETURN(BlockedLayouts layouts, blocked_layouts(ln.node, k.width));
  return std::unique_ptr<Kernel>(std::make_unique<DepthwiseKernel>(k, *c, layouts, d.input(1)->weight));
}

}  // namespace

INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_depthwise, "ingot.depthwise",
                            (supports_from_config<DepthwiseConfig, depthwise_config>), depthwise_prepare);

}  // namespace ingot::backends::cpu
