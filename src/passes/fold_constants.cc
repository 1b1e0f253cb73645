// Evaluates nodes whose inputs are all known at build time and replaces them by their values.
#include "passes/pass.h"
#include "passes/shape_inference.h"

namespace ingot::passes {

Expected<bool> infer_shapes_pass(ir::Graph& graph, const PassOptions&) {
  INGOT_RETURN_IF_ERROR(infer_shapes(graph));
  return false;
}

Expected<bool> fold_constants(ir::Graph& graph, const PassOptions& options) {
  // Shape inference evaluates known nodes as it goes, up to the size cap; what it could evaluate now
  // carries a value on every output.
  ShapeInferenceOptions sio;
  sio.fold_max_elements = options.fold_max_elements;
  INGOT_RETURN_IF_ERROR(infer_shapes(graph, sio));
  std::vector<ir::Node*> folded;
  for (const auto& node : graph.nodes()) {
    bool all_known = !node->outputs.empty();
    for (const ir::Value* v : node->outputs)
      if (v && !v->constant) all_known = false;
    if (all_known) folded.push_back(node.get());
  }
  if (folded.empty()) return false;
  graph.remove_nodes(folded);  // their outputs stay, now as constants with no producer
  return true;
}

}  // namespace ingot::passes
