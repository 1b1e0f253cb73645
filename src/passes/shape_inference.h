// Type and shape inference over a graph with ingot's own per-op rules, propagating values that are
// known at build time (shape arithmetic: Shape -> Gather -> Concat -> Reshape) by evaluating small ops.
#pragma once

#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::passes {

struct ShapeInferenceOptions {
  // Ops whose inputs are all known and at most this many elements in all are evaluated at build time.
  int64_t fold_max_elements = 1 << 16;
};

Status infer_shapes(ir::Graph& graph, const ShapeInferenceOptions& options = {});

}  // namespace ingot::passes
