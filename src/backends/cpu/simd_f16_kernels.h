// ingot's fp16 GEMM kernels: products of fp16 operands (halves kept as their uint16_t bits) accumulated in
// fp16 over a chunk of k, each chunk's sums then added into fp32 (accumulating thousands of products in fp16
// alone loses about sqrt(K) times more than the operands' rounding: see `chunk` below). Pure functions over
// pointers and sizes, single-threaded (the tactics split the work over the pool), compiled once per flavour
// from simd_f16_kernels_isa.inc:
// - "avx512fp16" (simd_f16_avx512fp16.cc): the AVX512-FP16 instructions, 32 halves per FMA; null where the
//   compiler cannot build it, and only handed out on a CPU that has them (f16_kernels_for).
// - "emulated" (simd_f16_emulated.cc, AVX2 + F16C): the same algorithm with every FMA done in fp32 and
// rounded
//   to fp16 (the hardware rounds once; this rounds the fp32 result again, which can differ by one fp16 ulp in
//   rare cases). For the tests, which check packing, blocking and chunking on CPUs without AVX512-FP16.
//
// Layouts (halves): A, the left operand [M, K], in "pair panels": rows in panels of `mr`, k in pairs, the two
// halves of a pair adjacent, so that one 32-bit broadcast feeds a row's pair to every lane: element (m, k) at
//   (m / mr) * mr * Ke + (k / 2) * mr * 2 + (m % mr) * 2 + k % 2,   Ke = K rounded up to even,
// the odd K's last half zero; a panel's rows past M are read by no product. B, the right operand [K, N], in
// panels of `panel` columns, each Ke rows: element (k, n) at
//   (n / panel) * panel * Ke + (k / 2) * panel * 2 + (n % panel) * 2 + k % 2,
// zero past N and past K. Lane 2j + t of a product vector then holds column j's partial sum over k = t mod 2;
// the fp32 sums of the two are added when the tile is written.
#pragma once

#include <cstdint>

namespace ingot::backends::cpu {

struct F16Kernels {
  const char* isa;  // "avx512fp16" or "emulated"
  int64_t mr;       // rows per panel of A
  int64_t panel;    // columns per panel of B
  // k steps whose products each lane sums in fp16 before they go into the fp32 sum.
  int64_t chunk;
  // B (K x N floats, element (k, n) at B[k * ldb + n]) rounded to fp16 into panels: f16_packed_b_size(K, N)
  // halves at `out`.
  void (*pack_b)(int64_t K, int64_t N, const float* B, int64_t ldb, uint16_t* out);
  // A (M x K floats, rows lda apart) rounded to fp16 into pair panels: f16_packed_a_size(M, K) halves at
  // `out`.
  void (*pack_a)(int64_t M, int64_t K, const float* A, int64_t lda, uint16_t* out);
  // im2col of one image's blocked planes x ([C / width][H][Wd][width], width 8 or 16, C a multiple of 16) for
  // a kh x kw window with strides sh, sw and leading pads pt, pl, rounded to fp16, into pair panels of the
  // matrix a[m, (i * kw + j) * C + c] = x(c, oh * sh - pt + i, ow * sw - pl + j) (zero outside), m = oh * OW
  // + ow < M: panels g0 <= g < g1 (rows g * mr ... ; a last panel's rows past M are written as zeros).
  void (*im2col_blocked)(const float* x, int64_t width, int64_t C, int64_t H, int64_t Wd, int64_t kh,
                         int64_t kw, int64_t sh, int64_t sw, int64_t pt, int64_t pl, int64_t OW, int64_t M,
                         int64_t g0, int64_t g1, uint16_t* a);
  // C[m, n] = sum_k A[m, k] B[k, n] (+ bias[n], nullable) as fp32, rows ldc floats apart, for rows
  // m0 <= m < m1 (m0 a multiple of mr) and the columns of B's panels p0 <= p < p1 (n < N).
  void (*gemm)(int64_t N, int64_t K, const uint16_t* A, const uint16_t* B, int64_t m0, int64_t m1, int64_t p0,
               int64_t p1, const float* bias, float* C, int64_t ldc);
};

inline int64_t f16_even(int64_t k) { return k + (k & 1); }
inline int64_t f16_packed_a_size(const F16Kernels& h, int64_t M, int64_t K) {
  return (M + h.mr - 1) / h.mr * h.mr * f16_even(K);
}
inline int64_t f16_packed_b_size(const F16Kernels& h, int64_t K, int64_t N) {
  return (N + h.panel - 1) / h.panel * h.panel * f16_even(K);
}

// The AVX512-FP16 table when this build has it (the compiler took -mavx512fp16), else null. Runs only on a
// CPU with the instructions: take it through f16_kernels_for.
const F16Kernels* f16_kernels_avx512fp16();
// The emulation: needs AVX2, FMA and F16C.
const F16Kernels& f16_kernels_emulated();

// The AVX512-FP16 table when this build has it and this CPU runs it, else null.
const F16Kernels* f16_kernels_for_this_cpu();

}  // namespace ingot::backends::cpu
