// The SIMD gemm over the pool (run_packed_gemm, src/backends/cpu/simd_gemm.cc) against a plain product in
// double precision: shapes around the tile, panel, row-block and depth-block sizes of each ISA this CPU runs,
// batches, bias and accumulation, at 1, 2 and 3 threads (A packed in place, or once for all the tasks), and
// the finished-block callback covering every element of C exactly once.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "backends/cpu/simd_gemm.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"

namespace ingot::backends::cpu {
namespace {

struct GemmParams {
  int64_t M, N, K;
  int64_t batch = 1;
  bool bias = false, accumulate = false;
};

std::vector<float> random_floats(size_t n, uint32_t seed) {
  std::vector<float> v(n);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& x : v) x = u(rng);
  return v;
}

class SimdGemm : public ::testing::TestWithParam<GemmParams> {};

TEST_P(SimdGemm, MatchesAPlainProductAtEveryThreadCount) {
  const GemmParams& p = GetParam();
  const int before = num_threads();
  for (const char* isa : {"avx2", "avx512"}) {
    const SimdKernels* k = simd_kernels_for(isa);
    if (!k) continue;
    const int64_t M = p.M, N = p.N, K = p.K, E = p.batch;
    // A with rows wider than K (lda > K), as the Winograd and im2col matrices are not.
    const int64_t lda = K + 3, ldc = N + 5;
    const std::vector<float> a = random_floats(static_cast<size_t>(E * M * lda), 1),
                             b = random_floats(static_cast<size_t>(E * K * N), 2),
                             bias = random_floats(static_cast<size_t>(N), 3),
                             c0 = random_floats(static_cast<size_t>(E * M * ldc), 4);
    const int64_t b_size = packed_b_size(*k, K, N);
    std::vector<float> packed(static_cast<size_t>(E * b_size));
    for (int64_t e = 0; e < E; ++e)
      k->pack_b(K, N, b.data() + e * K * N, N, false, 1.f, packed.data() + e * b_size);
    for (int threads : {1, 2, 3}) {
      SCOPED_TRACE(std::string(isa) + ", " + std::to_string(threads) + " threads");
      set_num_threads(threads);
      std::vector<float> c = c0;
      std::vector<int> done(static_cast<size_t>(E * M * N), 0);
      PackedGemm g;
      g.M = M, g.N = N, g.K = K, g.batch = E;
      g.A = a.data(), g.lda = lda, g.a_stride = M * lda;
      g.packed_b = packed.data(), g.b_stride = b_size;
      g.bias = p.bias ? bias.data() : nullptr;
      g.C = c.data(), g.ldc = ldc, g.c_stride = M * ldc;
      g.accumulate = p.accumulate;
      run_packed_gemm(*k, g, [&](int64_t e, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
        for (int64_t i = m0; i < m1; ++i)
          for (int64_t j = n0; j < n1; ++j) ++done[static_cast<size_t>((e * M + i) * N + j)];
      });
      for (int64_t e = 0; e < E; ++e)
        for (int64_t i = 0; i < M; ++i) {
          for (int64_t j = 0; j < N; ++j) {
            double want = (p.bias ? bias[j] : 0.0) + (p.accumulate ? c0[(e * M + i) * ldc + j] : 0.0);
            for (int64_t q = 0; q < K; ++q)
              want += static_cast<double>(a[(e * M + i) * lda + q]) * b[(e * K + q) * N + j];
            const float got = c[(e * M + i) * ldc + j];
            ASSERT_NEAR(got, want, 1e-5 * (K + 1)) << "C_" << e << "[" << i << ", " << j << "]";
            ASSERT_EQ(done[(e * M + i) * N + j], 1) << "C_" << e << "[" << i << ", " << j << "]";
          }
          // The padding between rows of C is not written.
          for (int64_t j = N; j < ldc; ++j) ASSERT_EQ(c[(e * M + i) * ldc + j], c0[(e * M + i) * ldc + j]);
        }
    }
  }
  set_num_threads(before);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SimdGemm,
    ::testing::Values(GemmParams{1, 1, 1}, GemmParams{5, 7, 3},        // below a tile
                      GemmParams{12, 32, 16}, GemmParams{13, 33, 17},  // one tile, one past
                      GemmParams{128, 768, 300},                       // BERT-like rows, 2 depth blocks
                      GemmParams{203, 70, 40, 1, true},                // 2 row blocks, a tail
                      GemmParams{385, 100, 513, 1, true, true},        // 3 row blocks, 3 depth blocks
                      GemmParams{49, 64, 64, 36},                      // Winograd-like batch
                      GemmParams{11, 200, 20, 5, false, true},         // a batch of tails only
                      GemmParams{24, 16, 0, 2, true, true},            // no depth: bias and C only
                      GemmParams{400, 31, 8}));                        // one panel, many rows

}  // namespace
}  // namespace ingot::backends::cpu
