// The SIMD gemm over the thread pool: what cpu.ingot.matmul, cpu.ingot.conv_gemm and cpu.ingot.winograd
// share.
#pragma once

#include <cstdint>
#include <functional>

#include "backends/cpu/simd_kernels.h"

namespace ingot::backends::cpu {

// `batch` products C_e[M, N] = A_e[M, K] B_e (+ bias[N], nullable) (+ C_e when `accumulate`), B_e packed by
// SimdKernels::pack_b; A_e = A + e * a_stride (rows lda floats apart), B_e = packed_b + e * b_stride, C_e =
// C + e * c_stride (rows ldc floats apart).
struct PackedGemm {
  int64_t M = 0, N = 0, K = 0;
  const float* A = nullptr;
  int64_t lda = 0, a_stride = 0;
  const float* packed_b = nullptr;
  int64_t b_stride = 0;
  const float* bias = nullptr;
  float* C = nullptr;
  int64_t ldc = 0, c_stride = 0;
  bool accumulate = false;
  int64_t batch = 1;
};

// A block of C the gemm finished: rows m0..m1 and columns n0..n1 of C_e.
using GemmBlockDone = std::function<void(int64_t e, int64_t m0, int64_t m1, int64_t n0, int64_t n1)>;

// Runs `g` on the pool. With more than one thread, A's row tiles are first packed once into the calling
// thread's scratch (split over the pool), then (row block, run of panels) tasks share them: a thread packing
// its own copy of A for each of its few panels cost as much as the products it then ran. `done` (nullable)
// runs on each finished block, on the thread that computed it (an epilogue while the block is in cache).
void run_packed_gemm(const SimdKernels& k, const PackedGemm& g, const GemmBlockDone& done = nullptr);

}  // namespace ingot::backends::cpu
