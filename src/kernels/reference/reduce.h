// Plain reduction kernels (ReduceSum/Mean/Max/... over any set of axes): pure functions over pointers and
// dims.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"
#include "ingot/tensor.h"

namespace ingot::ref {

enum class ReduceKind { kSum, kMean, kMax, kMin, kProd, kL1, kL2, kLogSum, kLogSumExp, kSumSquare };

// A reduction with adjacent kept / reduced dims merged (and size-1 dims dropped), so the walk below
// has few levels and a long contiguous inner loop.
struct ReduceLayout {
  std::vector<int64_t> sizes;        // merged dims of the input
  std::vector<int64_t> out_strides;  // output stride of each merged dim; 0 for reduced ones
  int64_t out_numel = 1;
  int64_t reduce_count = 1;  // elements folded into each output
};

// `reduced[d]` marks the axes of `dims` to reduce.
ReduceLayout make_reduce_layout(const Dims& dims, const std::vector<bool>& reduced);

// Calls f(in_offset, out_offset) for every input element, in input order.
template <typename F>
void for_each_reduce(const ReduceLayout& l, F&& f) {
  const size_t r = l.sizes.size();
  int64_t n = 1;
  for (int64_t s : l.sizes) n *= s;
  if (n == 0) return;
  if (r == 0) {
    f(int64_t{0}, int64_t{0});
    return;
  }
  const int64_t inner = l.sizes[r - 1], inner_stride = l.out_strides[r - 1];
  std::vector<int64_t> idx(r, 0);
  int64_t o = 0;
  for (int64_t i = 0; i < n; i += inner) {
    for (int64_t k = 0; k < inner; ++k) f(i + k, o + k * inner_stride);
    for (size_t d = r - 1; d-- > 0;) {
      o += l.out_strides[d];
      if (++idx[d] < l.sizes[d]) break;
      o -= l.out_strides[d] * l.sizes[d];
      idx[d] = 0;
    }
  }
}

namespace detail {

template <typename T>
constexpr bool kIsFloatLike =
    std::is_floating_point_v<T> || std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// Accumulator: double for floats; wrapping 64-bit for integer sums and products, as numpy does in the
// element type (the narrowing cast at the end keeps the low bits).
template <typename T>
using Acc =
    std::conditional_t<kIsFloatLike<T>, double, std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>>;

template <typename T>
T lowest() {
  if constexpr (kIsFloatLike<T>)
    return T(-std::numeric_limits<float>::infinity());
  else
    return std::numeric_limits<T>::lowest();
}
template <typename T>
T highest() {
  if constexpr (kIsFloatLike<T>)
    return T(std::numeric_limits<float>::infinity());
  else
    return std::numeric_limits<T>::max();
}

// Result of a real-valued reduction in T: integers truncate toward zero as numpy's astype does.
template <typename T>
T from_double(double v) {
  if constexpr (kIsFloatLike<T>) {
    return static_cast<T>(v);
  } else {
    if (!std::isfinite(v)) return T(0);
    return static_cast<T>(static_cast<int64_t>(v));
  }
}

template <typename T>
Acc<T> wrap_add(Acc<T> a, Acc<T> b) {
  if constexpr (std::is_integral_v<Acc<T>>) {
    return static_cast<Acc<T>>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  } else {
    return a + b;
  }
}
template <typename T>
Acc<T> wrap_mul(Acc<T> a, Acc<T> b) {
  if constexpr (std::is_integral_v<Acc<T>>) {
    return static_cast<Acc<T>>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  } else {
    return a * b;
  }
}

}  // namespace detail

// out (l.out_numel elements) = reduction of `in` as described by `l`. A reduction over an empty set
// gives the identity of the operation: 0 (sum, L1, L2, sum of squares), 1 (prod), -inf or the type's
// lowest (max, log-sum, log-sum-exp), +inf or the type's highest (min), NaN (mean of floats).
template <typename T>
void reduce(ReduceKind kind, const T* in, const ReduceLayout& l, T* out) {
  using detail::Acc;
  const int64_t m = l.out_numel;
  if (kind == ReduceKind::kMax || kind == ReduceKind::kMin) {
    const bool is_max = kind == ReduceKind::kMax;
    for (int64_t o = 0; o < m; ++o) out[o] = is_max ? detail::lowest<T>() : detail::highest<T>();
    if constexpr (detail::kIsFloatLike<T>) {
      // NaN wins, as in numpy's maximum.reduce; doubles hold every float type exactly.
      std::vector<double> acc(
          m, is_max ? -std::numeric_limits<double>::infinity() : std::numeric_limits<double>::infinity());
      for_each_reduce(l, [&](int64_t i, int64_t o) {
        const double x = static_cast<double>(in[i]);
        if (std::isnan(acc[o])) return;
        if (std::isnan(x) || (is_max ? x > acc[o] : x < acc[o])) acc[o] = x;
      });
      for (int64_t o = 0; o < m; ++o) out[o] = static_cast<T>(acc[o]);
    } else {
      if (is_max) {
        for_each_reduce(l, [&](int64_t i, int64_t o) { out[o] = in[i] > out[o] ? in[i] : out[o]; });
      } else {
        for_each_reduce(l, [&](int64_t i, int64_t o) { out[o] = in[i] < out[o] ? in[i] : out[o]; });
      }
    }
    return;
  }

  if (kind == ReduceKind::kLogSumExp) {
    // log(sum(exp(x - max))) + max, for range.
    std::vector<double> mx(m, -std::numeric_limits<double>::infinity());
    for_each_reduce(l, [&](int64_t i, int64_t o) {
      const double x = static_cast<double>(in[i]);
      if (x > mx[o]) mx[o] = x;
    });
    for (double& v : mx)
      if (std::isinf(v)) v = 0;  // all -inf (or an inf): shifting by it would make NaNs
    std::vector<double> s(m, 0.0);
    for_each_reduce(l, [&](int64_t i, int64_t o) { s[o] += std::exp(static_cast<double>(in[i]) - mx[o]); });
    for (int64_t o = 0; o < m; ++o) out[o] = detail::from_double<T>(std::log(s[o]) + mx[o]);
    return;
  }

  if (kind == ReduceKind::kL2 || kind == ReduceKind::kLogSum) {
    // Real-valued results: accumulate in double whatever T is.
    std::vector<double> acc(m, 0.0);
    if (kind == ReduceKind::kL2) {
      for_each_reduce(l, [&](int64_t i, int64_t o) {
        const double x = static_cast<double>(in[i]);
        acc[o] += x * x;
      });
      for (int64_t o = 0; o < m; ++o) out[o] = detail::from_double<T>(std::sqrt(acc[o]));
    } else {
      for_each_reduce(l, [&](int64_t i, int64_t o) { acc[o] += static_cast<double>(in[i]); });
      for (int64_t o = 0; o < m; ++o) out[o] = detail::from_double<T>(std::log(acc[o]));
    }
    return;
  }

  std::vector<Acc<T>> acc(m, kind == ReduceKind::kProd ? Acc<T>(1) : Acc<T>(0));
  switch (kind) {
    case ReduceKind::kSum:
    case ReduceKind::kMean:
      for_each_reduce(
          l, [&](int64_t i, int64_t o) { acc[o] = detail::wrap_add<T>(acc[o], static_cast<Acc<T>>(in[i])); });
      break;
    case ReduceKind::kProd:
      for_each_reduce(
          l, [&](int64_t i, int64_t o) { acc[o] = detail::wrap_mul<T>(acc[o], static_cast<Acc<T>>(in[i])); });
      break;
    case ReduceKind::kL1:
      for_each_reduce(l, [&](int64_t i, int64_t o) {
        Acc<T> x = static_cast<Acc<T>>(in[i]);
        if constexpr (std::is_signed_v<Acc<T>>) x = x < 0 ? detail::wrap_mul<T>(x, Acc<T>(-1)) : x;
        acc[o] = detail::wrap_add<T>(acc[o], x);
      });
      break;
    case ReduceKind::kSumSquare:
      for_each_reduce(l, [&](int64_t i, int64_t o) {
        const Acc<T> x = static_cast<Acc<T>>(in[i]);
        acc[o] = detail::wrap_add<T>(acc[o], detail::wrap_mul<T>(x, x));
      });
      break;
    default:
      break;
  }
  if (kind == ReduceKind::kMean) {
    const double n = static_cast<double>(l.reduce_count);
    for (int64_t o = 0; o < m; ++o) out[o] = detail::from_double<T>(static_cast<double>(acc[o]) / n);
  } else {
    for (int64_t o = 0; o < m; ++o) out[o] = static_cast<T>(acc[o]);
  }
}

}  // namespace ingot::ref
