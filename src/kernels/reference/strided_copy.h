// The one gather loop behind most data movement (Transpose, Slice, Expand, Tile, DepthToSpace ...):
// out walks `out_dims` in row-major order and reads in[offset + sum(idx[d] * in_strides[d])].
// Strides may be 0 (broadcast) or negative (reversed slices).
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"

namespace ingot::ref {

// Drops size-1 dims and merges dims that are contiguous in both the input and the output,
// so the inner loop runs as long as possible.
inline void simplify_strided(Dims& dims, std::vector<int64_t>& strides) {
  Dims d;
  std::vector<int64_t> s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (dims[i] == 1) continue;
    if (!d.empty() && s.back() == strides[i] * dims[i]) {
      d.back() *= dims[i];
      s.back() = strides[i];
    } else {
      d.push_back(dims[i]);
      s.push_back(strides[i]);
    }
  }
  dims = std::move(d);
  strides = std::move(s);
}

template <typename T>
void strided_copy(const T* in, int64_t in_offset, Dims out_dims, std::vector<int64_t> in_strides, T* out) {
  for (int64_t d : out_dims)
    if (d == 0) return;
  simplify_strided(out_dims, in_strides);
  const size_t r = out_dims.size();
  const T* base = in + in_offset;
  if (r == 0) {
    out[0] = base[0];
    return;
  }
  const int64_t inner = out_dims[r - 1], step = in_strides[r - 1];
  std::vector<int64_t> idx(r, 0);
  int64_t off = 0;
  int64_t o = 0;
  while (true) {
    const T* p = base + off;
    if (step == 1) {
      for (int64_t k = 0; k < inner; ++k) out[o + k] = p[k];
    } else {
      for (int64_t k = 0; k < inner; ++k) out[o + k] = p[k * step];
    }
    o += inner;
    size_t d = r - 1;
    while (d-- > 0) {
      ++idx[d];
      off += in_strides[d];
      if (idx[d] < out_dims[d]) break;
      off -= in_strides[d] * out_dims[d];
      idx[d] = 0;
    }
    if (d == static_cast<size_t>(-1)) return;
  }
}

}  // namespace ingot::ref
