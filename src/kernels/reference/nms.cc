#include "kernels/reference/nms.h"

#include <algorithm>

namespace ingot::ref {
namespace {

struct Corners {
  float x_min, x_max, y_min, y_max;
};

Corners corners(const float* b, bool center_point_box) {
  if (center_point_box) {
    const float hw = b[2] / 2, hh = b[3] / 2;
    return {b[0] - hw, b[0] + hw, b[1] - hh, b[1] + hh};
  }
  // [y1, x1, y2, x2] with the corners in either order.
  return {std::min(b[1], b[3]), std::max(b[1], b[3]), std::min(b[0], b[2]), std::max(b[0], b[2])};
}

bool suppressed(const Corners& a, const Corners& b, float iou_threshold) {
  const float ix_min = std::max(a.x_min, b.x_min), ix_max = std::min(a.x_max, b.x_max);
  if (ix_max <= ix_min) return false;
  const float iy_min = std::max(a.y_min, b.y_min), iy_max = std::min(a.y_max, b.y_max);
  if (iy_max <= iy_min) return false;
  const float inter = (ix_max - ix_min) * (iy_max - iy_min);
  if (inter <= 0) return false;
  const float area_a = (a.x_max - a.x_min) * (a.y_max - a.y_min);
  const float area_b = (b.x_max - b.x_min) * (b.y_max - b.y_min);
  const float uni = area_a + area_b - inter;
  if (area_a <= 0 || area_b <= 0 || uni <= 0) return false;
  return inter / uni > iou_threshold;
}

}  // namespace

std::vector<std::array<int64_t, 3>> non_max_suppression(const float* boxes, const float* scores,
                                                        const NmsParams& p) {
  std::vector<std::array<int64_t, 3>> out;
  if (p.max_output_per_class <= 0) return out;
  std::vector<Corners> c(p.boxes);
  std::vector<int64_t> cand;
  std::vector<int64_t> kept;
  for (int64_t b = 0; b < p.batches; ++b) {
    for (int64_t i = 0; i < p.boxes; ++i) c[i] = corners(boxes + (b * p.boxes + i) * 4, p.center_point_box);
    for (int64_t k = 0; k < p.classes; ++k) {
      const float* s = scores + (b * p.classes + k) * p.boxes;
      cand.clear();
      for (int64_t i = 0; i < p.boxes; ++i)
        if (!p.has_score_threshold || s[i] > p.score_threshold) cand.push_back(i);
      std::stable_sort(cand.begin(), cand.end(), [&](int64_t x, int64_t y) { return s[x] > s[y]; });
      kept.clear();
      for (int64_t i : cand) {
        if (static_cast<int64_t>(kept.size()) >= p.max_output_per_class) break;
        bool keep = true;
        for (int64_t j : kept) {
          if (suppressed(c[i], c[j], p.iou_threshold)) {
            keep = false;
            break;
          }
        }
        if (!keep) continue;
        kept.push_back(i);
        out.push_back({b, k, i});
      }
    }
  }
  return out;
}

}  // namespace ingot::ref
