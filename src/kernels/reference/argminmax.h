// Plain ArgMax / ArgMin along one axis of a tensor viewed as [outer, n, inner].
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ingot/dtype.h"

namespace ingot::ref {

// out[o, i] = index along the axis of the max (kMax) or min element of in[o, :, i]; ties go to the first
// index, or the last with `select_last`. NaN beats every number (numpy's argmax / argmin).
template <bool kMax, typename T>
void arg_reduce(const T* in, int64_t outer, int64_t n, int64_t inner, bool select_last, int64_t* out) {
  using V = std::conditional_t<std::is_integral_v<T>, T, double>;
  for (int64_t o = 0; o < outer; ++o) {
    const T* base = in + o * n * inner;
    for (int64_t i = 0; i < inner; ++i) {
      int64_t best_k = 0;
      V best = static_cast<V>(base[i]);
      for (int64_t k = 1; k < n; ++k) {
        const V x = static_cast<V>(base[k * inner + i]);
        bool take;
        if constexpr (std::is_integral_v<V>) {
          take = kMax ? (x > best || (select_last && x == best)) : (x < best || (select_last && x == best));
        } else {
          const bool xn = std::isnan(x), bn = std::isnan(best);
          if (bn)
            take = select_last && xn;
          else if (xn)
            take = true;
          else
            take = kMax ? (x > best || (select_last && x == best)) : (x < best || (select_last && x == best));
        }
        if (take) {
          best = x;
          best_k = k;
        }
      }
      out[o * inner + i] = best_k;
    }
  }
}

}  // namespace ingot::ref
