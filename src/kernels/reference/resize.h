// Plain Resize: separable interpolation (nearest / linear / cubic, with antialias) over any set of axes.
// Every axis gets a table of (input index, weight) taps per output position, computed exactly as the
// ONNX reference does (coordinate transform, edge-padded neighbours, exclude_outside); the taps are then
// applied one axis at a time in double, which equals the reference's N-D evaluation because its
// weights are products of per-axis weights.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"
#include "ingot/tensor.h"

namespace ingot::ref {

enum class ResizeMode { kNearest, kLinear, kCubic };
enum class ResizeCoordMode {
  kHalfPixel,
  kHalfPixelSymmetric,
  kPytorchHalfPixel,
  kAlignCorners,
  kAsymmetric,
  kTfCropAndResize,
  kTfHalfPixelForNn
};
enum class ResizeNearestMode { kRoundPreferFloor, kRoundPreferCeil, kFloor, kCeil };

struct ResizeOptions {
  ResizeMode mode = ResizeMode::kNearest;
  ResizeCoordMode coord = ResizeCoordMode::kHalfPixel;
  ResizeNearestMode nearest = ResizeNearestMode::kRoundPreferFloor;
  double cubic_a = -0.75;
  bool exclude_outside = false;
  bool antialias = false;
  double extrapolation_value = 0.0;
};

// Taps of one axis: output j reads input index[j * taps + k] with weight[j * taps + k]; `extrapolate[j]`
// marks outputs that tf_crop_and_resize maps outside the input (they take the extrapolation value).
struct ResizeAxisTaps {
  int64_t in = 0, out = 0, taps = 0;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<uint8_t> extrapolate;
  bool identity = false;  // output j is input j: the axis needs no pass
  bool any_extrapolate = false;
};

// `scale` is the axis' scale factor (output / input, as the reference uses it), `roi_start`/`roi_end`
// its region of interest (tf_crop_and_resize only).
ResizeAxisTaps resize_axis_taps(int64_t in, int64_t out, double scale, double roi_start, double roi_end,
                                const ResizeOptions& opt);
// The identity mapping (axes that Resize leaves alone).
ResizeAxisTaps resize_identity_taps(int64_t n);

namespace detail {

// Applies one axis' taps to x viewed as [outer, taps.in, inner], giving [outer, taps.out, inner].
template <typename V>
void resize_apply_axis(const V* x, int64_t outer, int64_t inner, const ResizeAxisTaps& t, V* y) {
  for (int64_t o = 0; o < outer; ++o) {
    const V* src = x + o * t.in * inner;
    V* dst = y + o * t.out * inner;
    for (int64_t j = 0; j < t.out; ++j) {
      V* d = dst + j * inner;
      if constexpr (std::is_same_v<V, double>) {
        for (int64_t i = 0; i < inner; ++i) d[i] = 0;
        for (int64_t k = 0; k < t.taps; ++k) {
          const double w = t.weight[j * t.taps + k];
          if (w == 0) continue;
          const V* s = src + t.index[j * t.taps + k] * inner;
          for (int64_t i = 0; i < inner; ++i) d[i] += w * s[i];
        }
      } else {
        // Nearest: the single tap with a non-zero weight is a copy (exact for every type).
        int64_t pick = t.index[j * t.taps];
        for (int64_t k = 0; k < t.taps; ++k)
          if (t.weight[j * t.taps + k] != 0) pick = t.index[j * t.taps + k];
        const V* s = src + pick * inner;
        for (int64_t i = 0; i < inner; ++i) d[i] = s[i];
      }
      if (t.extrapolate[j]) {
        for (int64_t i = 0; i < inner; ++i) d[i] = V(0);  // overwritten after the last pass
      }
    }
  }
}

// Rounds half to even and clamps into T's range (the reference's saturate_cast).
template <typename T>
T saturate_from_double(double v) {
  if constexpr (std::is_integral_v<T>) {
    if (std::isnan(v)) return T(0);
    v = std::nearbyint(v);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

}  // namespace detail

// out (dims taps[d].out) = Resize of in (dims taps[d].in). Nearest copies elements; linear / cubic
// accumulate in double and round into T.
template <typename T>
void resize(const T* in, const std::vector<ResizeAxisTaps>& taps, bool nearest, double extrapolation_value,
            T* out) {
  const size_t r = taps.size();
  Dims cur(r);
  int64_t out_numel = 1;
  for (size_t d = 0; d < r; ++d) {
    cur[d] = taps[d].in;
    out_numel *= taps[d].out;
  }
  if (out_numel == 0) return;
  auto run = [&](auto* first, auto convert_in, auto convert_out) {
    using V = std::remove_pointer_t<decltype(first)>;
    int64_t n = 1;
    for (int64_t v : cur) n *= v;
    std::vector<V> a(n), b;
    for (int64_t i = 0; i < n; ++i) a[i] = convert_in(in[i]);
    for (size_t d = 0; d < r; ++d) {
      if (taps[d].identity) continue;
      int64_t outer = 1, inner = 1;
      for (size_t e = 0; e < d; ++e) outer *= cur[e];
      for (size_t e = d + 1; e < r; ++e) inner *= cur[e];
      b.assign(outer * taps[d].out * inner, V(0));
      detail::resize_apply_axis(a.data(), outer, inner, taps[d], b.data());
      cur[d] = taps[d].out;
      a.swap(b);
    }
    for (int64_t i = 0; i < out_numel; ++i) out[i] = convert_out(a[i]);
    // Points mapped outside the input by any axis take the extrapolation value.
    for (size_t d = 0; d < r; ++d) {
      if (!taps[d].any_extrapolate) continue;
      int64_t outer = 1, inner = 1;
      for (size_t e = 0; e < d; ++e) outer *= cur[e];
      for (size_t e = d + 1; e < r; ++e) inner *= cur[e];
      const T fill = detail::saturate_from_double<T>(extrapolation_value);
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t j = 0; j < cur[d]; ++j)
          if (taps[d].extrapolate[j])
            for (int64_t i = 0; i < inner; ++i) out[(o * cur[d] + j) * inner + i] = fill;
    }
  };
  if (nearest) {
    run(
        static_cast<T*>(nullptr), [](T v) { return v; }, [](T v) { return v; });
  } else {
    run(
        static_cast<double*>(nullptr), [](T v) { return static_cast<double>(v); },
        [](double v) { return detail::saturate_from_double<T>(v); });
  }
}

}  // namespace ingot::ref
