// Executes an IR graph node by node with each op's reference evaluation. Used by the
// reference runtime, by constant folding, and for control-flow bodies.
#pragma once

#include <string>
#include <vector>

#include "core/value.h"
#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::exec {

// Every node (subgraphs included) whose op ingot has no definition for, as
// "Op (node 'name')" entries; empty when all are supported.
std::vector<std::string> unsupported_ops(const ir::Graph& graph);

// Runs `graph` (topologically sorted) on `inputs` (one per graph input, in order) and returns the
// graph outputs in order. Values of enclosing graphs are read from `outer` frames when given.
class Frame;
Expected<std::vector<RtValue>> run_graph(const ir::Graph& graph, const std::vector<RtValue>& inputs,
                                         const Frame* outer = nullptr);

}  // namespace ingot::exec
