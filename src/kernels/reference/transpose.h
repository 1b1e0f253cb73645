// Transpose as a strided copy: out[i0..in] = in[at perm], out dims are in_dims permuted.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"
#include "kernels/reference/strided_copy.h"

namespace ingot::ref {

// `perm` must be a permutation of [0, rank).
template <typename T>
void transpose(const T* in, const Dims& in_dims, const std::vector<int64_t>& perm, T* out) {
  std::vector<int64_t> in_strides(in_dims.size());
  int64_t acc = 1;
  for (size_t i = in_dims.size(); i-- > 0;) {
    in_strides[i] = acc;
    acc *= in_dims[i];
  }
  Dims out_dims(perm.size());
  std::vector<int64_t> strides(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) {
    out_dims[i] = in_dims[perm[i]];
    strides[i] = in_strides[perm[i]];
  }
  strided_copy(in, 0, std::move(out_dims), std::move(strides), out);
}

}  // namespace ingot::ref
