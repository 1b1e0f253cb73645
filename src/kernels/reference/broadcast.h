// Plain loops for numpy-broadcast elementwise kernels: pure functions over pointers and dims.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"

namespace ingot::ref {

// Walks every index of `out_dims` and calls f(out_index, offset_a, offset_b) where offsets follow
// broadcast strides of a and b (0 along broadcast dims).
template <typename F>
void for_each_broadcast2(const Dims& a, const Dims& b, const Dims& out, F&& f) {
  const size_t r = out.size();
  std::vector<int64_t> sa(r, 0), sb(r, 0);
  {
    int64_t acc = 1;
    for (size_t i = a.size(); i-- > 0;) {
      sa[r - a.size() + i] = a[i] == 1 ? 0 : acc;
      acc *= a[i];
    }
    acc = 1;
    for (size_t i = b.size(); i-- > 0;) {
      sb[r - b.size() + i] = b[i] == 1 ? 0 : acc;
      acc *= b[i];
    }
  }
  int64_t n = 1;
  for (int64_t d : out) n *= d;
  if (n == 0) return;
  if (r == 0) {
    f(0, 0, 0);
    return;
  }
  std::vector<int64_t> idx(r, 0);
  int64_t oa = 0, ob = 0;
  const int64_t inner = out[r - 1], ia = sa[r - 1], ib = sb[r - 1];
  for (int64_t o = 0; o < n; o += inner) {
    for (int64_t k = 0; k < inner; ++k) f(o + k, oa + k * ia, ob + k * ib);
    // Advance the outer index (all dims but the last).
    for (size_t d = r - 1; d-- > 0;) {
      ++idx[d];
      oa += sa[d];
      ob += sb[d];
      if (idx[d] < out[d]) break;
      oa -= sa[d] * out[d];
      ob -= sb[d] * out[d];
      idx[d] = 0;
    }
  }
}

// out[i] = f(a[ia], b[ib]) with broadcasting.
template <typename TA, typename TB, typename TO, typename F>
void broadcast_binary(const TA* a, const Dims& da, const TB* b, const Dims& db, TO* out, const Dims& dout, F&& f) {
  for_each_broadcast2(da, db, dout, [&](int64_t o, int64_t ia, int64_t ib) { out[o] = f(a[ia], b[ib]); });
}

}  // namespace ingot::ref
