// INT8 calibration data for the builder (DESIGN.md, "Precision"): a Calibrator hands the builder batches
// of the model's inputs; the builder runs the FP32 graph on them, collects a histogram of every tensor a
// quantized layer reads and derives its scale with the chosen method. The scales can be kept in a
// calibration cache file, so that a rebuild needs no data.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot {

class Calibrator {
 public:
  virtual ~Calibrator() = default;
  // How many batches there are. Calibration reads each batch twice (ranges, then histograms).
  virtual size_t num_batches() const = 0;
  // Batch i: one tensor per model input named in `inputs`, with the model's dtype.
  virtual Expected<std::map<std::string, Tensor>> batch(size_t i, const std::vector<std::string>& inputs) = 0;
};

// Batches from .npy files: DIR/*.npy, one batch of the single input each (sorted by name); for a model
// with several inputs DIR/<input name>/*.npy, the same number of files for every input. Fails when DIR
// is missing or holds no .npy file.
Expected<std::shared_ptr<Calibrator>> npy_dir_calibrator(const std::string& dir);

// How the clipping threshold of an activation is chosen from its histogram of |x| (2048 bins).
enum class CalibrationMethod {
  kEntropy,     // TensorRT's: the threshold minimising the KL divergence, searched over 128..2048 bins
  kMinMax,      // the largest |x| seen
  kPercentile,  // the given percentile of |x| (99.99 by default)
  kMse,         // the threshold minimising the mean squared quantization error
};
const char* calibration_method_name(CalibrationMethod m);  // "entropy", "minmax", "percentile", "mse"
Expected<CalibrationMethod> parse_calibration_method(const std::string& name);

struct CalibrationConfig {
  std::shared_ptr<Calibrator> calibrator;  // may be null when the cache holds every scale needed
  CalibrationMethod method = CalibrationMethod::kEntropy;
  double percentile = 99.99;
  // Read when it exists (its scales are used and the data is not read unless a tensor is missing);
  // written (atomically) after calibrating from data.
  std::string cache_path;
};

}  // namespace ingot
