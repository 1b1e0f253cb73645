// The calibration cache: per tensor the clipping threshold and the smallest value calibration found, so
// that a rebuild needs no data (TensorRT's calibration cache). A text file:
//
//   ingot-calibration-cache 1
//   method entropy
//   <amax as a C hex float> <min as a C hex float> <tensor name, to the end of the line>
//
// Read from files that come from anywhere: a malformed cache is an error naming the file and line.
#pragma once

#include <map>
#include <string>

#include "ingot/calibrator.h"
#include "ingot/status.h"

namespace ingot::quant {

struct TensorCalibration {
  float amax = 0;  // clipping threshold of |x|, >= 0
  float min = 0;   // smallest value seen: >= 0 means the tensor can be quantized unsigned
  bool operator==(const TensorCalibration& o) const { return amax == o.amax && min == o.min; }
};

struct CalibrationCache {
  CalibrationMethod method = CalibrationMethod::kEntropy;
  std::map<std::string, TensorCalibration> tensors;
};

Expected<CalibrationCache> parse_calibration_cache(const std::string& text, const std::string& label);
// Fails for a tensor name with a line break or a threshold that is not finite.
Expected<std::string> serialize_calibration_cache(const CalibrationCache& cache);
Expected<CalibrationCache> read_calibration_cache(const std::string& path);
Status write_calibration_cache(const std::string& path, const CalibrationCache& cache);

}  // namespace ingot::quant
