// ingot's own SIMD kernels: pure functions over pointers and sizes, compiled once per ISA
// (simd_kernels_isa.inc in simd_avx2.cc and simd_avx512.cc, each with its ISA's flags) and picked at run
// time from the CPU's features. Single-threaded: the tactics split the work over the pool.
#pragma once

#include <cstdint>

namespace ingot::backends::cpu {

// The epilogue activations of the convolution kernels: y = act(x), Clip between alpha and beta.
enum SimdAct : int { kActNone, kActRelu, kActClip, kActSilu, kActSigmoid };

struct SimdKernels {
  const char* isa;  // "avx2", "avx512": the suffix of the tactic ids that use this table
  // C[M, N] = alpha * A[M, K] B[K, N] (+ C when `accumulate`); rows lda / ldb / ldc floats apart.
  void (*gemm)(int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
               int64_t ldb, float* C, int64_t ldc, bool accumulate);
  // Columns per panel of a packed B (two vectors).
  int64_t panel;
  // B (K x N, element (k, n) at B[k * ldb + n], or B[n * ldb + k] when `trans`) times alpha into panels
  // of `panel` columns, zero-padded: packed_b_size(K, N) floats at `out`.
  void (*pack_b)(int64_t K, int64_t N, const float* B, int64_t ldb, bool trans, float alpha, float* out);
  // C[M, n0:n1] = A[M, K] B[K, n0:n1] (+ bias[n0:n1], nullable) (+ C when `accumulate`) for the panels
  // p0 <= p < p1 of a packed B of N columns (n0 = p0 * panel, n1 = min(N, p1 * panel)). A's full row tiles
  // come from `a_packed` when not null (pack_a's blocks, laid out as packed_a_offset says); else `work`
  // (nullable: A read in place) holds gemm_workspace_floats floats, into which blocks of A are packed.
  // Rows past the last full tile of a row block are read from A in place either way.
  void (*gemm_packed)(int64_t M, int64_t N, int64_t K, const float* A, int64_t lda, const float* packed,
                      int64_t p0, int64_t p1, const float* bias, float* C, int64_t ldc, bool accumulate,
                      float* work, const float* a_packed);
  int64_t gemm_workspace_floats;
  // The blocking of gemm_packed: rows of A's micro-panels (a tile's rows), rows of A per block (a multiple
  // of pack_rows) and depth per block.
  int64_t pack_rows, row_block, depth_block;
  // A[0:rows, 0:kc] (rows a multiple of pack_rows) into micro-panels of pack_rows rows: element (i, k) at
  // out[(i / pack_rows) * pack_rows * kc + k * pack_rows + i % pack_rows].
  void (*pack_a)(int64_t rows, int64_t kc, const float* A, int64_t lda, float* out);
  // y = a + b, n floats (y may be a or b).
  void (*add)(const float* a, const float* b, float* y, int64_t n);
  // y = x * s, n floats (y may be x).
  void (*scale)(const float* x, float s, float* y, int64_t n);
  // The sum of n floats.
  float (*sum)(const float* x, int64_t n);
  // y = max(x, 0), n floats (y may be x).
  void (*relu)(const float* x, float* y, int64_t n);
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

  // Floats per vector: the channel block of the Winograd transforms below (nChw8c / nChw16c planes, the
  // element (h, w, lane) of an H x Wd plane at (h * Wd + w) * width + lane).
  int64_t width;
  // Winograd F(4x4, 3x3) input transform of tiles t0 <= t < t1 of one plane x (H x Wd, zero outside; tile t
  // starts at row (t / tiles_w) * 4 - pad_t, column (t % tiles_w) * 4 - pad_l): the 36 vectors of tile t go
  // to v[e * ld_xi + t * ld_t], e = 0..35.
  void (*wino_input)(const float* x, int64_t H, int64_t Wd, int64_t pad_t, int64_t pad_l, int64_t tiles_w,
                     int64_t t0, int64_t t1, float* v, int64_t ld_xi, int64_t ld_t);
  // Its output transform: the 36 vectors of tile t at m[e * ld_xi + t * ld_t] to the 4x4 outputs of the
  // tile inside the OH x OW plane y, each + bias (width floats, nullable) + z (a plane like y, nullable;
  // may be y), then max(., 0) when `relu`.
  void (*wino_output)(const float* m, int64_t ld_xi, int64_t ld_t, const float* bias, const float* z,
                      bool relu, float* y, int64_t OH, int64_t OW, int64_t tiles_w, int64_t t0, int64_t t1);
  // Depthwise convolution of one blocked plane x (H x Wd, zero outside) with a kh x kw kernel per lane
  // (w: kh * kw vectors, tap-major), strides sh, sw, leading pads pt, pl: output rows oh0 <= oh < oh1 of the
  // OH x OW plane y, each act(sum + bias) (bias: width floats).
  // im2col of one image's blocked planes x ([C / width][H][Wd][width]) for a kh x kw window with strides
  // sh, sw and leading pads pt, pl: rows m0 <= m < m1 of a[m, (i * kw + j) * C + c] = x(c, oh * sh - pt + i,
  // ow * sw - pl + j) (zero outside), m = oh * OW + ow, rows lda floats apart.
  void (*im2col_blocked)(const float* x, int64_t C, int64_t H, int64_t Wd, int64_t kh, int64_t kw, int64_t sh,
                         int64_t sw, int64_t pt, int64_t pl, int64_t OW, int64_t m0, int64_t m1, float* a,
                         int64_t lda);
  // Rows m0 <= m < m1 of a row-major [rows, K] product (ld floats apart) into blocked planes y
  // ([K / width][rows][width]), each act(v + z) (z: planes like y, nullable).
  void (*rows_to_blocked)(const float* src, int64_t ld, int64_t rows, int64_t K, int64_t m0, int64_t m1,
                          const float* z, int act, float alpha, float beta, float* y);
  void (*depthwise)(const float* x, int64_t H, int64_t Wd, const float* w, const float* bias, int64_t kh,
                    int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int act, float alpha,
                    float beta, float* y, int64_t OH, int64_t OW, int64_t oh0, int64_t oh1);
};

inline int64_t packed_b_size(const SimdKernels& k, int64_t K, int64_t N) {
  return (N + k.panel - 1) / k.panel * k.panel * K;
}

// gemm_packed's `a_packed` for an M x K matrix A: the block of rows ib (a multiple of row_block) and depth
// kb (a multiple of depth_block) at packed_a_offset(k, M, K, ib, kb); packed_a_size(k, M, K) floats in all.
inline int64_t packed_a_full_rows(const SimdKernels& k, int64_t M, int64_t ib) {
  const int64_t mb = M - ib < k.row_block ? M - ib : k.row_block;
  return mb / k.pack_rows * k.pack_rows;
}
inline int64_t packed_a_offset(const SimdKernels& k, int64_t M, int64_t K, int64_t ib, int64_t kb) {
  return ib * K + kb * packed_a_full_rows(k, M, ib);
}
inline int64_t packed_a_size(const SimdKernels& k, int64_t M, int64_t K) {
  return M / k.pack_rows * k.pack_rows * K;
}

const SimdKernels& simd_kernels_avx2();
const SimdKernels& simd_kernels_avx512();

// The table for `isa` ("avx2", "avx512") when this CPU runs it, else null.
const SimdKernels* simd_kernels_for(const char* isa);

}  // namespace ingot::backends::cpu
