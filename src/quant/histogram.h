// Activation statistics for INT8 calibration: the range of a tensor over the calibration data (pass 1),
// then a 2048-bin histogram of |x| over [0, max |x|] (pass 2), and the calibrators that choose a
// clipping threshold ("amax") from it, as TensorRT does. Kernels of their own: pure functions over
// floats, no graph.
#pragma once

#include <cstdint>
#include <vector>

#include "ingot/calibrator.h"

namespace ingot::quant {

inline constexpr int kHistogramBins = 2048;

// Pass 1: the largest |x| and the smallest x seen.
struct TensorRange {
  float amax = 0;
  float min = 0;
  bool seen = false;
  void add(const float* x, int64_t n);
};

// Pass 2: counts of |x| in kHistogramBins equal bins over [0, range] (values past range go in the last).
struct Histogram {
  float range = 0;
  std::vector<double> counts;
  explicit Histogram(float range_ = 0) : range(range_), counts(kHistogramBins, 0.0) {}
  void add(const float* x, int64_t n);
  double bin_width() const { return static_cast<double>(range) / kHistogramBins; }
};

// The clipping threshold of a tensor from its histogram. `unsigned_levels`: the tensor is never negative
// and will be quantized to [0, 255] (256 levels), else to [-127, 127] (128 levels on each side).
// `percentile` is read by kPercentile only. A tensor that is all zeros gets 0.
float compute_amax(const Histogram& h, CalibrationMethod method, bool unsigned_levels, double percentile);

// The scale of a tensor with that threshold: amax / 127 (signed) or amax / 255 (unsigned); a tensor
// whose threshold is 0 gets 1, which represents its zeros exactly.
float activation_scale(float amax, bool unsigned_levels);

}  // namespace ingot::quant
