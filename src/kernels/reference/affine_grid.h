// AffineGrid: the sampling grid of an affine transform (as torch.nn.functional.affine_grid), the input
// of GridSample. Pure functions over pointers and sizes.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::ref {

// Normalised coordinate of pixel i of n in [-1, 1]: pixel centres (align_corners false) or corners.
inline double affine_grid_coord(int64_t i, int64_t n, bool align_corners) {
  if (align_corners) return n <= 1 ? -1.0 : -1.0 + 2.0 * static_cast<double>(i) / static_cast<double>(n - 1);
  return (2.0 * static_cast<double>(i) + 1.0) / static_cast<double>(n) - 1.0;
}

// theta [batch, dims, dims + 1]; spatial = {H, W} (dims 2) or {D, H, W} (dims 3). grid [batch, *spatial,
// dims] holds theta @ (x, y[, z], 1), x running along W.
template <typename T>
void affine_grid(const T* theta, T* grid, int64_t batch, const std::vector<int64_t>& spatial,
                 bool align_corners) {
  const int64_t dims = static_cast<int64_t>(spatial.size());
  const int64_t depth = dims == 3 ? spatial[0] : 1, height = spatial[dims - 2], width = spatial[dims - 1];
  std::vector<double> xs(width), ys(height), zs(depth);
  for (int64_t i = 0; i < width; ++i) xs[i] = affine_grid_coord(i, width, align_corners);
  for (int64_t i = 0; i < height; ++i) ys[i] = affine_grid_coord(i, height, align_corners);
  for (int64_t i = 0; i < depth; ++i) zs[i] = dims == 3 ? affine_grid_coord(i, depth, align_corners) : 0.0;
  const int64_t cols = dims + 1;
  std::vector<double> th(dims * cols);
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t k = 0; k < dims * cols; ++k) th[k] = static_cast<double>(theta[b * dims * cols + k]);
    for (int64_t z = 0; z < depth; ++z)
      for (int64_t y = 0; y < height; ++y)
        for (int64_t x = 0; x < width; ++x) {
          // Homogeneous point: (x, y, 1) in 2-D, (x, y, z, 1) in 3-D.
          double p[4] = {xs[x], ys[y], zs[z], 1.0};
          if (dims == 2) p[2] = 1.0;
          for (int64_t r = 0; r < dims; ++r) {
            double acc = 0;
            for (int64_t c = 0; c < cols; ++c) acc += th[r * cols + c] * p[c];
            *grid++ = static_cast<T>(acc);
          }
        }
  }
}

}  // namespace ingot::ref
