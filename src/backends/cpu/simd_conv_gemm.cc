// cpu.ingot.conv_gemm.{avx512,avx2}: convolutions (Conv and ingot.FusedConv with bias, residual and ReLU,
// Clip, SiLU or Sigmoid; group 1, dilation 1, any kernel and stride) as one product per image: the im2col
// matrix A[OH * OW, kh * kw * C] gathered from the blocked planes, times W packed once at prepare into the
// SIMD gemm's panels (the bias rides in the accumulators), the rows then written back into blocked planes
// with the residual and the activation. It serves the layers oneDNN 2.6's direct convolution runs at half
// the machine's peak or less: few pixels against many channels (resnet50's 7x7 layers) and strided 3x3
// layers. Activations in the blocked layout the layout pass agrees on (nChw8c / nChw16c), reordered by
// oneDNN at a plain boundary.
#include "backends/cpu/simd_conv_gemm.h"

#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_gemm.h"
#include "core/threading.h"
#include "ops/conv_pool_common.h"

namespace ingot::backends::cpu {

namespace {

// im2col matrices above this many elements (256 MiB of floats) are refused: the direct convolution serves
// those.
constexpr int64_t kMaxIm2colElements = int64_t{64} << 20;

size_t float_bytes(int64_t floats) { return static_cast<size_t>(floats) * sizeof(float); }

}  // namespace

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

std::vector<float> conv_gemm_weights(const ConvGemmConfig& c, const float* w) {
  const int64_t taps = c.kh * c.kw, rows = taps * c.C;
  std::vector<float> b(static_cast<size_t>(rows * c.K));
  for (int64_t ko = 0; ko < c.K; ++ko)
    for (int64_t ci = 0; ci < c.C; ++ci)
      for (int64_t t = 0; t < taps; ++t) b[(t * c.C + ci) * c.K + ko] = w[(ko * c.C + ci) * taps + t];
  return b;
}

Status ConvGemmKernelBase::run(ops::RunContext& ctx) const {
  const Tensor& x = ctx.input(0);
  const int64_t K = c_.K;
  ConvGemmShape s;
  INGOT_ASSIGN_OR_RETURN(const Dims yd, simd_conv_output(ctx, c_.C, K, {c_.kh, c_.kw}, &s.window));
  const int64_t N = x.dim(0);
  s.C = c_.C;
  s.H = x.dim(2);
  s.Wd = x.dim(3);
  s.OW = yd[3];
  s.M = yd[2] * yd[3];
  s.rows_k = c_.kh * c_.kw * c_.C;
  if (s.M * s.rows_k > kMaxIm2colElements) return ctx.fail("its im2col matrix is too large for this tactic");
  INGOT_ASSIGN_OR_RETURN(SimdConvRun r,
                         SimdConvRun::begin(ctx, layouts_, k_.width, yd, c_.has_bias, c_.residual));
  if (N == 0 || s.M == 0) return Status::Ok();
  void* am = thread_scratch(1, im2col_bytes(s.M, s.rows_k));
  auto* prod = static_cast<float*>(thread_scratch(2, float_bytes(s.M * K)));
  for (int64_t n = 0; n < N; ++n) {
    im2col(r.xb + n * c_.C * s.H * s.Wd, s, am);
    gemm(am, s, r.bias, prod);
    float* yn = r.yb + n * K * s.M;
    const float* zn = r.zb ? r.zb + n * K * s.M : nullptr;
    parallel_for(s.M, std::max<int64_t>(1, 4096 / K), [&](int64_t m0, int64_t m1) {
      k_.rows_to_blocked(prod, K, s.M, K, m0, m1, zn, c_.act.act, c_.act.alpha, c_.act.beta, yn);
    });
  }
  return r.finish();
}

namespace {

// fp32: A row-major in floats, the SIMD gemm over W's packed panels, split over the pool by panels.
class ConvGemmKernel : public ConvGemmKernelBase {
 public:
  ConvGemmKernel(const SimdKernels& k, ConvGemmConfig c, BlockedLayouts layouts, const Tensor& w)
      : ConvGemmKernelBase(k, c, layouts) {
    const int64_t rows = c_.kh * c_.kw * c_.C;
    const std::vector<float> b = conv_gemm_weights(c_, w.data<float>());
    packed_.resize(static_cast<size_t>(packed_b_size(k_, rows, c_.K)));
    k_.pack_b(rows, c_.K, b.data(), c_.K, false, 1.f, packed_.data());
  }

 protected:
  size_t im2col_bytes(int64_t M, int64_t rows_k) const override { return float_bytes(M * rows_k); }

  void im2col(const float* xn, const ConvGemmShape& s, void* a) const override {
    const ops::WindowAttrs& w = s.window;
    parallel_for(s.M, std::max<int64_t>(1, 4096 / s.rows_k), [&](int64_t m0, int64_t m1) {
      k_.im2col_blocked(xn, s.C, s.H, s.Wd, c_.kh, c_.kw, w.strides[0], w.strides[1], w.pads[0], w.pads[1],
                        s.OW, m0, m1, static_cast<float*>(a), s.rows_k);
    });
  }

  void gemm(const void* a, const ConvGemmShape& s, const float* bias, float* prod) const override {
    PackedGemm g;
    g.M = s.M, g.N = c_.K, g.K = s.rows_k;
    g.A = static_cast<const float*>(a), g.lda = s.rows_k;
    g.packed_b = packed_.data(), g.bias = bias;
    g.C = prod, g.ldc = c_.K;
    run_packed_gemm(k_, g);
  }

 private:
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
