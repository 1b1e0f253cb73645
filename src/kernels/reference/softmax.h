// Softmax, LogSoftmax and Hardmax over one axis of a tensor seen as [outer, n, inner]: element
// (o, k, i) is at (o * n + k) * inner + i. Pure functions over pointers and sizes.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"

namespace ingot::ref {

template <typename T>
using SoftmaxAcc = std::conditional_t<std::is_same_v<T, double>, double, float>;

// The max is subtracted first so exp never overflows; log_softmax = x - max - log(sum exp(x - max)).
template <typename T>
void softmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner, bool log) {
  using Acc = SoftmaxAcc<T>;
  std::vector<Acc> mx(static_cast<size_t>(inner)), sum(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * n * inner;
    T* yo = y + o * n * inner;
    // Rows of `inner` contiguous elements are processed together so memory is read in order.
    for (int64_t i = 0; i < inner; ++i) mx[i] = -INFINITY, sum[i] = 0;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) mx[i] = std::fmax(mx[i], static_cast<Acc>(xo[k * inner + i]));
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) sum[i] += std::exp(static_cast<Acc>(xo[k * inner + i]) - mx[i]);
    if (log) {
      for (int64_t i = 0; i < inner; ++i) sum[i] = std::log(sum[i]);
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i)
          yo[k * inner + i] = static_cast<T>(static_cast<Acc>(xo[k * inner + i]) - mx[i] - sum[i]);
    } else {
      for (int64_t k = 0; k < n; ++k)
        for (int64_t i = 0; i < inner; ++i)
          yo[k * inner + i] = static_cast<T>(std::exp(static_cast<Acc>(xo[k * inner + i]) - mx[i]) / sum[i]);
    }
  }
}

// 1 at the first maximum along the axis, 0 elsewhere (as numpy's argmax picks the first).
template <typename T>
void hardmax(const T* x, T* y, int64_t outer, int64_t n, int64_t inner) {
  if (n == 0) return;
  std::vector<int64_t> arg(static_cast<size_t>(inner));
  for (int64_t o = 0; o < outer; ++o) {
    const T* xo = x + o * n * inner;
    T* yo = y + o * n * inner;
    for (int64_t i = 0; i < inner; ++i) arg[i] = 0;
    for (int64_t k = 1; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i)
        if (static_cast<SoftmaxAcc<T>>(xo[k * inner + i]) >
            static_cast<SoftmaxAcc<T>>(xo[arg[i] * inner + i]))
          arg[i] = k;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t i = 0; i < inner; ++i) yo[k * inner + i] = static_cast<T>(k == arg[i] ? 1.0f : 0.0f);
  }
}

}  // namespace ingot::ref
