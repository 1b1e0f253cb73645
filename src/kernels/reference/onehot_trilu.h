// OneHot and Trilu.
#pragma once

#include <cstdint>

namespace ingot::ref {

// idx viewed as [outer, inner] (already wrapped; anything outside [0, depth) stays all-off),
// out as [outer, depth, inner].
template <typename T>
void one_hot(const int64_t* idx, int64_t outer, int64_t depth, int64_t inner, T off, T on, T* out) {
  const int64_t n = outer * depth * inner;
  for (int64_t i = 0; i < n; ++i) out[i] = off;
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t k = 0; k < inner; ++k) {
      const int64_t v = idx[o * inner + k];
      if (v >= 0 && v < depth) out[(o * depth + v) * inner + k] = on;
    }
  }
}

// Keeps the upper (j - i >= k) or lower (j - i <= k) triangle of each rows x cols matrix; the rest
// becomes T{} (zero). Loops over j in runs so k far outside the matrix cannot overflow.
template <typename T>
void trilu(const T* in, int64_t batch, int64_t rows, int64_t cols, int64_t k, bool upper, T* out) {
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t i = 0; i < rows; ++i) {
      const T* src = in + (b * rows + i) * cols;
      T* dst = out + (b * rows + i) * cols;
      // First kept column (upper) or first dropped column (lower), clamped to [0, cols].
      int64_t edge;
      if (upper)
        edge = k > cols ? cols : (k < -rows ? 0 : i + k);
      else
        edge = k > cols ? cols : (k < -rows ? 0 : i + k + 1);
      edge = edge < 0 ? 0 : (edge > cols ? cols : edge);
      for (int64_t j = 0; j < cols; ++j) {
        const bool keep = upper ? j >= edge : j < edge;
        dst[j] = keep ? src[j] : T{};
      }
    }
  }
}

}  // namespace ingot::ref
