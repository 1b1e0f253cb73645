// The fp16 GEMM kernels on AVX512-FP16 (compiled with -mavx512fp16 and the AVX-512 / AVX2 / F16C flags where
// the compiler takes them: see CMakeLists.txt; otherwise this file builds no kernels and the table is null).
#include "backends/cpu/simd_f16_kernels.h"

#if defined(__AVX512FP16__)

#define INGOT_F16_ISA "avx512fp16"
#include "backends/cpu/simd_f16_kernels_isa.inc"

namespace ingot::backends::cpu {
const F16Kernels* f16_kernels_avx512fp16() { return &f16_table(); }
}  // namespace ingot::backends::cpu

#else

namespace ingot::backends::cpu {
const F16Kernels* f16_kernels_avx512fp16() { return nullptr; }
}  // namespace ingot::backends::cpu

#endif
