// The engine report that `ingot inspect --json` writes and Python's ingot.inspect returns, made in one place
// so that the two cannot drift apart.
#pragma once

#include <string>

#include "ingot/engine.h"

namespace ingot {

// JSON text (indented by 2): source, platform, ingot_version, inputs (with their profile), outputs, layers,
// reorders (per run, all layers), int8 (where there are int8 layers: their count, the quantize and dequantize
// reorders at the edges of int8 regions, the activations kept u8 between them), accuracy (what an
// --accuracy-budget build measured) and memory.
std::string inspect_json(const Engine& engine);

}  // namespace ingot
