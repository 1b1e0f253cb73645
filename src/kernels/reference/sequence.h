// Slab copies behind the sequence and control-flow ops: a tensor viewed as [outer, len, inner] around
// one axis; Scan, Loop and SequenceMap stack per-iteration tensors along an axis, SplitToSequence cuts
// one into pieces and ConcatFromSequence glues pieces back together, all with this one loop.
#pragma once

#include <algorithm>
#include <cstdint>

namespace ingot::ref {

// Copies slabs [src_start, src_start + count) of src viewed as [outer, src_len, inner] into slabs
// [dst_start, dst_start + count) of dst viewed as [outer, dst_len, inner]. The caller checks the ranges.
template <typename T>
void copy_slabs(const T* src, int64_t outer, int64_t src_len, int64_t src_start, T* dst, int64_t dst_len,
                int64_t dst_start, int64_t count, int64_t inner) {
  const int64_t run = count * inner;
  for (int64_t o = 0; o < outer; ++o) {
    const T* s = src + (o * src_len + src_start) * inner;
    T* d = dst + (o * dst_len + dst_start) * inner;
    std::copy(s, s + run, d);
  }
}

}  // namespace ingot::ref
