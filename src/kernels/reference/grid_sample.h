// Plain GridSample over any number of spatial dims (4-D and 5-D inputs and beyond), as the ONNX reference.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/tensor.h"

namespace ingot::ref {

enum class GridSampleMode { kNearest, kLinear, kCubic };
enum class GridSamplePadding { kZeros, kBorder, kReflection };

// Taps of one output point along one spatial dim: input index (-1 reads zero) and weight.
struct GridTap {
  int64_t index;
  double weight;
};

// Taps along a spatial dim of length `len` for the normalized coordinate `g` (in [-1, 1] inside).
void grid_sample_taps(float g, int64_t len, GridSampleMode mode, GridSamplePadding padding,
                      bool align_corners, std::vector<GridTap>& taps);

// x [N, C, S...] sampled at grid [N, O..., D] (D = number of spatial dims, innermost coordinate first:
// x, y, z) → y [N, C, O...].
template <typename T>
void grid_sample(const T* x, const Dims& x_dims, const float* grid, const Dims& grid_dims,
                 GridSampleMode mode, GridSamplePadding padding, bool align_corners, T* y) {
  const int64_t n_batch = x_dims[0], channels = x_dims[1];
  const size_t nd = x_dims.size() - 2;
  int64_t spatial = 1, points = 1;
  for (size_t i = 0; i < nd; ++i) spatial *= x_dims[2 + i];
  for (size_t i = 1; i + 1 < grid_dims.size(); ++i) points *= grid_dims[i];
  std::vector<std::vector<GridTap>> taps(nd);
  std::vector<int64_t> stride(nd);
  {
    int64_t s = 1;
    for (size_t i = nd; i-- > 0;) {
      stride[i] = s;
      s *= x_dims[2 + i];
    }
  }
  // Flattened (offset, weight) pairs of one output point: product of the per-dim taps.
  std::vector<std::pair<int64_t, double>> combo, next;
  for (int64_t n = 0; n < n_batch; ++n) {
    for (int64_t p = 0; p < points; ++p) {
      const float* g = grid + (n * points + p) * static_cast<int64_t>(nd);
      // The grid's last axis lists coordinates innermost dim first.
      for (size_t i = 0; i < nd; ++i)
        grid_sample_taps(g[nd - 1 - i], x_dims[2 + i], mode, padding, align_corners, taps[i]);
      combo.assign(1, {0, 1.0});
      for (size_t i = 0; i < nd; ++i) {
        next.clear();
        for (const auto& [off, w] : combo)
          for (const GridTap& t : taps[i])
            next.push_back({off < 0 || t.index < 0 ? -1 : off + t.index * stride[i], w * t.weight});
        combo.swap(next);
      }
      for (int64_t c = 0; c < channels; ++c) {
        const T* src = x + (n * channels + c) * spatial;
        double acc = 0;
        for (const auto& [off, w] : combo)
          if (off >= 0) acc += w * static_cast<double>(src[off]);
        y[(n * channels + c) * points + p] = static_cast<T>(acc);
      }
    }
  }
}

}  // namespace ingot::ref
