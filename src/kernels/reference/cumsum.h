// Plain cumulative sum along one axis of a tensor viewed as [outer, n, inner].
#pragma once

#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"

namespace ingot::ref {

// out[o, k, i] = sum of in[o, j, i] for j <= k (j < k when exclusive; j >= k / j > k when reverse).
// Floats accumulate in double; integers wrap like the element type.
template <typename T>
void cumsum(const T* in, int64_t outer, int64_t n, int64_t inner, bool exclusive, bool reverse, T* out) {
  constexpr bool kFloat = !std::is_integral_v<T>;
  using Acc = std::conditional_t<kFloat, double, uint64_t>;
  std::vector<Acc> acc(inner);
  for (int64_t o = 0; o < outer; ++o) {
    const T* src = in + o * n * inner;
    T* dst = out + o * n * inner;
    std::fill(acc.begin(), acc.end(), Acc(0));
    for (int64_t step = 0; step < n; ++step) {
      const int64_t k = reverse ? n - 1 - step : step;
      const T* s = src + k * inner;
      T* d = dst + k * inner;
      for (int64_t i = 0; i < inner; ++i) {
        const Acc x = kFloat ? static_cast<Acc>(static_cast<double>(s[i])) : static_cast<Acc>(s[i]);
        if (exclusive) {
          d[i] = static_cast<T>(acc[i]);
          acc[i] += x;
        } else {
          acc[i] += x;
          d[i] = static_cast<T>(acc[i]);
        }
      }
    }
  }
}

}  // namespace ingot::ref
