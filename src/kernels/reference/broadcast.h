// Plain loops for numpy-broadcast elementwise kernels: pure functions over pointers and dims.
// Callers pass operand dims that broadcast to `out` (validated by the op); nothing here re-checks.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "ingot/tensor.h"

namespace ingot::ref {

// The iteration space of an N-operand broadcast. Out dims of size 1 are dropped and neighbouring dims
// are merged wherever every operand steps through them as one run, so [8,128,768] + [768] walks rows
// of 768 and same-shape operands walk a single row: the inner loop stays long whatever the rank.
template <size_t N>
struct BroadcastLoop {
  Dims dims;                                    // merged out dims, outermost first; empty for one element
  std::array<std::vector<int64_t>, N> strides;  // per operand and merged dim, in elements (0 = broadcast)
  int64_t numel = 1;
};

template <size_t N>
BroadcastLoop<N> make_broadcast_loop(const std::array<const Dims*, N>& in, const Dims& out) {
  const size_t r = out.size();
  BroadcastLoop<N> loop;
  for (int64_t d : out) loop.numel *= d;
  std::array<std::vector<int64_t>, N> s;
  for (size_t k = 0; k < N; ++k) {
    const Dims& dk = *in[k];
    s[k].assign(r, 0);
    int64_t acc = 1;
    for (size_t i = dk.size(); i-- > 0;) {
      s[k][r - dk.size() + i] = dk[i] == 1 ? 0 : acc;
      acc *= dk[i];
    }
  }
  // Built innermost first, reversed at the end.
  for (size_t i = r; i-- > 0;) {
    if (out[i] == 1) continue;
    if (!loop.dims.empty()) {
      bool contiguous = true;
      for (size_t k = 0; k < N; ++k) contiguous &= s[k][i] == loop.strides[k].back() * loop.dims.back();
      if (contiguous) {
        loop.dims.back() *= out[i];
        continue;
      }
    }
    loop.dims.push_back(out[i]);
    for (size_t k = 0; k < N; ++k) loop.strides[k].push_back(s[k][i]);
  }
  std::reverse(loop.dims.begin(), loop.dims.end());
  for (auto& st : loop.strides) std::reverse(st.begin(), st.end());
  return loop;
}

// Calls row(o, off, len, step) once per innermost run: output elements [o, o + len) read operand k at
// off[k] + j * step[k] for j < len. After merging, step[k] is 0 (broadcast) or 1 (contiguous): the innermost
// merged dim of an operand is either broadcast or its own innermost dims. off and step are passed by value,
// so stores through a bool/char output pointer cannot alias them in the caller's loop.
template <size_t N, typename Row>
void for_each_broadcast_row(const std::array<const Dims*, N>& in, const Dims& out, Row&& row) {
  const BroadcastLoop<N> loop = make_broadcast_loop<N>(in, out);
  if (loop.numel == 0) return;
  std::array<int64_t, N> off{}, step{};
  const size_t r = loop.dims.size();
  if (r == 0) {
    row(int64_t{0}, off, int64_t{1}, step);
    return;
  }
  const int64_t inner = loop.dims[r - 1];
  for (size_t k = 0; k < N; ++k) step[k] = loop.strides[k][r - 1];
  std::vector<int64_t> idx(r, 0);
  for (int64_t o = 0; o < loop.numel; o += inner) {
    row(o, off, inner, step);
    // Advance the outer index (all merged dims but the last).
    for (size_t d = r - 1; d-- > 0;) {
      ++idx[d];
      for (size_t k = 0; k < N; ++k) off[k] += loop.strides[k][d];
      if (idx[d] < loop.dims[d]) break;
      for (size_t k = 0; k < N; ++k) off[k] -= loop.strides[k][d] * loop.dims[d];
      idx[d] = 0;
    }
  }
}

// Walks every index of `out_dims` and calls f(out_index, offset_a, offset_b) where offsets follow
// broadcast strides of a and b (0 along broadcast dims).
template <typename F>
void for_each_broadcast2(const Dims& a, const Dims& b, const Dims& out, F&& f) {
  for_each_broadcast_row<2>({&a, &b}, out,
                            [&](int64_t o, std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                              for (int64_t j = 0; j < n; ++j)
                                f(o + j, off[0] + j * st[0], off[1] + j * st[1]);
                            });
}

// The same over three operands (Where's condition, X and Y).
template <typename F>
void for_each_broadcast3(const Dims& a, const Dims& b, const Dims& c, const Dims& out, F&& f) {
  for_each_broadcast_row<3>({&a, &b, &c}, out,
                            [&](int64_t o, std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
                              for (int64_t j = 0; j < n; ++j)
                                f(o + j, off[0] + j * st[0], off[1] + j * st[1], off[2] + j * st[2]);
                            });
}

// One inner run of a broadcast kernel with each operand's step fixed at compile time (true: contiguous,
// false: one broadcast element), so the loop vectorises.
template <bool kA, bool kB, typename TA, typename TB, typename TO, typename F>
inline void binary_run(const TA* a, const TB* b, TO* out, int64_t n, F& f) {
  for (int64_t j = 0; j < n; ++j) out[j] = f(a[kA ? j : 0], b[kB ? j : 0]);
}
template <bool kA, bool kB, bool kC, typename TA, typename TB, typename TC, typename TO, typename F>
inline void ternary_run(const TA* a, const TB* b, const TC* c, TO* out, int64_t n, F& f) {
  for (int64_t j = 0; j < n; ++j) out[j] = f(a[kA ? j : 0], b[kB ? j : 0], c[kC ? j : 0]);
}

// out[i] = f(a[ia], b[ib]) with broadcasting. `out` may alias `a` when da == dout (running accumulations).
template <typename TA, typename TB, typename TO, typename F>
void broadcast_binary(const TA* a, const Dims& da, const TB* b, const Dims& db, TO* out, const Dims& dout,
                      F&& f) {
  for_each_broadcast_row<2>({&da, &db}, dout,
                            [&](int64_t o, std::array<int64_t, 2> off, int64_t n, std::array<int64_t, 2> st) {
                              const TA* pa = a + off[0];
                              const TB* pb = b + off[1];
                              TO* po = out + o;
                              switch ((st[0] == 1) << 1 | (st[1] == 1)) {
                                case 3:
                                  binary_run<true, true>(pa, pb, po, n, f);
                                  break;
                                case 2:
                                  binary_run<true, false>(pa, pb, po, n, f);
                                  break;
                                case 1:
                                  binary_run<false, true>(pa, pb, po, n, f);
                                  break;
                                default:
                                  binary_run<false, false>(pa, pb, po, n, f);
                                  break;
                              }
                            });
}

// out[i] = f(a[ia], b[ib], c[ic]) with broadcasting.
template <typename TA, typename TB, typename TC, typename TO, typename F>
void broadcast_ternary(const TA* a, const Dims& da, const TB* b, const Dims& db, const TC* c, const Dims& dc,
                       TO* out, const Dims& dout, F&& f) {
  for_each_broadcast_row<3>({&da, &db, &dc}, dout,
                            [&](int64_t o, std::array<int64_t, 3> off, int64_t n, std::array<int64_t, 3> st) {
                              const TA* pa = a + off[0];
                              const TB* pb = b + off[1];
                              const TC* pc = c + off[2];
                              TO* po = out + o;
                              switch ((st[0] == 1) << 2 | (st[1] == 1) << 1 | (st[2] == 1)) {
                                case 7:
                                  ternary_run<true, true, true>(pa, pb, pc, po, n, f);
                                  break;
                                case 6:
                                  ternary_run<true, true, false>(pa, pb, pc, po, n, f);
                                  break;
                                case 5:
                                  ternary_run<true, false, true>(pa, pb, pc, po, n, f);
                                  break;
                                case 4:
                                  ternary_run<true, false, false>(pa, pb, pc, po, n, f);
                                  break;
                                case 3:
                                  ternary_run<false, true, true>(pa, pb, pc, po, n, f);
                                  break;
                                case 2:
                                  ternary_run<false, true, false>(pa, pb, pc, po, n, f);
                                  break;
                                case 1:
                                  ternary_run<false, false, true>(pa, pb, pc, po, n, f);
                                  break;
                                default:
                                  ternary_run<false, false, false>(pa, pb, pc, po, n, f);
                                  break;
                              }
                            });
}

}  // namespace ingot::ref
