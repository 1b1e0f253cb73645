// Transposed convolution as a direct scatter: per output channel, input channel and kernel tap, each
// input row adds into a (strided) output row, so no column buffer is needed.
#include "kernels/reference/conv_transpose.h"

#include <algorithm>

namespace ingot::ref {
namespace {

int64_t product(const std::vector<int64_t>& v) {
  int64_t p = 1;
  for (int64_t x : v) p *= x;
  return p;
}

}  // namespace

template <typename T>
void conv_transpose(const T* x, const T* w, const T* bias, T* y, const ConvTransposeShape& s) {
  const size_t nd = s.in_spatial.size();
  const size_t last = nd - 1;
  const int64_t in_plane = product(s.in_spatial), out_plane = product(s.out_spatial);
  const int64_t taps = product(s.kernel);
  const int64_t cg = s.in_channels / s.group, mg = s.out_channels / s.group;
  const int64_t in_w = s.in_spatial[last], out_w = s.out_spatial[last], stride_w = s.strides[last];
  const int64_t rows = in_plane / std::max<int64_t>(in_w, 1);  // input rows along the last dim

  // off[kk * nd + d]: output offset of tap kk along dim d relative to input_index * stride.
  std::vector<int64_t> off(taps * nd);
  for (int64_t kk = 0; kk < taps; ++kk) {
    int64_t rem = kk;
    for (size_t d = nd; d-- > 0;) {
      off[kk * nd + d] = (rem % s.kernel[d]) * s.dilations[d] - s.pads_begin[d];
      rem /= s.kernel[d];
    }
  }
  std::vector<int64_t> i(nd, 0);
  for (int64_t n = 0; n < s.batch; ++n) {
    for (int64_t m = 0; m < s.out_channels; ++m) {
      const int64_t g = m / mg;
      T* yp = y + (n * s.out_channels + m) * out_plane;
      std::fill(yp, yp + out_plane, bias ? bias[m] : T(0));
      for (int64_t c = g * cg; c < (g + 1) * cg; ++c) {
        const T* xp = x + (n * s.in_channels + c) * in_plane;
        const T* wp = w + (c * mg + (m - g * mg)) * taps;
        for (int64_t kk = 0; kk < taps; ++kk) {
          const T a = wp[kk];
          const int64_t* o = &off[kk * nd];
          // Input columns [lo, hi) whose tap lands inside the output row: 0 <= iw * stride_w + o < out_w.
          const int64_t lo = o[last] >= 0 ? 0 : std::min(in_w, (-o[last] + stride_w - 1) / stride_w);
          const int64_t hi =
              out_w - 1 - o[last] < 0 ? 0 : std::min(in_w, (out_w - 1 - o[last]) / stride_w + 1);
          if (hi <= lo) continue;
          std::fill(i.begin(), i.end(), 0);
          for (int64_t r = 0; r < rows; ++r) {
            bool inside = true;
            int64_t base = 0;
            for (size_t d = 0; d < last; ++d) {
              const int64_t od = i[d] * s.strides[d] + o[d];
              inside = inside && od >= 0 && od < s.out_spatial[d];
              base = base * s.out_spatial[d] + od;
            }
            if (inside) {
              T* yr = yp + base * out_w;
              const T* xr = xp + r * in_w;
              for (int64_t iw = lo; iw < hi; ++iw) yr[iw * stride_w + o[last]] += a * xr[iw];
            }
            for (size_t d = last; d-- > 0 && ++i[d] == s.in_spatial[d];) i[d] = 0;
          }
        }
      }
    }
  }
}

template void conv_transpose<float>(const float*, const float*, const float*, float*,
                                    const ConvTransposeShape&);
template void conv_transpose<double>(const double*, const double*, const double*, double*,
                                     const ConvTransposeShape&);

}  // namespace ingot::ref
