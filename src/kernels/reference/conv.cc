// Convolution as im2col + GEMM, one tile of output positions at a time: the tile's input patches
// are unfolded into a small column buffer (bounded memory whatever the image size) and multiplied
// by the weights with the innermost loop running along contiguous output positions.
#include "kernels/reference/conv.h"

#include <algorithm>

namespace ingot::ref {
namespace {

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

// Unfolds the patches under output positions [j0, j0 + cols) of one image and channel group:
// col[(c * K + kk) * cols + (j - j0)] = x[c at the input position of tap kk for output j], 0 in the
// padding. tap_offsets[kk * nd + d] is tap kk's input offset along dim d relative to
// output_index * stride. Runs segment by segment along the last (contiguous) spatial dim.
template <typename T>
void im2col_tile(const T* x, int64_t channels, const ConvShape& s, const std::vector<int64_t>& tap_offsets,
                 int64_t j0, int64_t cols, T* col) {
  const size_t nd = s.in_spatial.size();
  const size_t last = nd - 1;
  const int64_t out_w = s.out_spatial[last], in_w = s.in_spatial[last], stride_w = s.strides[last];
  const int64_t in_plane = product(s.in_spatial);
  const int64_t taps = product(s.kernel);
  std::vector<int64_t> o(nd, 0);
  for (int64_t j = j0; j < j0 + cols;) {
    const int64_t ow0 = j % out_w;
    const int64_t len = std::min(out_w - ow0, j0 + cols - j);
    int64_t outer = j / out_w;
    for (size_t d = last; d-- > 0;) {
      o[d] = outer % s.out_spatial[d];
      outer /= s.out_spatial[d];
    }
    for (int64_t kk = 0; kk < taps; ++kk) {
      const int64_t* off = &tap_offsets[kk * nd];
      bool inside = true;
      int64_t base = 0;
      for (size_t d = 0; d < last; ++d) {
        const int64_t i = o[d] * s.strides[d] + off[d];
        inside = inside && i >= 0 && i < s.in_spatial[d];
        base = base * s.in_spatial[d] + i;
      }
      base = base * in_w + off[last];
      // Output columns [lo, hi) whose tap lands inside the row: 0 <= ow * stride_w + off < in_w.
      const int64_t ow_end = ow0 + len;
      int64_t lo = off[last] >= 0 ? 0 : (-off[last] + stride_w - 1) / stride_w;
      int64_t hi = in_w - 1 - off[last] < 0 ? 0 : (in_w - 1 - off[last]) / stride_w + 1;
      lo = std::clamp(lo, ow0, ow_end);
      hi = std::clamp(hi, lo, ow_end);
      for (int64_t c = 0; c < channels; ++c) {
        T* dst = col + (c * taps + kk) * cols + (j - j0) - ow0;
        if (!inside) {
          std::fill(dst + ow0, dst + ow_end, T(0));
          continue;
        }
        const T* src = x + c * in_plane + base;
        std::fill(dst + ow0, dst + lo, T(0));
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * stride_w];
        std::fill(dst + hi, dst + ow_end, T(0));
      }
    }
    j += len;
  }
}

// y[m * ldy + j] = bias[m] + sum_k w[m * kdim + k] * col[k * ldc + j] for m < rows, j < cols.
// Blocked over k so the slice of col being reused by every m stays in cache; four k at a time so
// each pass over the y row does four multiply-adds per load/store.
template <typename T>
void gemm_tile(const T* w, int64_t rows, int64_t kdim, const T* col, int64_t ldc, int64_t cols, const T* bias,
               T* y, int64_t ldy) {
  constexpr int64_t kBlock = 256;
  for (int64_t m = 0; m < rows; ++m) std::fill(y + m * ldy, y + m * ldy + cols, bias ? bias[m] : T(0));
  for (int64_t k0 = 0; k0 < kdim; k0 += kBlock) {
    const int64_t k1 = std::min(kdim, k0 + kBlock);
    for (int64_t m = 0; m < rows; ++m) {
      T* yr = y + m * ldy;
      const T* wr = w + m * kdim;
      int64_t k = k0;
      for (; k + 4 <= k1; k += 4) {
        const T a0 = wr[k], a1 = wr[k + 1], a2 = wr[k + 2], a3 = wr[k + 3];
        const T* c0 = col + k * ldc;
        const T* c1 = c0 + ldc;
        const T* c2 = c1 + ldc;
        const T* c3 = c2 + ldc;
        for (int64_t j = 0; j < cols; ++j) yr[j] += a0 * c0[j] + a1 * c1[j] + a2 * c2[j] + a3 * c3[j];
      }
      for (; k < k1; ++k) {
        const T a = wr[k];
        const T* c = col + k * ldc;
        for (int64_t j = 0; j < cols; ++j) yr[j] += a * c[j];
      }
    }
  }
}

}  // namespace

template <typename T>
void conv(const T* x, const T* w, const T* bias, T* y, const ConvShape& s) {
  const size_t nd = s.in_spatial.size();
  const int64_t in_plane = product(s.in_spatial);
  const int64_t out_plane = product(s.out_spatial);
  const int64_t taps = product(s.kernel);
  const int64_t cg = s.in_channels / s.group;
  const int64_t mg = s.out_channels / s.group;
  const int64_t kdim = cg * taps;
  if (out_plane == 0 || s.batch == 0 || s.out_channels == 0) return;

  std::vector<int64_t> tap_offsets(taps * nd);
  for (int64_t kk = 0; kk < taps; ++kk) {
    int64_t rem = kk;
    for (size_t d = nd; d-- > 0;) {
      tap_offsets[kk * nd + d] = (rem % s.kernel[d]) * s.dilations[d] - s.pads_begin[d];
      rem /= s.kernel[d];
    }
  }
  // A 1x1, unit-stride, unpadded convolution reads the input as the column matrix directly.
  bool pointwise = true;
  for (size_t d = 0; d < nd; ++d) {
    pointwise = pointwise && s.kernel[d] == 1 && s.strides[d] == 1 && s.pads_begin[d] == 0 &&
                s.in_spatial[d] == s.out_spatial[d];
  }
  // Column tiles of about 128K elements, but at least 64 positions wide to keep the inner loop long.
  const int64_t tile =
      std::min(out_plane, std::max<int64_t>(64, (int64_t{1} << 17) / std::max<int64_t>(kdim, 1)));
  std::vector<T> col(pointwise ? 0 : kdim * tile);

  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t g = 0; g < s.group; ++g) {
      const T* xg = x + (n * s.in_channels + g * cg) * in_plane;
      const T* wg = w + g * mg * kdim;
      const T* bg = bias ? bias + g * mg : nullptr;
      T* yg = y + (n * s.out_channels + g * mg) * out_plane;
      for (int64_t j0 = 0; j0 < out_plane; j0 += tile) {
        const int64_t cols = std::min(tile, out_plane - j0);
        if (pointwise) {
          gemm_tile(wg, mg, kdim, xg + j0, in_plane, cols, bg, yg + j0, out_plane);
        } else {
          im2col_tile(xg, cg, s, tap_offsets, j0, cols, col.data());
          gemm_tile(wg, mg, kdim, col.data(), cols, cols, bg, yg + j0, out_plane);
        }
      }
    }
  }
}

template void conv<float>(const float*, const float*, const float*, float*, const ConvShape&);
template void conv<double>(const double*, const double*, const double*, double*, const ConvShape&);
template void conv<int32_t>(const int32_t*, const int32_t*, const int32_t*, int32_t*, const ConvShape&);

}  // namespace ingot::ref
