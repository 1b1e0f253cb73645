// Plain TopK along one axis of a tensor viewed as [outer, n, inner].
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

namespace ingot::ref {

// The k largest (or smallest) elements of each in[o, :, i], best first; equal values keep their input
// order (lower index first) and NaN counts as larger than every number, as the ONNX reference sorts.
template <typename T>
void topk(const T* in, int64_t outer, int64_t n, int64_t inner, int64_t k, bool largest, T* values,
          int64_t* indices) {
  using V = std::conditional_t<std::is_integral_v<T>, T, double>;
  std::vector<int64_t> order(n);
  std::vector<V> v(n);
  auto less = [](V a, V b) {
    if constexpr (std::is_integral_v<V>) {
      return a < b;
    } else {
      if (std::isnan(a)) return false;
      return std::isnan(b) || a < b;
    }
  };
  for (int64_t o = 0; o < outer; ++o) {
    for (int64_t i = 0; i < inner; ++i) {
      const T* src = in + o * n * inner + i;
      for (int64_t j = 0; j < n; ++j) {
        order[j] = j;
        v[j] = static_cast<V>(src[j * inner]);
      }
      auto before = [&](int64_t a, int64_t b) {
        if (largest ? less(v[b], v[a]) : less(v[a], v[b])) return true;
        if (largest ? less(v[a], v[b]) : less(v[b], v[a])) return false;
        return a < b;
      };
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      T* dv = values + o * k * inner + i;
      int64_t* di = indices + o * k * inner + i;
      for (int64_t j = 0; j < k; ++j) {
        dv[j * inner] = src[order[j] * inner];
        di[j * inner] = order[j];
      }
    }
  }
}

}  // namespace ingot::ref
