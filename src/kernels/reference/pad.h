// Pad (constant / edge / reflect / wrap) with per-axis begin pads that may be negative (crop).
// CenterCropPad reuses it in constant mode.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"

namespace ingot::ref {

enum class PadMode { kConstant, kEdge, kReflect, kWrap };

// Input index that output index `o` reads along an axis of `n` input elements with `begin` padding,
// or -1 for the constant value. Edge/reflect/wrap require n > 0 (the op checks).
inline int64_t pad_source_index(int64_t o, int64_t begin, int64_t n, PadMode mode) {
  const int64_t i = o - begin;
  if (i >= 0 && i < n) return i;
  switch (mode) {
    case PadMode::kConstant:
      return -1;
    case PadMode::kEdge:
      return i < 0 ? 0 : n - 1;
    case PadMode::kWrap:
      return ((i % n) + n) % n;
    case PadMode::kReflect: {
      if (n == 1) return 0;
      const int64_t period = 2 * (n - 1);
      int64_t m = ((i % period) + period) % period;
      return m < n ? m : period - m;
    }
  }
  return -1;
}

template <typename T>
void pad(const T* in, const Dims& in_dims, const std::vector<int64_t>& begin, const Dims& out_dims,
         PadMode mode, const T& value, T* out) {
  const size_t r = out_dims.size();
  int64_t n_out = 1;
  for (int64_t d : out_dims) n_out *= d;
  if (n_out == 0) return;
  if (r == 0) {
    out[0] = in[0];
    return;
  }
  // Per axis: the input offset (index * stride) each output index reads, -1 for the constant.
  std::vector<std::vector<int64_t>> src(r);
  int64_t stride = 1;
  for (size_t a = r; a-- > 0;) {
    src[a].resize(out_dims[a]);
    for (int64_t o = 0; o < out_dims[a]; ++o) {
      const int64_t i = pad_source_index(o, begin[a], in_dims[a], mode);
      src[a][o] = i < 0 ? -1 : i * stride;
    }
    stride *= in_dims[a];
  }
  const int64_t inner = out_dims[r - 1];
  const std::vector<int64_t>& last = src[r - 1];
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < n_out; o += inner) {
    int64_t base = 0;
    bool constant_row = false;
    for (size_t a = 0; a + 1 < r; ++a) {
      const int64_t s = src[a][idx[a]];
      if (s < 0) constant_row = true;
      base += s;
    }
    T* dst = out + o;
    if (constant_row) {
      for (int64_t k = 0; k < inner; ++k) dst[k] = value;
    } else {
      for (int64_t k = 0; k < inner; ++k) dst[k] = last[k] < 0 ? value : in[base + last[k]];
    }
    for (size_t a = r - 1; a-- > 0;) {
      if (++idx[a] < out_dims[a]) break;
      idx[a] = 0;
    }
  }
}

}  // namespace ingot::ref
