// cpu.ingot.conv_gemm.{avx512,avx2}: convolutions (Conv and ingot.FusedConv with bias, residual and ReLU,
// Clip, SiLU or Sigmoid; group 1, dilation 1, any kernel and stride) as one product per image: the im2col
// matrix A[OH * OW, kh * kw * C] gathered from the blocked planes, times W packed once at prepare into the
// SIMD gemm's panels (the bias rides in the accumulators), the rows then written back into blocked planes
// with the residual and the activation. It serves the layers oneDNN 2.6's direct convolution runs at half
// the machine's peak or less: few pixels against many channels (resnet50's 7x7 layers) and strided 3x3
// layers. Activations in the blocked layout the layout pass agrees on (nChw8c / nChw16c), reordered by
// oneDNN at a plain boundary.
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"
#include "ops/conv_pool_common.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

// im2col matrices above this many floats (256 MiB) are refused: the direct convolution serves those.
constexpr int64_t kMaxIm2colFloats = int64_t{64} << 20;

struct ConvGemmConfig {
  int64_t C = 0, K = 0, kh = 0, kw = 0;
  bool has_bias = false, residual = false;
  SimdActivation act;
};

Expected<ConvGemmConfig> conv_gemm_config(const LayerDesc& d) {
  const LayerNode ln(d.layer, d.tensors);
  const ir::Node& n = ln.node;
  INGOT_ASSIGN_OR_RETURN(SimdConvLayer l, simd_conv_layer(d, n));
  ConvGemmConfig c;
  c.K = l.w->dims[0];
  c.C = l.w->dims[1];
  c.kh = l.w->dims[2];
  c.kw = l.w->dims[3];
  if (n.attr_int("group", 1) != 1) return unsupported("grouped");
  INGOT_RETURN_IF_ERROR(check_simd_conv_channels({c.C, c.K}));
  if (l.x->dims[1] >= 0 && l.x->dims[1] != c.C) return unsupported("X's channels differ from W's");
  c.act = l.act;
  c.has_bias = l.b != nullptr;
  c.residual = l.z != nullptr;
  return c;
}

class ConvGemmKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  ConvGemmKernel(const SimdKernels& k, ConvGemmConfig c, BlockedLayouts layouts, const Tensor& w)
      : k_(k), c_(c), layouts_(layouts) {
    // B[(i * kw + j) * C + ci, ko] = W[ko, ci, i, j], packed.
    const int64_t taps = c_.kh * c_.kw, rows = taps * c_.C;
    std::vector<float> b(static_cast<size_t>(rows * c_.K));
    const float* wp = w.data<float>();
    for (int64_t ko = 0; ko < c_.K; ++ko)
      for (int64_t ci = 0; ci < c_.C; ++ci)
        for (int64_t t = 0; t < taps; ++t) b[(t * c_.C + ci) * c_.K + ko] = wp[(ko * c_.C + ci) * taps + t];
    packed_.resize(static_cast<size_t>(packed_b_size(k_, rows, c_.K)));
    k_.pack_b(rows, c_.K, b.data(), c_.K, false, 1.f, packed_.data());
  }

  int reorders() const override { return layouts_.count_plain(c_.residual); }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t C = c_.C, K = c_.K, bw = k_.width;
    ops::WindowAttrs a;
    INGOT_ASSIGN_OR_RETURN(const Dims yd, simd_conv_output(ctx, C, K, {c_.kh, c_.kw}, &a));
    const int64_t N = x.dim(0), H = x.dim(2), Wd = x.dim(3), OH = yd[2], OW = yd[3], M = OH * OW;
    const int64_t rows_k = c_.kh * c_.kw * C;
    if (M * rows_k > kMaxIm2colFloats) return ctx.fail("its im2col matrix is too large for this tactic");
    INGOT_ASSIGN_OR_RETURN(SimdConvRun r,
                           SimdConvRun::begin(ctx, layouts_, bw, yd, c_.has_bias, c_.residual));
    if (N == 0 || M == 0) return Status::Ok();
    const auto bytes = [](int64_t floats) { return static_cast<size_t>(floats) * sizeof(float); };
    const float *xb = r.xb, *zb = r.zb, *bias = r.bias;
    float* yb = r.yb;
    auto* am = static_cast<float*>(thread_scratch(1, bytes(M * rows_k)));
    auto* prod = static_cast<float*>(thread_scratch(2, bytes(M * K)));
    const int64_t panels = (K + k_.panel - 1) / k_.panel;
    const int64_t row_grain = std::max<int64_t>(1, 4096 / rows_k);
    for (int64_t n = 0; n < N; ++n) {
      const float* xn = xb + n * C * H * Wd;
      parallel_for(M, row_grain, [&](int64_t m0, int64_t m1) {
        k_.im2col_blocked(xn, C, H, Wd, c_.kh, c_.kw, a.strides[0], a.strides[1], a.pads[0], a.pads[1], OW,
                          m0, m1, am, rows_k);
      });
      const int64_t grain = std::max<int64_t>(1, (1 << 20) / std::max<int64_t>(1, M * rows_k * k_.panel));
      parallel_for(panels, grain, [&](int64_t p0, int64_t p1) {
        auto* work = static_cast<float*>(thread_scratch(kGemmScratchSlot, bytes(k_.gemm_workspace_floats)));
        k_.gemm_packed(M, K, rows_k, am, rows_k, packed_.data(), p0, p1, bias, prod, K, false, work);
      });
      float* yn = yb + n * K * M;
      const float* zn = zb ? zb + n * K * M : nullptr;
      parallel_for(M, std::max<int64_t>(1, 4096 / K), [&](int64_t m0, int64_t m1) {
        k_.rows_to_blocked(prod, K, M, K, m0, m1, zn, c_.act.act, c_.act.alpha, c_.act.beta, yn);
      });
    }
    return r.finish();
  }

 private:
  const SimdKernels& k_;
  ConvGemmConfig c_;
  BlockedLayouts layouts_;
  std::vector<float> packed_;
};

Expected<std::unique_ptr<Kernel>> conv_gemm_prepare(const LayerDesc& d, const SimdKernels& k) {
  auto c = conv_gemm_config(d);
  if (!c.ok()) return unsupported("layer '" + d.layer.name + "': " + c.status().message());
  const LayerNode ln(d.layer, d.tensors);
  INGOT_ASSIGN_OR_RETURN(BlockedLayouts layouts, blocked_layouts(ln.node, k.width));
  return std::unique_ptr<Kernel>(std::make_unique<ConvGemmKernel>(k, *c, layouts, d.input(1)->weight));
}

}  // namespace

INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_conv_gemm, "ingot.conv_gemm",
                            (supports_from_config<ConvGemmConfig, conv_gemm_config>), conv_gemm_prepare);

}  // namespace ingot::backends::cpu
