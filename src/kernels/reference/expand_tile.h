// Expand and Tile as strided copies: Expand reads broadcast dims with stride 0; Tile views the output
// as [rep0, d0, rep1, d1, ...] over the input with stride 0 on the repeat dims.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"
#include "kernels/reference/strided_copy.h"

namespace ingot::ref {

// `out_dims` is the broadcast of `in_dims` (right-aligned; in dims are 1 or equal).
template <typename T>
void expand(const T* in, const Dims& in_dims, const Dims& out_dims, T* out) {
  const size_t r = out_dims.size(), off = r - in_dims.size();
  std::vector<int64_t> strides(r, 0);
  int64_t acc = 1;
  for (size_t i = in_dims.size(); i-- > 0;) {
    strides[off + i] = in_dims[i] == 1 ? 0 : acc;
    acc *= in_dims[i];
  }
  strided_copy(in, 0, out_dims, std::move(strides), out);
}

template <typename T>
void tile(const T* in, const Dims& in_dims, const std::vector<int64_t>& reps, T* out) {
  const size_t r = in_dims.size();
  Dims view(2 * r);
  std::vector<int64_t> strides(2 * r, 0);
  int64_t acc = 1;
  for (size_t i = r; i-- > 0;) {
    view[2 * i] = reps[i];
    view[2 * i + 1] = in_dims[i];
    strides[2 * i + 1] = acc;
    acc *= in_dims[i];
  }
  strided_copy(in, 0, std::move(view), std::move(strides), out);
}

}  // namespace ingot::ref
