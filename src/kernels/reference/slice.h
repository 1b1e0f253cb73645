// Slice: a strided view copy. The op resolves starts/ends/steps into (offset, per-axis count, stride).
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"
#include "kernels/reference/strided_copy.h"

namespace ingot::ref {

// One axis of a slice after clamping: first index, element count and step (never 0).
struct SliceAxis {
  int64_t start = 0;
  int64_t count = 0;
  int64_t step = 1;
};

// Numpy's rules: negative start/end count from the end, then clamp to the axis; the count is the
// number of steps that stay inside [start, end).
inline SliceAxis resolve_slice_axis(int64_t start, int64_t end, int64_t step, int64_t dim) {
  SliceAxis a;
  a.step = step;
  if (start < 0) start += dim;
  if (end < 0) end += dim;
  if (step > 0) {
    start = start < 0 ? 0 : (start > dim ? dim : start);
    end = end < 0 ? 0 : (end > dim ? dim : end);
    a.count = end > start ? (end - start - 1) / step + 1 : 0;  // no overflow for huge steps
  } else {
    start = start < 0 ? 0 : (start > dim - 1 ? dim - 1 : start);
    end = end < -1 ? -1 : (end > dim - 1 ? dim - 1 : end);
    // -step cannot overflow unless step == INT64_MIN, where any non-empty range has one element.
    const uint64_t neg = static_cast<uint64_t>(-(step + 1)) + 1;
    a.count = start > end ? static_cast<int64_t>((static_cast<uint64_t>(start - end) - 1) / neg + 1) : 0;
  }
  a.start = a.count > 0 ? start : 0;
  return a;
}

// `axes` has one entry per input dim.
template <typename T>
void slice(const T* in, const Dims& in_dims, const std::vector<SliceAxis>& axes, T* out) {
  const size_t r = in_dims.size();
  Dims out_dims(r);
  std::vector<int64_t> strides(r);
  int64_t offset = 0, acc = 1;
  for (size_t i = r; i-- > 0;) {
    out_dims[i] = axes[i].count;
    // With two or more elements |step| < dim, so the stride fits; with fewer it is never used (and a
    // huge step such as INT64_MIN would overflow the product).
    strides[i] = axes[i].count > 1 ? acc * axes[i].step : 0;
    offset += acc * axes[i].start;
    acc *= in_dims[i];
  }
  strided_copy(in, offset, std::move(out_dims), std::move(strides), out);
}

}  // namespace ingot::ref
