// DepthToSpace / SpaceToDepth: a reshape to 6-D, a transpose, a reshape back.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"
#include "kernels/reference/transpose.h"

namespace ingot::ref {

// in [n, c, h, w] -> out [n, c / (b*b), h*b, w*b]. DCR: depth is (by, bx, c'); CRD: (c', by, bx).
template <typename T>
void depth_to_space(const T* in, int64_t n, int64_t c, int64_t h, int64_t w, int64_t b, bool crd, T* out) {
  const int64_t co = c / (b * b);
  if (crd)
    transpose(in, Dims{n, co, b, b, h, w}, {0, 1, 4, 2, 5, 3}, out);
  else
    transpose(in, Dims{n, b, b, co, h, w}, {0, 3, 4, 1, 5, 2}, out);
}

// in [n, c, h, w] -> out [n, c*b*b, h/b, w/b], depth ordered (by, bx, c).
template <typename T>
void space_to_depth(const T* in, int64_t n, int64_t c, int64_t h, int64_t w, int64_t b, T* out) {
  transpose(in, Dims{n, c, h / b, b, w / b, b}, {0, 3, 5, 1, 2, 4}, out);
}

}  // namespace ingot::ref
