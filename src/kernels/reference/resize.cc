#include "kernels/reference/resize.h"

#include <algorithm>

namespace ingot::ref {
namespace {

// Input coordinate of output position x (the reference's _interpolate_1d_with_x). `out_size` is the
// integer output length; `out_width` = scale * in, the real-valued one the transforms use.
double original_coordinate(double x, int64_t in, int64_t out_size, double scale, double roi_start,
                           double roi_end, ResizeCoordMode mode) {
  const double out_width = scale * static_cast<double>(in);
  switch (mode) {
    case ResizeCoordMode::kAlignCorners:
      return out_width == 1 ? 0.0 : x * static_cast<double>(in - 1) / (out_width - 1);
    case ResizeCoordMode::kAsymmetric:
      return x / scale;
    case ResizeCoordMode::kTfCropAndResize: {
      double xo = out_width == 1 ? (roi_end - roi_start) * static_cast<double>(in - 1) / 2
                                 : x * (roi_end - roi_start) * static_cast<double>(in - 1) / (out_width - 1);
      return xo + roi_start * static_cast<double>(in - 1);
    }
    case ResizeCoordMode::kTfHalfPixelForNn:  // opsets 11-12
      return (x + 0.5) / scale;
    case ResizeCoordMode::kPytorchHalfPixel:
      return out_width == 1 ? -0.5 : (x + 0.5) / scale - 0.5;
    case ResizeCoordMode::kHalfPixelSymmetric: {
      const double adjustment = static_cast<double>(out_size) / out_width;
      const double center = static_cast<double>(in) / 2;
      return center * (1 - adjustment) + (x + 0.5) / scale - 0.5;
    }
    case ResizeCoordMode::kHalfPixel:
    default:
      return (x + 0.5) / scale - 0.5;
  }
}

double cubic_kernel(double x, double a) {
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

// Weights of the taps at offsets (start + k - ratio) from the sample point; `ratio` is in (0, 1].
std::vector<double> tap_weights(double ratio, double scale, const ResizeOptions& opt) {
  switch (opt.mode) {
    case ResizeMode::kNearest: {
      if (ratio == 1) return {0, 1};
      bool up = false;
      switch (opt.nearest) {
        case ResizeNearestMode::kRoundPreferFloor:
          up = ratio > 0.5;
          break;
        case ResizeNearestMode::kRoundPreferCeil:
          up = ratio >= 0.5;
          break;
        case ResizeNearestMode::kFloor:
          up = false;
          break;
        case ResizeNearestMode::kCeil:
          up = true;
          break;
      }
      return {up ? 0.0 : 1.0, up ? 1.0 : 0.0};
    }
    case ResizeMode::kLinear: {
      if (!opt.antialias) return {1 - ratio, ratio};
      // Antialias widens the triangle filter by 1/scale when downsampling.
      const double s = std::min(scale, 1.0);
      const int64_t start = static_cast<int64_t>(std::floor(-1 / s) + 1);
      const int64_t n = 2 - 2 * start;
      std::vector<double> w(n);
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        w[k] = std::clamp(1 - std::abs((static_cast<double>(start + k) - ratio) * s), 0.0, 1.0);
        sum += w[k];
      }
      for (double& v : w) v /= sum;
      return w;
    }
    case ResizeMode::kCubic:
    default: {
      const double a = opt.cubic_a;
      if (!opt.antialias) {
        return {cubic_kernel(ratio + 1, a), cubic_kernel(ratio, a), cubic_kernel(1 - ratio, a),
                cubic_kernel(2 - ratio, a)};
      }
      const double s = std::min(scale, 1.0);
      const int64_t start = static_cast<int64_t>(std::floor(-2 / s) + 1);
      const int64_t n = 2 - 2 * start;
      std::vector<double> w(n);
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        w[k] = cubic_kernel(s * (static_cast<double>(start + k) - ratio), a);
        sum += w[k];
      }
      for (double& v : w) v /= sum;
      return w;
    }
  }
}

}  // namespace

ResizeAxisTaps resize_identity_taps(int64_t n) {
  ResizeAxisTaps t;
  t.in = t.out = n;
  t.taps = 1;
  t.index.resize(n);
  for (int64_t j = 0; j < n; ++j) t.index[j] = j;
  t.weight.assign(n, 1.0);
  t.extrapolate.assign(n, 0);
  t.identity = true;
  return t;
}

ResizeAxisTaps resize_axis_taps(int64_t in, int64_t out, double scale, double roi_start, double roi_end,
                                const ResizeOptions& opt) {
  ResizeAxisTaps t;
  t.in = in;
  t.out = out;
  t.extrapolate.assign(out, 0);
  if (in == 0 || out == 0) return t;
  for (int64_t j = 0; j < out; ++j) {
    const double x =
        original_coordinate(static_cast<double>(j), in, out, scale, roi_start, roi_end, opt.coord);
    if (opt.coord == ResizeCoordMode::kTfCropAndResize && (x < 0 || x > static_cast<double>(in - 1))) {
      t.extrapolate[j] = 1;
      t.any_extrapolate = true;
    }
    // The reference prefers the left neighbour: an integral x is the right end of its window (ratio 1).
    const double fl = std::floor(x);
    const bool integral = fl == x;
    const double ratio = integral ? 1.0 : x - fl;
    std::vector<double> w = tap_weights(ratio, scale, opt);
    const int64_t n = static_cast<int64_t>(w.size());
    if (j == 0) {
      t.taps = n;
      t.index.resize(out * n);
      t.weight.resize(out * n);
    }
    // The window of n neighbours, kept inside the input padded by n/2 edge copies on each side.
    const double left = integral ? x - 1 : fl;
    const double lo = static_cast<double>(-(n / 2)), hi = static_cast<double>(in + n / 2 - n);
    const int64_t s = static_cast<int64_t>(std::clamp(left - static_cast<double>(n / 2) + 1, lo, hi));
    if (opt.exclude_outside) {
      double sum = 0;
      for (int64_t k = 0; k < n; ++k) {
        if (s + k < 0 || s + k >= in) w[k] = 0;
        sum += w[k];
      }
      if (sum != 0)
        for (double& v : w) v /= sum;
    }
    for (int64_t k = 0; k < n; ++k) {
      t.index[j * n + k] = std::clamp<int64_t>(s + k, 0, in - 1);
      t.weight[j * n + k] = w[k];
    }
  }
  t.identity = in == out && !t.any_extrapolate;
  for (int64_t j = 0; j < out && t.identity; ++j) {
    for (int64_t k = 0; k < t.taps; ++k) {
      const double w = t.weight[j * t.taps + k];
      const int64_t i = t.index[j * t.taps + k];
      if (!(w == 0 || (w == 1 && i == j))) t.identity = false;
    }
  }
  return t;
}

}  // namespace ingot::ref
