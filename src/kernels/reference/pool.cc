#include "kernels/reference/pool.h"

#include <algorithm>
#include <cmath>

namespace ingot::ref {
namespace {

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// Walks the output positions of one plane in row-major order and calls
// visit(out_index, taps, padded_count): `taps` holds the in-plane offsets of the window's taps that
// lie inside the input, `padded_count` the number of taps inside the input or its explicit pads.
template <typename F>
void for_each_window(const PoolShape& s, F&& visit) {
  const size_t nd = s.in_spatial.size();
  const int64_t out_plane = product(s.out_spatial);
  std::vector<int64_t> o(nd, 0), start(nd), lo(nd), hi(nd), t(nd);
  std::vector<int64_t> taps;
  taps.reserve(static_cast<size_t>(product(s.kernel)));
  for (int64_t j = 0; j < out_plane; ++j) {
    int64_t padded = 1;
    bool empty = false;
    for (size_t d = 0; d < nd; ++d) {
      const int64_t in = s.in_spatial[d], k = s.kernel[d], dil = s.dilations[d];
      start[d] = o[d] * s.strides[d] - s.pads_begin[d];
      // Taps t with 0 <= start + t * dil < in, and those with start + t * dil < in + pads_end.
      lo[d] = start[d] >= 0 ? 0 : (-start[d] + dil - 1) / dil;
      hi[d] = start[d] > in - 1 ? 0 : std::min(k, (in - 1 - start[d]) / dil + 1);
      if (hi[d] <= lo[d]) empty = true;
      const int64_t padded_end = in + s.pads_end[d] - 1 - start[d];
      padded *= padded_end < 0 ? 0 : std::min(k, padded_end / dil + 1);
    }
    taps.clear();
    if (!empty) {
      for (size_t d = 0; d < nd; ++d) t[d] = lo[d];
      while (true) {
        int64_t off = 0;
        for (size_t d = 0; d < nd; ++d) off = off * s.in_spatial[d] + start[d] + t[d] * s.dilations[d];
        taps.push_back(off);
        size_t d = nd;
        while (d-- > 0 && ++t[d] == hi[d]) t[d] = lo[d];
        if (d == static_cast<size_t>(-1)) break;
      }
    }
    visit(j, taps, padded);
    for (size_t d = nd; d-- > 0 && ++o[d] == s.out_spatial[d];) o[d] = 0;
  }
}

// Row-major in-plane offset -> column-major one (ONNX MaxPool storage_order = 1).
int64_t column_major(int64_t off, const std::vector<int64_t>& dims) {
  int64_t col = 0, scale = 1;
  std::vector<int64_t> idx(dims.size());
  for (size_t d = dims.size(); d-- > 0;) {
    idx[d] = off % dims[d];
    off /= dims[d];
  }
  for (size_t d = 0; d < dims.size(); ++d) {
    col += idx[d] * scale;
    scale *= dims[d];
  }
  return col;
}

}  // namespace

template <typename T>
void max_pool(const T* x, T* y, int64_t* indices, const PoolShape& s, bool column_major_indices) {
  const int64_t in_plane = product(s.in_spatial), out_plane = product(s.out_spatial);
  for (int64_t p = 0; p < s.batch * s.channels; ++p) {
    const T* xp = x + p * in_plane;
    for_each_window(s, [&](int64_t j, const std::vector<int64_t>& taps, int64_t) {
      T best = T(0);
      int64_t arg = -1;
      for (int64_t off : taps) {
        if (arg < 0 || xp[off] > best) {
          best = xp[off];
          arg = off;
        }
      }
      y[p * out_plane + j] = best;
      if (indices) {
        if (arg >= 0 && column_major_indices) arg = column_major(arg, s.in_spatial);
        indices[p * out_plane + j] = arg < 0 ? -1 : p * in_plane + arg;
      }
    });
  }
}

template <typename T>
void avg_pool(const T* x, T* y, const PoolShape& s, bool count_include_pad) {
  const int64_t in_plane = product(s.in_spatial), out_plane = product(s.out_spatial);
  for (int64_t p = 0; p < s.batch * s.channels; ++p) {
    const T* xp = x + p * in_plane;
    for_each_window(s, [&](int64_t j, const std::vector<int64_t>& taps, int64_t padded) {
      T sum = 0;
      for (int64_t off : taps) sum += xp[off];
      const int64_t count = count_include_pad ? padded : static_cast<int64_t>(taps.size());
      y[p * out_plane + j] = count > 0 ? sum / static_cast<T>(count) : T(0);
    });
  }
}

template <typename T>
void lp_pool(const T* x, T* y, const PoolShape& s, double p) {
  const int64_t in_plane = product(s.in_spatial), out_plane = product(s.out_spatial);
  for (int64_t c = 0; c < s.batch * s.channels; ++c) {
    const T* xp = x + c * in_plane;
    for_each_window(s, [&](int64_t j, const std::vector<int64_t>& taps, int64_t) {
      T sum = 0;
      for (int64_t off : taps) sum += static_cast<T>(std::pow(std::abs(xp[off]), p));
      y[c * out_plane + j] = static_cast<T>(std::pow(sum, 1.0 / p));
    });
  }
}

template <typename T>
void global_avg_pool(const T* x, T* y, int64_t planes, int64_t plane_size) {
  for (int64_t p = 0; p < planes; ++p) {
    T sum = 0;
    for (int64_t i = 0; i < plane_size; ++i) sum += x[p * plane_size + i];
    y[p] = plane_size > 0 ? sum / static_cast<T>(plane_size) : T(0);
  }
}

template <typename T>
void global_max_pool(const T* x, T* y, int64_t planes, int64_t plane_size) {
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * plane_size;
    y[p] = plane_size > 0 ? *std::max_element(xp, xp + plane_size) : T(0);
  }
}

template <typename T>
void global_lp_pool(const T* x, T* y, int64_t planes, int64_t plane_size, double p) {
  for (int64_t c = 0; c < planes; ++c) {
    T sum = 0;
    for (int64_t i = 0; i < plane_size; ++i)
      sum += static_cast<T>(std::pow(std::abs(x[c * plane_size + i]), p));
    y[c] = static_cast<T>(std::pow(sum, 1.0 / p));
  }
}

#define INGOT_POOL_FLOAT(T)                                         \
  template void avg_pool<T>(const T*, T*, const PoolShape&, bool);  \
  template void lp_pool<T>(const T*, T*, const PoolShape&, double); \
  template void global_avg_pool<T>(const T*, T*, int64_t, int64_t); \
  template void global_max_pool<T>(const T*, T*, int64_t, int64_t); \
  template void global_lp_pool<T>(const T*, T*, int64_t, int64_t, double);
INGOT_POOL_FLOAT(float)
INGOT_POOL_FLOAT(double)
#undef INGOT_POOL_FLOAT

template void max_pool<float>(const float*, float*, int64_t*, const PoolShape&, bool);
template void max_pool<double>(const double*, double*, int64_t*, const PoolShape&, bool);
template void max_pool<int8_t>(const int8_t*, int8_t*, int64_t*, const PoolShape&, bool);
template void max_pool<uint8_t>(const uint8_t*, uint8_t*, int64_t*, const PoolShape&, bool);

}  // namespace ingot::ref
