// For tools and tests below the public API (the engine-load fuzz target): an Engine from a plan.
#pragma once

#include <memory>

#include "engine/plan.h"
#include "ingot/engine.h"

namespace ingot::runtime {

// Prepares every layer (op lookup, tactic kernels) and wraps the plan as an Engine.
Expected<std::shared_ptr<Engine>> engine_from_plan(engine::Plan plan);

}  // namespace ingot::runtime
