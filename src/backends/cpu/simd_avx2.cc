// The SIMD kernels for AVX2 + FMA (compiled with -mavx2 -mfma: see CMakeLists.txt).
#define INGOT_SIMD_TABLE simd_kernels_avx2
#define INGOT_SIMD_ISA "avx2"
#include "backends/cpu/simd_kernels_isa.inc"
