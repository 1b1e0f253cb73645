// What the tactics over ingot's own SIMD kernels share: one tactic id per ISA ("cpu.ingot.softmax.avx2",
// ".avx512"), each supporting a layer only on a CPU that runs its ISA, and the kernel table it runs.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>

#include "backends/cpu/simd_kernels.h"
#include "backends/tactic.h"
#include "ops/conv_pool_common.h"

namespace ingot::backends::cpu {

// The ISAs in registration order: the widest first, so that the heuristic (opt level 0) takes it.
inline constexpr const char* kSimdIsas[] = {"avx512", "avx2"};

// "" when this CPU runs `isa`, else why not.
std::string simd_isa_supported(const char* isa);

// PREPARE for a kernel class constructed from the table alone, once SUPPORTS accepts the layer.
template <class KernelT, std::string (*kSupports)(const LayerDesc&)>
Expected<std::unique_ptr<Kernel>> prepare_simd_kernel(const LayerDesc& d, const SimdKernels& k) {
  const std::string why = kSupports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  return std::unique_ptr<Kernel>(std::make_unique<KernelT>(k));
}

// The blocked layouts (nChw<width>c) that the layout pass's attributes give a layer's X, Y and residual Z;
// an error when one names a block other than `width`.
struct BlockedLayouts {
  bool src = false, dst = false, z = false;
  int count_plain(bool has_z) const { return int(!src) + int(!dst) + int(has_z && !z); }
};
Expected<BlockedLayouts> blocked_layouts(const ir::Node& node, int64_t width);

// An NCHW tensor (C a multiple of `width`) from plain to blocked nChw<width>c (block_planes) and back
// (unblock_planes), by oneDNN's reorder.
Status block_planes(int64_t width, const float* plain, float* blocked, const Dims& nchw);
Status unblock_planes(int64_t width, const float* blocked, float* plain, const Dims& nchw);

// The FusedConv activation as a SimdAct with its alpha / beta; an error for one the SIMD kernels lack.
struct SimdActivation {
  int act = kActNone;
  float alpha = 0, beta = 0;
};
Expected<SimdActivation> simd_activation(const ir::Node& node);

// A Conv or ingot.FusedConv layer as the SIMD convolution tactics (Winograd, im2col-gemm, depthwise) read it:
// X and a constant W, both 4-D float32; B of W's dims[0] values and FusedConv's residual Z, when present,
// float32; the activation; dilation 1 and window attributes the op accepts for W's kernel; layout attributes
// that are known names on a static X. What only one kernel needs (group, kernel size, strides) each tactic
// checks itself.
struct SimdConvLayer {
  const engine::PlanTensor *x = nullptr, *w = nullptr, *b = nullptr, *z = nullptr;
  SimdActivation act;
  ops::WindowAttrs window;  // pads of SAME_* auto_pad resolved only by simd_conv_output
};
Expected<SimdConvLayer> simd_conv_layer(const LayerDesc& d, const ir::Node& node);

// The channel counts these tactics take: multiples of the widest block (nChw16c), whatever the ISA, so that
// support does not depend on the CPU beyond the ISA check. An error saying so otherwise.
inline constexpr int64_t kSimdConvChannelMultiple = 16;
Status check_simd_conv_channels(std::initializer_list<int64_t> channels);

// The output [N, K, OH, OW] of a 2-D window of `kernel` over X (the run's input 0, which must be float32
// [N, C, H, W]); `window` gets its pads.
Expected<Dims> simd_conv_output(ops::RunContext& ctx, int64_t C, int64_t K,
                                const std::vector<int64_t>& kernel, ops::WindowAttrs* window);

// SUPPORTS from a tactic's configuration reader: "" when it reads one, else why not.
template <typename Config, Expected<Config> (*kConfig)(const LayerDesc&)>
std::string supports_from_config(const LayerDesc& d) {
  auto c = kConfig(d);
  return c.ok() ? "" : c.status().message();
}

// One run of such a layer: B checked, Y [N, K, OH, OW] allocated, and blocked views of X, Z and Y (a plain X
// and Z reordered into this thread's scratch slots 0 and kExtraScratchSlot; a plain Y written to slot 3 and
// reordered into Y by finish()).
class SimdConvRun {
 public:
  static Expected<SimdConvRun> begin(ops::RunContext& ctx, const BlockedLayouts& layouts, int64_t width,
                                     const Dims& yd, bool has_bias, bool residual);
  Status finish() const;
  const float* xb = nullptr;
  const float* zb = nullptr;    // null without a residual
  const float* bias = nullptr;  // null without B
  float* yb = nullptr;
  Tensor* y = nullptr;

 private:
  BlockedLayouts layouts_;
  int64_t width_ = 0;
};

// y = GELU(x) (erf form) over n floats with `k`, split over the pool (y may be x).
void simd_gelu_erf(const SimdKernels& k, const float* x, float* y, int64_t n);

}  // namespace ingot::backends::cpu

// Registers a tactic for each ISA: "cpu.<NAME>.<isa>" (NAME such as "ingot.softmax"), with SUPPORTS(desc) and
// PREPARE(desc, kernels) taking the layer (the ISA's table is checked and passed here).
#define INGOT_REGISTER_SIMD_TACTICS(ID, NAME, SUPPORTS, PREPARE)                                           \
  template <int kIsa>                                                                                      \
  std::string ID##_supports_isa(const ::ingot::backends::LayerDesc& d) {                                   \
    std::string why = ::ingot::backends::cpu::simd_isa_supported(::ingot::backends::cpu::kSimdIsas[kIsa]); \
    return why.empty() ? SUPPORTS(d) : why;                                                                \
  }                                                                                                        \
  template <int kIsa>                                                                                      \
  ::ingot::Expected<std::unique_ptr<::ingot::backends::Kernel>> ID##_prepare_isa(                          \
      const ::ingot::backends::LayerDesc& d) {                                                             \
    const ::ingot::backends::cpu::SimdKernels* k =                                                         \
        ::ingot::backends::cpu::simd_kernels_for(::ingot::backends::cpu::kSimdIsas[kIsa]);                 \
    if (!k)                                                                                                \
      return ::ingot::unsupported(                                                                         \
          ::ingot::backends::cpu::simd_isa_supported(::ingot::backends::cpu::kSimdIsas[kIsa]));            \
    return PREPARE(d, *k);                                                                                 \
  }                                                                                                        \
  INGOT_REGISTER_TACTIC(ID##_avx512, .id = "cpu." NAME ".avx512", .supports = ID##_supports_isa<0>,        \
                        .prepare = ID##_prepare_isa<0>);                                                   \
  INGOT_REGISTER_TACTIC(ID##_avx2, .id = "cpu." NAME ".avx2", .supports = ID##_supports_isa<1>,            \
                        .prepare = ID##_prepare_isa<1>)
