// Concat and Split over a tensor viewed as [outer, axis, inner]: each input/output owns a
// contiguous block of axis_size * inner elements in every outer row.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace ingot::ref {

template <typename T>
void concat(const std::vector<const T*>& ins, const std::vector<int64_t>& axis_sizes, int64_t outer,
            int64_t inner, T* out) {
  int64_t total = 0;
  for (int64_t s : axis_sizes) total += s;
  const int64_t row = total * inner;
  int64_t col = 0;
  for (size_t k = 0; k < ins.size(); ++k) {
    const int64_t block = axis_sizes[k] * inner;
    for (int64_t o = 0; o < outer; ++o) {
      const T* src = ins[k] + o * block;
      T* dst = out + o * row + col;
      for (int64_t i = 0; i < block; ++i) dst[i] = src[i];
    }
    col += block;
  }
}

template <typename T>
void split(const T* in, int64_t outer, int64_t inner, const std::vector<int64_t>& axis_sizes,
           const std::vector<T*>& outs) {
  int64_t total = 0;
  for (int64_t s : axis_sizes) total += s;
  const int64_t row = total * inner;
  int64_t col = 0;
  for (size_t k = 0; k < outs.size(); ++k) {
    const int64_t block = axis_sizes[k] * inner;
    for (int64_t o = 0; o < outer; ++o) {
      const T* src = in + o * row + col;
      T* dst = outs[k] + o * block;
      for (int64_t i = 0; i < block; ++i) dst[i] = src[i];
    }
    col += block;
  }
}

}  // namespace ingot::ref
