// What the im2col + gemm convolutions share (cpu.ingot.conv_gemm.{avx512,avx2} in fp32, simd_conv_gemm.cc;
// cpu.ingot.conv_gemm.fp16, simd_conv_gemm_f16.cc): the layers they take, W as the gemm's right operand, and
// the run around the two steps that differ (the im2col matrix and the product).
#pragma once

#include <vector>

#include "backends/cpu/simd_tactic.h"

namespace ingot::backends::cpu {

struct F16Kernels;

// Conv and ingot.FusedConv with bias, residual and ReLU, Clip, SiLU or Sigmoid; group 1, dilation 1, any
// kernel and stride, channels a multiple of 16.
struct ConvGemmConfig {
  int64_t C = 0, K = 0, kh = 0, kw = 0;
  bool has_bias = false, residual = false;
  SimdActivation act;
};
Expected<ConvGemmConfig> conv_gemm_config(const LayerDesc& d);

// W [K, C, kh, kw] as the gemm's B [kh * kw * C, K]: B[(i * kw + j) * C + ci, ko] = W[ko, ci, i, j].
std::vector<float> conv_gemm_weights(const ConvGemmConfig& c, const float* w);

// One image's geometry for the two steps.
struct ConvGemmShape {
  int64_t C = 0, H = 0, Wd = 0, OW = 0;
  int64_t M = 0;       // output pixels, OH * OW: the product's rows
  int64_t rows_k = 0;  // kh * kw * C: the product's depth
  ops::WindowAttrs window;
};

// The run: per image, im2col() of the blocked planes, then gemm() into the [M, K] product with the bias,
// whose rows go back into blocked planes with the residual and the activation (SimdKernels::rows_to_blocked).
// X, Z and Y are blocked in the vector width of `k` (the layout pass's agreements, else reordered at the
// boundary).
class ConvGemmKernelBase : public Kernel {
 public:
  ConvGemmKernelBase(const SimdKernels& k, ConvGemmConfig c, BlockedLayouts layouts)
      : k_(k), c_(c), layouts_(layouts) {}
  bool overwrites_outputs() const override { return true; }
  int reorders() const override { return layouts_.count_plain(c_.residual); }
  Status run(ops::RunContext& ctx) const override;

 protected:
  // Bytes of the im2col matrix of M rows of depth rows_k.
  virtual size_t im2col_bytes(int64_t M, int64_t rows_k) const = 0;
  // The im2col matrix of one image's blocked planes xn into `a`, split over the pool.
  virtual void im2col(const float* xn, const ConvGemmShape& s, void* a) const = 0;
  // prod[M, K] (rows K floats apart) = a W + bias (nullable), split over the pool.
  virtual void gemm(const void* a, const ConvGemmShape& s, const float* bias, float* prod) const = 0;

  const SimdKernels& k_;
  ConvGemmConfig c_;
  BlockedLayouts layouts_;
};

// The fp16 kernel of a layer conv_gemm_config accepts, on the fp16 kernels `h` and the fp32 table `k` for the
// epilogue and the blocked layouts (width k.width). The tactic takes the AVX512-FP16 table and the AVX-512
// one; the tests also the emulated table with the AVX2 one.
Expected<std::unique_ptr<Kernel>> prepare_conv_gemm_f16(const LayerDesc& d, const F16Kernels& h,
                                                        const SimdKernels& k);

}  // namespace ingot::backends::cpu
