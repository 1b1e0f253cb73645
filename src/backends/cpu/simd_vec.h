// One SIMD register of floats for the ISA the including file is compiled for (-mavx512f or -mavx2
// -mfma; see CMakeLists.txt): the few operations ingot's kernels need, tails through masks, and exp / erf
// approximations. Included only by the simd_*_isa.cc files, each of which compiles it for one ISA.
#pragma once

#include <immintrin.h>

#include <cstdint>

#if !defined(__AVX2__) || !defined(__FMA__)
#error "simd_vec.h needs at least AVX2 and FMA"
#endif

// Internal linkage on purpose: every file that includes this is compiled for another ISA, and inline
// functions of one name with external linkage would let the linker keep one ISA's copy for all of them.
namespace ingot::backends::cpu::simd {
namespace {

#if defined(__AVX512F__)

struct Vec {
  static constexpr int kWidth = 16;
  __m512 v;
  static Vec zero() { return {_mm512_setzero_ps()}; }
  static Vec set1(float x) { return {_mm512_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm512_loadu_ps(p)}; }
  // The first n (< kWidth) lanes from p, zeros after.
  static Vec load(const float* p, int64_t n) { return {_mm512_maskz_loadu_ps(mask(n), p)}; }
  // The first n lanes from p, `fill` after.
  static Vec load(const float* p, int64_t n, float fill) {
    return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), mask(n), p)};
  }
  void store(float* p) const { _mm512_storeu_ps(p, v); }
  void store(float* p, int64_t n) const { _mm512_mask_storeu_ps(p, mask(n), v); }
  static __mmask16 mask(int64_t n) { return static_cast<__mmask16>((1u << n) - 1); }
  friend Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm512_div_ps(a.v, b.v)}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }  // a * b + c
  static Vec max(Vec a, Vec b) { return {_mm512_max_ps(a.v, b.v)}; }
  static Vec min(Vec a, Vec b) { return {_mm512_min_ps(a.v, b.v)}; }
  static Vec abs(Vec a) { return {_mm512_abs_ps(a.v)}; }
  // Lanes where a < 0 take b, the others c.
  static Vec select_negative(Vec a, Vec b, Vec c) {
    return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, _mm512_setzero_ps(), _CMP_LT_OQ), c.v, b.v)};
  }
  static Vec round(Vec a) {
    return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
  }
  // 2^n for integral n in [-126, 127].
  static Vec pow2(Vec n) {
    const __m512i e =
        _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n.v), _mm512_set1_epi32(127)), 23);
    return {_mm512_castsi512_ps(e)};
  }
  float sum() const { return _mm512_reduce_add_ps(v); }
  float hmax() const { return _mm512_reduce_max_ps(v); }
};

#else

struct Vec {
  static constexpr int kWidth = 8;
  __m256 v;
  static Vec zero() { return {_mm256_setzero_ps()}; }
  static Vec set1(float x) { return {_mm256_set1_ps(x)}; }
  static Vec load(const float* p) { return {_mm256_loadu_ps(p)}; }
  static Vec load(const float* p, int64_t n) { return {_mm256_maskload_ps(p, mask(n))}; }
  static Vec load(const float* p, int64_t n, float fill) {
    const __m256i m = mask(n);
    return {_mm256_blendv_ps(_mm256_set1_ps(fill), _mm256_maskload_ps(p, m), _mm256_castsi256_ps(m))};
  }
  void store(float* p) const { _mm256_storeu_ps(p, v); }
  void store(float* p, int64_t n) const { _mm256_maskstore_ps(p, mask(n), v); }
  static __m256i mask(int64_t n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(static_cast<int>(n)),
                              _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  friend Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
  friend Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
  friend Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
  friend Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
  static Vec fma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
  static Vec max(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
  static Vec min(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
  static Vec abs(Vec a) { return {_mm256_andnot_ps(_mm256_set1_ps(-0.f), a.v)}; }
  static Vec select_negative(Vec a, Vec b, Vec c) {
    return {_mm256_blendv_ps(c.v, b.v, _mm256_cmp_ps(a.v, _mm256_setzero_ps(), _CMP_LT_OQ))};
  }
  static Vec round(Vec a) { return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)}; }
  static Vec pow2(Vec n) {
    const __m256i e =
        _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n.v), _mm256_set1_epi32(127)), 23);
    return {_mm256_castsi256_ps(e)};
  }
  float sum() const {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  float hmax() const {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
};

#endif

// e^x: x = n ln2 + r with |r| <= ln2 / 2, e^r by a degree-7 polynomial (Cephes' expf) (relative error about
// 2e-7 in
// [-87, 88]); below -87.3 it returns 0 as the float e^x underflows, above 88.7 it saturates at e^88.7.
inline Vec exp(Vec x) {
  const Vec lo = Vec::set1(-87.33654f);
  const Vec xc = Vec::min(Vec::max(x, lo), Vec::set1(88.72283f));
  const Vec n = Vec::round(xc * Vec::set1(1.44269504088896341f));
  Vec r = Vec::fma(n, Vec::set1(-0.693359375f), xc);
  r = Vec::fma(n, Vec::set1(2.12194440e-4f), r);
  Vec p = Vec::set1(1.9875691500e-4f);
  p = Vec::fma(p, r, Vec::set1(1.3981999507e-3f));
  p = Vec::fma(p, r, Vec::set1(8.3334519073e-3f));
  p = Vec::fma(p, r, Vec::set1(4.1665795894e-2f));
  p = Vec::fma(p, r, Vec::set1(1.6666665459e-1f));
  p = Vec::fma(p, r, Vec::set1(5.0000001201e-1f));
  p = Vec::fma(p, r * r, r + Vec::set1(1.f));
  // n can reach 128 at the top of the range: scale in two steps so 2^n never overflows the exponent.
  const Vec half_n = Vec::round(n * Vec::set1(0.5f));
  Vec y = p * Vec::pow2(half_n) * Vec::pow2(n - half_n);
  // Below the clamp e^x is smaller than the smallest normal float: 0, as std::exp rounds it.
  return Vec::select_negative(x - lo, Vec::zero(), y);
}

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error below 1.5e-7), odd-extended.
inline Vec erf(Vec x) {
  const Vec a = Vec::abs(x);
  const Vec t = Vec::set1(1.f) / Vec::fma(a, Vec::set1(0.3275911f), Vec::set1(1.f));
  Vec p = Vec::set1(1.061405429f);
  p = Vec::fma(p, t, Vec::set1(-1.453152027f));
  p = Vec::fma(p, t, Vec::set1(1.421413741f));
  p = Vec::fma(p, t, Vec::set1(-0.284496736f));
  p = Vec::fma(p, t, Vec::set1(0.254829592f));
  p = p * t;
  const Vec e = Vec::set1(1.f) - p * exp(Vec::zero() - a * a);
  return Vec::select_negative(x, Vec::zero() - e, e);
}

}  // namespace
}  // namespace ingot::backends::cpu::simd
