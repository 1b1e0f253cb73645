#include "backends/cpu/simd_gemm.h"

#include <algorithm>

#include "backends/cpu/onednn_common.h"
#include "core/threading.h"

namespace ingot::backends::cpu {

void run_packed_gemm(const SimdKernels& k, const PackedGemm& g, const GemmBlockDone& done) {
  if (g.M <= 0 || g.N <= 0 || g.batch <= 0) return;
  const int64_t panels = (g.N + k.panel - 1) / k.panel, row_blocks = (g.M + k.row_block - 1) / k.row_block;
  const int64_t depth_blocks = std::max<int64_t>(1, (g.K + k.depth_block - 1) / k.depth_block);
  const int64_t a_size = packed_a_size(k, g.M, g.K);
  // At least about a million multiply-adds per task.
  const int64_t per_unit = std::max<int64_t>(1, std::min(g.M, k.row_block) * g.K * k.panel);
  const int64_t grain = std::max<int64_t>(1, (1 << 20) / per_unit);
  const int64_t units = g.batch * row_blocks * panels;
  const bool prepack = num_threads() > 1 && units > grain && a_size > 0 && g.K > 0 && panels > 1;
  float* a_packed = nullptr;
  if (prepack) {
    a_packed = static_cast<float*>(
        thread_scratch(kGemmPackedASlot, static_cast<size_t>(g.batch * a_size) * sizeof(float)));
    // One task per (product, row block, depth block): a row_block x depth_block block of A each.
    parallel_for(g.batch * row_blocks * depth_blocks, 1, [&](int64_t t0, int64_t t1) {
      for (int64_t t = t0; t < t1; ++t) {
        const int64_t e = t / (row_blocks * depth_blocks), ib = (t / depth_blocks) % row_blocks * k.row_block,
                      kb = t % depth_blocks * k.depth_block;
        const int64_t rows = packed_a_full_rows(k, g.M, ib);
        if (rows == 0) continue;
        k.pack_a(rows, std::min(k.depth_block, g.K - kb), g.A + e * g.a_stride + ib * g.lda + kb, g.lda,
                 a_packed + e * a_size + packed_a_offset(k, g.M, g.K, ib, kb));
      }
    });
  }
  // Tasks in (product, row block, panel) order; a task's run of panels of one row block in one call, so that
  // the block's rows of A stream past each block of B once.
  parallel_for(units, grain, [&](int64_t u0, int64_t u1) {
    float* work = prepack
                      ? nullptr
                      : static_cast<float*>(thread_scratch(
                            kGemmScratchSlot, static_cast<size_t>(k.gemm_workspace_floats) * sizeof(float)));
    while (u0 < u1) {
      const int64_t e = u0 / (row_blocks * panels), ib = (u0 / panels) % row_blocks * k.row_block;
      const int64_t p0 = u0 % panels, p1 = std::min(panels, p0 + (u1 - u0));
      const int64_t mb = std::min(k.row_block, g.M - ib);
      float* c = g.C + e * g.c_stride;
      k.gemm_packed(mb, g.N, g.K, g.A + e * g.a_stride + ib * g.lda, g.lda, g.packed_b + e * g.b_stride, p0,
                    p1, g.bias, c + ib * g.ldc, g.ldc, g.accumulate, work,
                    prepack ? a_packed + e * a_size + packed_a_offset(k, g.M, g.K, ib, 0) : nullptr);
      if (done) done(e, ib, ib + mb, p0 * k.panel, std::min(g.N, p1 * k.panel));
      u0 += p1 - p0;
    }
  });
}

}  // namespace ingot::backends::cpu
