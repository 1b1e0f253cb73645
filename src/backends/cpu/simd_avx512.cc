// The SIMD kernels for AVX-512 (compiled with -mavx512f -mavx512dq -mavx512bw -mavx512vl -mfma: see
// CMakeLists.txt).
#define INGOT_SIMD_TABLE simd_kernels_avx512
#define INGOT_SIMD_ISA "avx512"
#include "backends/cpu/simd_kernels_isa.inc"
