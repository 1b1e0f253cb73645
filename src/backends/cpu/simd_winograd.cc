// cpu.ingot.winograd.{avx512,avx2}: 3x3 stride-1 convolutions (Conv and ingot.FusedConv with ReLU or no
// activation, bias and residual) by Winograd's F(4x4, 3x3), which spends 36 multiplies on each 4x4 output
// tile and channel pair where the direct convolution spends 144. Per run: the input's 6x6 tiles are
// transformed (V = B^T d B, per channel block of one vector), then for each of the 36 tile positions e one
// product M_e[tiles, K] = V_e[tiles, C] U_e[C, K] on ingot's packed SIMD gemm, with U = G g G^T packed once
// at prepare, then M's tiles are transformed back (A^T M A) with the bias, residual and ReLU applied on the
// way out. Activations are read and written in the blocked layout (nChw8c / nChw16c: one vector of channels
// per pixel) that the layout pass agrees with neighbouring oneDNN layers; where a neighbour keeps a tensor
// plain, the kernel transposes it at its boundary. The tuner times it against oneDNN's direct convolution
// layer by layer: it wins where the spatial extent is large against the channels (U is 4x W's size).
#include <cstring>

#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_gemm.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

constexpr int64_t kTiles = 36;  // 6x6 transformed positions per tile

struct WinogradConfig {
  int64_t C = 0, K = 0;
  bool relu = false, has_bias = false, residual = false;
};

Expected<WinogradConfig> winograd_config(const LayerDesc& d) {
  const LayerNode ln(d.layer, d.tensors);
  const ir::Node& n = ln.node;
  INGOT_ASSIGN_OR_RETURN(SimdConvLayer l, simd_conv_layer(d, n));
  const Dims& wd = l.w->dims;
  if (wd[2] != 3 || wd[3] != 3) return unsupported("kernel is not 3x3");
  WinogradConfig c;
  c.K = wd[0];
  c.C = wd[1];
  INGOT_RETURN_IF_ERROR(check_simd_conv_channels({c.C, c.K}));
  if (l.x->dims[1] >= 0 && l.x->dims[1] != c.C) return unsupported("X's channels differ from W's");
  if (n.attr_int("group", 1) != 1) return unsupported("grouped");
  if (l.window.strides != std::vector<int64_t>{1, 1}) return unsupported("strides are not 1");
  if (n.attr_ints("kernel_shape", {3, 3}) != std::vector<int64_t>{3, 3})
    return unsupported("kernel_shape is not 3x3");
  for (int64_t v : l.window.pads)
    if (v > 2) return unsupported("pads outside 0..2");
  if (l.act.act != kActNone && l.act.act != kActRelu)
    return unsupported("activation '" + n.attr_string("activation", "") + "' is not ReLU");
  c.relu = l.act.act == kActRelu;
  c.has_bias = l.b != nullptr;
  c.residual = l.z != nullptr;
  if (dims_static(l.x->dims)) {  // the output size, which SAME_* pads need the input for
    auto out = ops::window_output_sizes(l.window, {l.x->dims[2], l.x->dims[3]}, n);
    if (!out.ok()) return unsupported(out.status().message());
  }
  return c;
}

class WinogradKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  WinogradKernel(const SimdKernels& k, WinogradConfig c, BlockedLayouts layouts, const Tensor& w)
      : k_(k), c_(c), layouts_(layouts) {
    // U_e[c, k] = (G g_kc G^T)[e], each e's C x K matrix packed into the gemm's panels.
    static constexpr double G[6][3] = {{1.0 / 4, 0, 0},
                                       {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                       {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                       {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                       {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                       {0, 0, 1}};
    const int64_t C = c_.C, K = c_.K;
    std::vector<float> u(static_cast<size_t>(kTiles * C * K));  // [e][c][k]
    const float* g = w.data<float>();
    for (int64_t ko = 0; ko < K; ++ko)
      for (int64_t ci = 0; ci < C; ++ci) {
        const float* f = g + (ko * C + ci) * 9;
        double gt[6][3];  // G f
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 3; ++j) gt[i][j] = G[i][0] * f[j] + G[i][1] * f[3 + j] + G[i][2] * f[6 + j];
        for (int i = 0; i < 6; ++i)
          for (int j = 0; j < 6; ++j)
            u[((i * 6 + j) * C + ci) * K + ko] =
                static_cast<float>(gt[i][0] * G[j][0] + gt[i][1] * G[j][1] + gt[i][2] * G[j][2]);
      }
    packed_size_ = packed_b_size(k_, C, K);
    packed_.resize(static_cast<size_t>(kTiles * packed_size_));
    for (int64_t e = 0; e < kTiles; ++e)
      k_.pack_b(C, K, u.data() + e * C * K, K, false, 1.f, packed_.data() + e * packed_size_);
  }

  int reorders() const override { return layouts_.count_plain(c_.residual); }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& x = ctx.input(0);
    const int64_t C = c_.C, K = c_.K, bw = k_.width;
    ops::WindowAttrs a;
    INGOT_ASSIGN_OR_RETURN(const Dims yd, simd_conv_output(ctx, C, K, {3, 3}, &a));
    const int64_t N = x.dim(0), H = x.dim(2), Wd = x.dim(3), OH = yd[2], OW = yd[3];
    INGOT_ASSIGN_OR_RETURN(SimdConvRun r,
                           SimdConvRun::begin(ctx, layouts_, bw, yd, c_.has_bias, c_.residual));
    if (N == 0) return Status::Ok();
    const int64_t Cb = C / bw, Kb = K / bw, HW = H * Wd, OHW = OH * OW;
    const int64_t tiles_w = (OW + 3) / 4, Ti = (OH + 3) / 4 * tiles_w, T = N * Ti;
    const auto bytes = [](int64_t floats) { return static_cast<size_t>(floats) * sizeof(float); };
    const float *xb = r.xb, *zb = r.zb, *bias = r.bias;
    float* yb = r.yb;
    auto* v = static_cast<float*>(thread_scratch(1, bytes(kTiles * T * C)));
    auto* m = static_cast<float*>(thread_scratch(2, bytes(kTiles * T * K)));
    // Input transform: one task per image and channel block.
    parallel_for(N * Cb, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / Cb, cb = i % Cb;
        k_.wino_input(xb + i * bw * HW, H, Wd, a.pads[0], a.pads[1], tiles_w, 0, Ti, v + n * Ti * C + cb * bw,
                      T * C, C);
      }
    });
    // The 36 products, one batch on the pool.
    PackedGemm g;
    g.M = T, g.N = K, g.K = C;
    g.A = v, g.lda = C, g.a_stride = T * C;
    g.packed_b = packed_.data(), g.b_stride = packed_size_;
    g.C = m, g.ldc = K, g.c_stride = T * K;
    g.batch = kTiles;
    run_packed_gemm(k_, g);
    // Output transform, with the epilogue: one task per image and channel block.
    parallel_for(N * Kb, 1, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        const int64_t n = i / Kb, kb = i % Kb;
        k_.wino_output(m + n * Ti * K + kb * bw, T * K, K, bias ? bias + kb * bw : nullptr,
                       zb ? zb + i * bw * OHW : nullptr, c_.relu, yb + i * bw * OHW, OH, OW, tiles_w, 0, Ti);
      }
    });
    return r.finish();
  }

 private:
  const SimdKernels& k_;
  WinogradConfig c_;
  BlockedLayouts layouts_;
  int64_t packed_size_ = 0;
  std::vector<float> packed_;
};

Expected<std::unique_ptr<Kernel>> winograd_prepare(const LayerDesc& d, const SimdKernels& k) {
  auto c = winograd_config(d);
  if (!c.ok()) return unsupported("layer '" + d.layer.name + "': " + c.status().message());
  if (c->C % k.width != 0 || c->K % k.width != 0)
    return unsupported("layer '" + d.layer.name + "': channels are not a multiple of the vector width");
  const LayerNode ln(d.layer, d.tensors);
  INGOT_ASSIGN_OR_RETURN(BlockedLayouts layouts, blocked_layouts(ln.node, k.width));
  return std::unique_ptr<Kernel>(std::make_unique<WinogradKernel>(k, *c, layouts, d.input(1)->weight));
}

}  // namespace

INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_winograd, "ingot.winograd",
                            (supports_from_config<WinogradConfig, winograd_config>), winograd_prepare);

}  // namespace ingot::backends::cpu
