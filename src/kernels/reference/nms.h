// Plain NonMaxSuppression (the ONNX / onnxruntime greedy algorithm) over float boxes.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace ingot::ref {

struct NmsParams {
  int64_t batches = 0, classes = 0, boxes = 0;
  bool center_point_box = false;  // boxes as [x_center, y_center, w, h] instead of [y1, x1, y2, x2]
  int64_t max_output_per_class = 0;
  float iou_threshold = 0;
  bool has_score_threshold = false;
  float score_threshold = 0;
};

// boxes [batches, boxes, 4], scores [batches, classes, boxes] → selected (batch, class, box) triples, per
// batch and class in order of decreasing score (ties: lower box index first).
std::vector<std::array<int64_t, 3>> non_max_suppression(const float* boxes, const float* scores,
                                                        const NmsParams& p);

}  // namespace ingot::ref
