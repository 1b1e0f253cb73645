// ingot's own SIMD kernels: pure functions over pointers and sizes, compiled once per ISA
// (simd_kernels_isa.inc in simd_avx2.cc and simd_avx512.cc, each with its ISA's flags) and picked at run
// time from the CPU's features. Single-threaded: the tactics split the work over the pool.
#pragma once

#include <cstdint>

namespace ingot::backends::cpu {

struct SimdKernels {
  const char* isa;  // "avx2", "avx512": the suffix of the tactic ids that use this table
  // C[M, N] = alpha * A[M, K] B[K, N] (+ C when `accumulate`); rows lda / ldb / ldc floats apart.
  void (*gemm)(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float* C, int64_t ldc, bool accumulate);
  // Each of `rows` rows of n floats (ld apart): y = softmax(x + add), add (n floats) nullable.
  void (*softmax_rows)(const float* x, int64_t ld_x, const float* add, float* y, int64_t ld_y, int64_t rows,
                       int64_t n);
  // Each of `rows` rows of n floats: y = (x - mean) / sqrt(var + eps) * gamma + beta (beta nullable).
  void (*layer_norm_rows)(const float* x, const float* gamma, const float* beta, float eps, float* y,
                          int64_t rows, int64_t n);
  // y = x * (1 + erf(x / sqrt(2))) / 2, n floats (y may be x).
  void (*gelu_erf)(const float* x, float* y, int64_t n);
  // y[j, i] = x[i, j] for an x of `rows` rows of `cols` floats (ld_x apart); y's rows ld_y apart.
  void (*transpose)(const float* x, int64_t ld_x, float* y, int64_t ld_y, int64_t rows, int64_t cols);
};

const SimdKernels& simd_kernels_avx2();
const SimdKernels& simd_kernels_avx512();

// The table for `isa` ("avx2", "avx512") when this CPU runs it, else null.
const SimdKernels* simd_kernels_for(const char* isa);

}  // namespace ingot::backends::cpu
