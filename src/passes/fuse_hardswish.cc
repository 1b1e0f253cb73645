// HardSwish as exporters write it, collapsed into one ONNX HardSwish node (which the epilogue
// fusion then folds into a Conv / MatMul before it):
//   x * HardSigmoid(x) with alpha 1/6, beta 1/2                     (PyTorch before opset 14)
//   Add(x, 3) -> Clip(0, 6) -> Div 6 | Mul 1/6 -> Mul x             (PyTorch decompositions)
//   Add(x, 3) -> Clip(0, 6) -> Mul x -> Div 6 | Mul 1/6             (Paddle)
#include "passes/fusion.h"
#include "passes/pass.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

// `n` divides `v` by 6: Div(v, 6) or Mul(v, 1/6).
bool divides_by_six(const ir::Node* n, const ir::Value* v) {
  if (is_op(n, "Div")) {
    auto s = n->inputs.size() == 2 && n->inputs[0] == v ? scalar_of(n->inputs[1]) : std::nullopt;
    return s && *s == 6.0;
  }
  ir::Value* x = nullptr;
  auto s = is_op(n, "Mul") ? scalar_operand(n, &x) : std::nullopt;
  return s && x == v && near(*s, 1.0 / 6.0);
}

// The Clip form, from the Clip node: appends the matched nodes and returns x, or null.
ir::Value* match_clip_form(const ir::Graph& g, ir::Node* clip, std::vector<ir::Node*>& nodes) {
  if (clip->inputs.size() != 3 || !clip->inputs[1] || !clip->inputs[2]) return nullptr;
  auto lo = scalar_of(clip->inputs[1]), hi = scalar_of(clip->inputs[2]);
  if (!lo || !hi || *lo != 0.0 || *hi != 6.0) return nullptr;
  ir::Node* add = clip->inputs[0]->producer;
  ir::Value* x = nullptr;
  auto three = is_op(add, "Add") ? scalar_operand(add, &x) : std::nullopt;
  if (!three || *three != 3.0 || sole_consumer(g, clip->inputs[0]) != clip) return nullptr;
  ir::Value* c = clip->outputs[0];
  ir::Node* n1 = sole_consumer(g, c);
  if (!n1) return nullptr;
  ir::Node* n2 = sole_consumer(g, n1->outputs[0]);
  const bool scale_first = divides_by_six(n1, c) && is_op(n2, "Mul") && other_input(n2, n1->outputs[0]) == x;
  const bool mul_first = is_op(n1, "Mul") && other_input(n1, c) == x && divides_by_six(n2, n1->outputs[0]);
  if (!scale_first && !mul_first) return nullptr;
  nodes.insert(nodes.end(), {add, clip, n1, n2});
  return x;
}

// x * HardSigmoid(x), from the HardSigmoid node.
ir::Value* match_hardsigmoid_form(const ir::Graph& g, ir::Node* hs, std::vector<ir::Node*>& nodes) {
  if (!near(hs->attr_float("alpha", 0.2f), 1.0 / 6.0) || !near(hs->attr_float("beta", 0.5f), 0.5))
    return nullptr;
  ir::Value* x = hs->inputs[0];
  ir::Node* m = sole_consumer(g, hs->outputs[0]);
  if (!is_op(m, "Mul") || other_input(m, hs->outputs[0]) != x) return nullptr;
  nodes.insert(nodes.end(), {hs, m});
  return x;
}

}  // namespace

Expected<bool> fuse_hardswish(ir::Graph& graph, const PassOptions&) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (ir::Node* n : snapshot(graph)) {
    if (gone.count(n) || !(is_op(n, "Clip") || is_op(n, "HardSigmoid")) || !n->has_input(0) ||
        !is_float(n->inputs[0]))
      continue;
    std::vector<ir::Node*> nodes;
    ir::Value* x =
        n->op_type == "Clip" ? match_clip_form(graph, n, nodes) : match_hardsigmoid_form(graph, n, nodes);
    if (!x) continue;
    Rewrite rw(graph);
    // HardSwish is ai.onnx opset 14.
    rw.add_node("HardSwish", "", nodes.back()->name, {x}, {nodes.back()->outputs[0]}, 14);
    rw.remove(nodes, &gone);
    changed = true;
  }
  return finish(graph, changed);
}

}  // namespace ingot::passes
