// `ingot quantize`: the calibrated model written back as ONNX with QuantizeLinear/DequantizeLinear pairs
// (onnxruntime's QDQ format), which onnxruntime and other runtimes run, and which ingot builds to the same
// INT8 layers at the same scales as the calibrated build.
#pragma once

#include <string>

#include "ingot/engine.h"
#include "ingot/status.h"

namespace ingot {

struct QuantizeReport {
  int64_t activations = 0;  // Q/DQ pairs written on activations
  int64_t weights = 0;      // weights written as int8 + DequantizeLinear
};

// Calibrates `in_path` as `ingot build --int8` does with `config` (its calibration data or cache, its
// per-layer precisions), then writes `out_path` atomically: per activation an int8 layer reads, a
// QuantizeLinear -> DequantizeLinear pair with the calibrated scale (u8; zero point 0 when never negative,
// else 128), and per int8 layer's weight an int8 initializer (symmetric, per output channel) and its
// DequantizeLinear.
Expected<QuantizeReport> quantize_onnx_file(const std::string& in_path, const std::string& out_path,
                                            const BuildConfig& config);

}  // namespace ingot
