// NonZero and ReverseSequence (Compress and CenterCropPad reuse gather and pad).
#pragma once

#include <cstdint>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"
#include "ingot/tensor.h"

namespace ingot::ref {

template <typename T>
bool is_nonzero(const T& v) {
  if constexpr (std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>)
    return static_cast<float>(v) != 0.f;
  else
    return v != T(0);
}

template <typename T>
int64_t count_nonzero(const T* x, int64_t n) {
  int64_t c = 0;
  for (int64_t i = 0; i < n; ++i) c += is_nonzero(x[i]) ? 1 : 0;
  return c;
}

// out is [rank, nnz] (row-major): out[d * nnz + j] is coordinate d of the j-th non-zero element in
// row-major order. A scalar counts as rank 1.
template <typename T>
void nonzero_coords(const T* x, const Dims& dims, int64_t nnz, int64_t* out) {
  const size_t r = dims.empty() ? 1 : dims.size();
  const Dims d = dims.empty() ? Dims{1} : dims;
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  std::vector<int64_t> idx(r, 0);
  int64_t j = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (is_nonzero(x[i])) {
      for (size_t a = 0; a < r; ++a) out[a * nnz + j] = idx[a];
      ++j;
    }
    for (size_t a = r; a-- > 0;) {
      if (++idx[a] < d[a]) break;
      idx[a] = 0;
    }
  }
}

// dims[0], dims[1] are time and batch in either order (time_axis, batch_axis in {0, 1}); the first
// lens[b] steps of batch b are reversed, the rest copied. lens are in [0, time].
template <typename T>
void reverse_sequence(const T* in, const Dims& dims, int64_t time_axis, const int64_t* lens, T* out) {
  int64_t inner = 1;
  for (size_t i = 2; i < dims.size(); ++i) inner *= dims[i];
  const int64_t batch_axis = 1 - time_axis;
  const int64_t steps = dims[time_axis], batches = dims[batch_axis];
  const int64_t stride0 = dims[1] * inner, stride1 = inner;
  const int64_t ts = time_axis == 0 ? stride0 : stride1, bs = time_axis == 0 ? stride1 : stride0;
  for (int64_t b = 0; b < batches; ++b) {
    for (int64_t t = 0; t < steps; ++t) {
      const int64_t src_t = t < lens[b] ? lens[b] - 1 - t : t;
      const T* s = in + src_t * ts + b * bs;
      T* d = out + t * ts + b * bs;
      for (int64_t k = 0; k < inner; ++k) d[k] = s[k];
    }
  }
}

}  // namespace ingot::ref
