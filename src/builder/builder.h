// The engine builder: import → simplify → fuse → compile the plan (tensor table, layers, weights)
// → plan memory. What the runtime executes comes out of here.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "engine/plan.h"
#include "ingot/engine.h"
#include "onnx/importer.h"
#include "quant/calib_cache.h"

namespace ingot::builder {

// Fixes the given inputs' shapes on the graph (checked against the rank and the static dims the model
// declares). `flag` names the option in errors ("--shapes").
Status apply_input_shapes(ir::Graph& graph, const std::map<std::string, Dims>& shapes,
                          const std::string& label, const std::string& flag);

// Checks a BuildConfig's shapes and profile against the model's inputs: every range has min <= opt <= max,
// the model's rank and fixed dims. Returns per input the shape to fix at build time (where min == max).
Expected<std::map<std::string, Dims>> static_shapes_of(const ir::Graph& graph, const BuildConfig& config,
                                                       const std::string& label);

// Builds the plan. `import` is called once, or twice when the profile has dynamic inputs (the second
// import, with every input at its max shape, sizes the activations for the memory plan).
// `make_engine` (the runtime's) lets the builder run the FP32 model on calibration data.
using ImportFn = std::function<Expected<onnx_import::Model>()>;
using EngineFromPlanFn = std::function<Expected<std::shared_ptr<Engine>>(engine::Plan)>;
// `scales` carries INT8 scales from one build of the model to the next (see ScaleMemo).
// With config.accuracy_budget set, builds within it (build_within_accuracy_budget).
Expected<engine::Plan> build_plan(const ImportFn& import, const BuildConfig& config, const std::string& label,
                                  const EngineFromPlanFn& make_engine = nullptr,
                                  std::map<std::string, quant::TensorCalibration>* scales = nullptr);

// --accuracy-budget: builds several times (src/builder/accuracy_budget.cc) and returns the plan whose
// outputs are within the budget, with what it measured in plan.accuracy.
Expected<engine::Plan> build_within_accuracy_budget(const ImportFn& import, const BuildConfig& config,
                                                    const std::string& label,
                                                    const EngineFromPlanFn& make_engine);

}  // namespace ingot::builder
