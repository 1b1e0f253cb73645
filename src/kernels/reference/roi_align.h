// Plain RoiAlign (the ONNX / onnxruntime algorithm, including its "max" mode, which takes the max of
// the weighted bilinear corners).
#pragma once

#include <cstdint>

namespace ingot::ref {

struct RoiAlignParams {
  int64_t channels = 0, height = 0, width = 0;
  int64_t out_h = 1, out_w = 1;
  int64_t sampling_ratio = 0;  // 0: adaptive, ceil(roi size / output size)
  float spatial_scale = 1;
  bool half_pixel = true;  // shift the roi by -0.5 (coordinate_transformation_mode "half_pixel")
  bool max_mode = false;
};

// x [N, C, H, W], rois [num_rois, 4] as (x1, y1, x2, y2), batch_indices [num_rois] (already validated)
// → y [num_rois, C, out_h, out_w].
template <typename T>
void roi_align(const T* x, const T* rois, const int64_t* batch_indices, int64_t num_rois,
               const RoiAlignParams& p, T* y);

}  // namespace ingot::ref
