// Removes nodes that compute their input unchanged: Identity, inference Dropout, Cast to the same type,
// Reshape/Expand to the same static shape, identity Transpose, all-zero Pad, full Slice, one-input Concat.
#include <algorithm>

#include "passes/pass.h"
#include "passes/pass_util.h"

namespace ingot::passes {
namespace {

bool same_static_shape(const ir::Value* a, const ir::Value* b) {
  return a && b && a->type.has_shape && b->type.has_shape && ir::is_static(a->type.shape) &&
         a->type.shape == b->type.shape && a->type.dtype == b->type.dtype;
}

bool const_all(const ir::Node& n, size_t i, int64_t value) {
  if (!n.has_input(i)) return true;
  if (!n.inputs[i]->constant) return false;
  for (int64_t v : n.inputs[i]->constant->to_i64_vector())
    if (v != value) return false;
  return true;
}

// Input index that passes through unchanged, or -1.
int passthrough_input(const ir::Node& n) {
  if (!n.domain.empty() || n.outputs.empty() || !n.has_input(0) || !n.outputs[0]) return -1;
  const ir::Value* in = n.inputs[0];
  const ir::Value* out = n.outputs[0];
  const std::string& op = n.op_type;
  if (in->type.kind != ir::ValueType::Kind::kTensor) return op == "Identity" ? 0 : -1;
  if (op == "Identity") return 0;
  if (op == "Dropout") {
    // Inference mode, and the mask output unused.
    const bool mask_used = n.has_output(1) && !n.outputs[1]->consumers.empty();
    if (mask_used) return -1;
    if (n.has_input(2) && !(n.inputs[2]->constant && n.inputs[2]->constant->get_i64(0) == 0)) return -1;
    return 0;
  }
  if (op == "Cast")
    return in->type.dtype != DType::kUndefined && n.attr_int("to", -1) == static_cast<int64_t>(in->type.dtype)
               ? 0
               : -1;
  if (op == "Reshape" || op == "Expand" || op == "Squeeze" || op == "Unsqueeze" || op == "Flatten") {
    return same_static_shape(in, out) ? 0 : -1;
  }
  if (op == "Transpose") {
    auto perm = n.attr_ints("perm");
    if (perm.empty()) return in->type.has_shape && in->type.shape.size() <= 1 ? 0 : -1;
    for (size_t i = 0; i < perm.size(); ++i)
      if (perm[i] != static_cast<int64_t>(i)) return -1;
    return 0;
  }
  if (op == "Pad") return const_all(n, 1, 0) && same_static_shape(in, out) ? 0 : -1;
  if (op == "Slice") return const_all(n, 4, 1) && same_static_shape(in, out) ? 0 : -1;
  if (op == "Concat" || op == "Sum" || op == "Max" || op == "Min" || op == "Mean") {
    return n.inputs.size() == 1 ? 0 : -1;
  }
  return -1;
}

}  // namespace

Expected<bool> eliminate_noops(ir::Graph& graph, const PassOptions&) {
  bool changed = false;
  std::vector<ir::Node*> dead;
  for (const auto& node : graph.nodes()) {
    const int i = passthrough_input(*node);
    if (i < 0) continue;
    // A Dropout whose mask is a graph output must stay to compute it (found by fuzz_onnx_import).
    if (node->op_type == "Dropout" && node->has_output(1) &&
        std::find(graph.outputs.begin(), graph.outputs.end(), node->outputs[1]) != graph.outputs.end())
      continue;
    if (forward_value(graph, node->outputs[0], node->inputs[i])) {
      dead.push_back(node.get());
      changed = true;
    }
  }
  if (changed) graph.remove_nodes(dead);
  return changed;
}

}  // namespace ingot::passes
