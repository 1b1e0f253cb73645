// Generators behind ConstantOfShape, Range and EyeLike.
#pragma once

#include <cstdint>

namespace ingot::ref {

template <typename T>
void fill(T* out, int64_t n, const T& v) {
  for (int64_t i = 0; i < n; ++i) out[i] = v;
}

// out[i] = start + i * delta, computed from i (not accumulated) so float error does not grow.
template <typename T>
void range(T* out, int64_t n, T start, T delta) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<T>(start + static_cast<T>(i) * delta);
}

// Zero-initialised rows x cols matrix gets `one` at (i, i + k).
template <typename T>
void eye(T* out, int64_t rows, int64_t cols, int64_t k, T one) {
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t j = i + k;
    if (j >= 0 && j < cols) out[i * cols + j] = one;
  }
}

}  // namespace ingot::ref
