// Gather / GatherElements / GatherND and the Scatter family. Indices arrive validated and
// non-negative (the op wraps negative ones and rejects out-of-range ones), so nothing here checks.
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"
#include "ingot/tensor.h"

namespace ingot::ref {

// data viewed as [outer, axis_size, inner]; out is [outer, n_idx, inner].
template <typename T>
void gather(const T* data, int64_t outer, int64_t axis_size, int64_t inner, const int64_t* idx, int64_t n_idx,
            T* out) {
  for (int64_t o = 0; o < outer; ++o) {
    const T* src = data + o * axis_size * inner;
    for (int64_t j = 0; j < n_idx; ++j) {
      const T* s = src + idx[j] * inner;
      for (int64_t k = 0; k < inner; ++k) out[k] = s[k];
      out += inner;
    }
  }
}

// Calls f(position, data_offset) for every position of an index tensor of dims `idx_dims` (same rank
// as data), where data_offset addresses data at the same coordinates except `axis`, which is idx[position].
template <typename F>
void for_each_element_index(const Dims& data_dims, const int64_t* idx, const Dims& idx_dims, int64_t axis,
                            F&& f) {
  const size_t r = idx_dims.size();
  int64_t n = 1;
  for (int64_t d : idx_dims) n *= d;
  if (n == 0) return;
  std::vector<int64_t> stride(r);
  int64_t acc = 1;
  for (size_t i = r; i-- > 0;) {
    stride[i] = acc;
    acc *= data_dims[i];
  }
  std::vector<int64_t> coord(r, 0);
  int64_t base = 0;  // offset of coord with the axis coordinate left out
  for (int64_t p = 0; p < n; ++p) {
    f(p, base + idx[p] * stride[axis]);
    for (size_t d = r; d-- > 0;) {
      ++coord[d];
      if (static_cast<int64_t>(d) != axis) base += stride[d];
      if (coord[d] < idx_dims[d]) break;
      if (static_cast<int64_t>(d) != axis) base -= stride[d] * idx_dims[d];
      coord[d] = 0;
    }
  }
}

template <typename T>
void gather_elements(const T* data, const Dims& data_dims, const int64_t* idx, const Dims& idx_dims,
                     int64_t axis, T* out) {
  for_each_element_index(data_dims, idx, idx_dims, axis, [&](int64_t p, int64_t off) { out[p] = data[off]; });
}

// Copies `n` slices of `slice` elements: out slice j = data[offsets[j] ...].
template <typename T>
void gather_slices(const T* data, const int64_t* offsets, int64_t n, int64_t slice, T* out) {
  for (int64_t j = 0; j < n; ++j) {
    const T* s = data + offsets[j];
    for (int64_t k = 0; k < slice; ++k) out[k] = s[k];
    out += slice;
  }
}

enum class ScatterReduce { kNone, kAdd, kMul, kMax, kMin };

// dst = reduce(dst, src), computed in float for the 16-bit float types.
template <typename T>
void scatter_combine(T& dst, const T& src, ScatterReduce r) {
  if constexpr (std::is_arithmetic_v<T> || std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>) {
    using W = std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>, float, T>;
    const W a = static_cast<W>(dst), b = static_cast<W>(src);
    switch (r) {
      case ScatterReduce::kNone:
        dst = src;
        break;
      case ScatterReduce::kAdd:
        dst = static_cast<T>(a + b);
        break;
      case ScatterReduce::kMul:
        dst = static_cast<T>(a * b);
        break;
      case ScatterReduce::kMax:
        dst = b > a ? src : dst;
        break;
      case ScatterReduce::kMin:
        dst = b < a ? src : dst;
        break;
    }
  } else {
    dst = src;  // reductions are rejected by the op for non-arithmetic types
  }
}

// out already holds a copy of data; updates has idx_dims.
template <typename T>
void scatter_elements(T* out, const Dims& data_dims, const int64_t* idx, const T* updates,
                      const Dims& idx_dims, int64_t axis, ScatterReduce r) {
  for_each_element_index(data_dims, idx, idx_dims, axis,
                         [&](int64_t p, int64_t off) { scatter_combine(out[off], updates[p], r); });
}

// out slice at offsets[j] combined with updates slice j.
template <typename T>
void scatter_slices(T* out, const int64_t* offsets, int64_t n, int64_t slice, const T* updates,
                    ScatterReduce r) {
  for (int64_t j = 0; j < n; ++j) {
    T* d = out + offsets[j];
    for (int64_t k = 0; k < slice; ++k) scatter_combine(d[k], updates[k], r);
    updates += slice;
  }
}

}  // namespace ingot::ref
