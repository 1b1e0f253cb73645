// cpu.ingot.conv_gemm.fp16: the layers built in fp16 (--fp16) that cpu.ingot.conv_gemm takes (Conv and
// ingot.FusedConv, group 1, dilation 1, any kernel and stride, channels a multiple of 16; bias, residual and
// ReLU, Clip, SiLU or Sigmoid), with the product on AVX512-FP16: per image the im2col matrix is gathered from
// the fp32 blocked planes straight into fp16 pair panels (simd_f16_kernels.h), W was rounded to fp16 and
// packed once at prepare, and the fp16 gemm writes the fp32 product with the bias, whose rows go back into
// fp32 blocked planes with the residual and the activation (in fp32, by the AVX-512 table). X, Z and Y stay
// fp32, as with cpu.onednn.conv.bf16: fp16 is the arithmetic, not the tensors. Only where the CPU has
// AVX512-FP16 (oneDNN 2.6 has no fp16 convolution); the tuner times it against the fp32 tactics layer by
// layer and keeps fp16 only where it wins. Takes part in the layout pass's nChw16c agreements like the fp32
// SIMD convolutions.
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_conv_gemm.h"
#include "backends/cpu/simd_f16_kernels.h"
#include "core/platform.h"
#include "core/threading.h"

namespace ingot::backends::cpu {
namespace {

// Rows of the product per task of the pool (a multiple of the panels' rows): tasks are these row blocks times
// B's panels, row block by row block, so that a thread's share is whole row blocks where there are many and
// runs of panels of one where there are few (resnet50's last layers: 49 pixels, 2048 channels).
constexpr int64_t kTaskRows = 192;

class ConvGemmF16Kernel : public ConvGemmKernelBase {
 public:
  ConvGemmF16Kernel(const F16Kernels& h, const SimdKernels& k, ConvGemmConfig c, BlockedLayouts layouts,
                    const Tensor& w)
      : ConvGemmKernelBase(k, c, layouts), h_(h) {
    const int64_t rows = c_.kh * c_.kw * c_.C;
    const std::vector<float> b = conv_gemm_weights(c_, w.data<float>());
    packed_.resize(static_cast<size_t>(f16_packed_b_size(h_, rows, c_.K)));
    h_.pack_b(rows, c_.K, b.data(), c_.K, packed_.data());
  }

 protected:
  size_t im2col_bytes(int64_t M, int64_t rows_k) const override {
    return static_cast<size_t>(f16_packed_a_size(h_, M, rows_k)) * sizeof(uint16_t);
  }

  void im2col(const float* xn, const ConvGemmShape& s, void* a) const override {
    const ops::WindowAttrs& w = s.window;
    const int64_t panels = (s.M + h_.mr - 1) / h_.mr;
    parallel_for(panels, std::max<int64_t>(1, 4096 / (h_.mr * s.rows_k)), [&](int64_t g0, int64_t g1) {
      h_.im2col_blocked(xn, k_.width, s.C, s.H, s.Wd, c_.kh, c_.kw, w.strides[0], w.strides[1], w.pads[0],
                        w.pads[1], s.OW, s.M, g0, g1, static_cast<uint16_t*>(a));
    });
  }

  void gemm(const void* a, const ConvGemmShape& s, const float* bias, float* prod) const override {
    const int64_t K = c_.K, panels = (K + h_.panel - 1) / h_.panel,
                  blocks = (s.M + kTaskRows - 1) / kTaskRows;
    const int64_t task_macs = std::min(s.M, kTaskRows) * s.rows_k * h_.panel;
    const auto* am = static_cast<const uint16_t*>(a);
    parallel_for(blocks * panels, std::max<int64_t>(1, (int64_t{1} << 20) / task_macs),
                 [&](int64_t t0, int64_t t1) {
                   for (int64_t t = t0; t < t1;) {
                     const int64_t rb = t / panels, p0 = t % panels, p1 = std::min(panels, p0 + (t1 - t));
                     h_.gemm(K, s.rows_k, am, packed_.data(), rb * kTaskRows,
                             std::min(s.M, (rb + 1) * kTaskRows), p0, p1, bias, prod, K);
                     t += p1 - p0;
                   }
                 });
  }

 private:
  const F16Kernels& h_;
  std::vector<uint16_t> packed_;
};

// "" when this CPU and build run the AVX512-FP16 kernels, else why not.
std::string f16_unavailable() {
  if (!cpu_features().avx512fp16) return "this CPU has no AVX512-FP16 instructions";
  if (!f16_kernels_for_this_cpu())
    return "this build has no AVX512-FP16 kernels (its compiler does not take -mavx512fp16)";
  return simd_isa_supported("avx512");
}

std::string conv_gemm_f16_supports(const LayerDesc& d) {
  const std::string why = f16_unavailable();
  return why.empty() ? supports_from_config<ConvGemmConfig, conv_gemm_config>(d) : why;
}

Expected<std::unique_ptr<Kernel>> conv_gemm_f16_prepare(const LayerDesc& d) {
  const std::string why = f16_unavailable();
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  return prepare_conv_gemm_f16(d, *f16_kernels_for_this_cpu(), *simd_kernels_for("avx512"));
}

}  // namespace

Expected<std::unique_ptr<Kernel>> prepare_conv_gemm_f16(const LayerDesc& d, const F16Kernels& h,
                                                        const SimdKernels& k) {
  auto c = conv_gemm_config(d);
  if (!c.ok()) return unsupported("layer '" + d.layer.name + "': " + c.status().message());
  const LayerNode ln(d.layer, d.tensors);
  INGOT_ASSIGN_OR_RETURN(BlockedLayouts layouts, blocked_layouts(ln.node, k.width));
  return std::unique_ptr<Kernel>(std::make_unique<ConvGemmF16Kernel>(h, k, *c, layouts, d.input(1)->weight));
}

INGOT_REGISTER_TACTIC(cpu_ingot_conv_gemm_fp16, .id = "cpu.ingot.conv_gemm.fp16",
                      .supports = conv_gemm_f16_supports, .prepare = conv_gemm_f16_prepare,
                      .precision = "fp16");

}  // namespace ingot::backends::cpu
