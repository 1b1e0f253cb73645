// The fp16 GEMM kernels emulated with fp32 arithmetic rounded to fp16 (compiled with -mavx2 -mfma -mf16c: see
// CMakeLists.txt): the tests' stand-in for the AVX512-FP16 ones on CPUs without them.
#define INGOT_F16_ISA "emulated"
#include "backends/cpu/simd_f16_kernels_isa.inc"

namespace ingot::backends::cpu {
const F16Kernels& f16_kernels_emulated() { return f16_table(); }
}  // namespace ingot::backends::cpu
