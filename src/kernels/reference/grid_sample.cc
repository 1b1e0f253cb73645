#include "kernels/reference/grid_sample.h"

#include <algorithm>
#include <cmath>

namespace ingot::ref {
namespace {

// Reflects x by the nearer border until it lies in [lo, hi] (the reference's _gs_reflect).
double reflect(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const int64_t k = static_cast<int64_t>(dx / range);
    const double r = dx - static_cast<double>(k) * range;
    return k % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const int64_t k = static_cast<int64_t>(dx / range);
    const double r = dx - static_cast<double>(k) * range;
    return k % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

double cubic_weight(double x) {
  const double a = -0.75;
  x = std::abs(x);
  if (x <= 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0;
}

}  // namespace

void grid_sample_taps(float g, int64_t len, GridSampleMode mode, GridSamplePadding padding,
                      bool align_corners, std::vector<GridTap>& taps) {
  taps.clear();
  const float flen = static_cast<float>(len);
  // Denormalized in float32, as the reference does.
  float x = align_corners ? (g + 1) / 2.0f * (flen - 1) : ((g + 1) * flen - 1) / 2.0f;
  const double lo = align_corners ? 0.0 : -0.5;
  const double hi = align_corners ? static_cast<double>(len) - 1 : static_cast<double>(len) - 0.5;
  if (mode == GridSampleMode::kNearest) x = std::nearbyint(x);
  double xv = x;
  if (xv < lo || xv > hi) {
    if (padding == GridSamplePadding::kBorder)
      xv = std::clamp(xv, 0.0, static_cast<double>(len) - 1);
    else if (padding == GridSamplePadding::kReflection)
      xv = static_cast<float>(reflect(xv, lo, hi));
  }
  auto pixel = [&](int64_t i) -> int64_t {
    switch (padding) {
      case GridSamplePadding::kZeros:
        return i >= 0 && i < len ? i : -1;
      case GridSamplePadding::kBorder:
        return std::clamp<int64_t>(i, 0, len - 1);
      case GridSamplePadding::kReflection:
      default:
        return std::clamp<int64_t>(static_cast<int64_t>(reflect(static_cast<double>(i), lo, hi)), 0, len - 1);
    }
  };
  if (mode == GridSampleMode::kNearest) {
    taps.push_back({pixel(static_cast<int64_t>(xv)), 1.0});
    return;
  }
  const double f = std::floor(xv);
  const int64_t x0 = static_cast<int64_t>(f);
  const double t = xv - f;
  if (mode == GridSampleMode::kLinear) {
    taps.push_back({pixel(x0), 1 - t});
    taps.push_back({pixel(x0 + 1), t});
    return;
  }
  for (int64_t k = -1; k <= 2; ++k) taps.push_back({pixel(x0 + k), cubic_weight(t - static_cast<double>(k))});
}

}  // namespace ingot::ref
