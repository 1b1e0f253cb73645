// Precision assignment (DESIGN.md stage 4): which layers run in which precision, and for INT8 the scale
// of every activation a quantized layer reads, from calibration data or the calibration cache. Runs on
// the fused graph; marks each node with the attributes the plan compiler and the tactics read.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "engine/plan.h"
#include "ingot/engine.h"
#include "ir/graph.h"
#include "quant/calib_cache.h"

namespace ingot::builder {

// Node attributes this stage sets (the plan compiler moves the first two into the plan layer).
inline constexpr const char* kPrecisionAttr = "ingot_precision";
inline constexpr const char* kPrecisionNoteAttr = "ingot_precision_note";
using engine::kQuantScaleAttr;
using engine::kQuantUnsignedAttr;

// Checks a precision name ("fp32", "fp16", "bf16", "int8", "best").
Status check_precision_name(const std::string& p, const std::string& what);

// Runs the FP32 model on one batch of inputs and returns the tensors asked for by name.
using ActivationRunner =
    std::function<Expected<std::map<std::string, Tensor>>(const std::map<std::string, Tensor>& inputs)>;
// Makes a runner that returns the given tensors (built once per calibration).
using RunnerFactory = std::function<Expected<ActivationRunner>(const std::vector<std::string>& tensors)>;

// INT8 scales by tensor name, kept across the builds of one model (the accuracy budget's): when not empty
// they stand in for the calibration data and cache; filled with the scales a build found.
using ScaleMemo = std::map<std::string, quant::TensorCalibration>;

// Marks the graph's nodes with their precision (and INT8 scales). `make_runner` is called only when
// calibration data must be read.
Status assign_precision(ir::Graph& g, const BuildConfig& config, const std::string& label,
                        const RunnerFactory& make_runner, ScaleMemo* memo = nullptr);

}  // namespace ingot::builder
