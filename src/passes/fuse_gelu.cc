// GELU chains as exporters write them, collapsed into one ONNX Gelu node (which the epilogue
// fusion then folds into a Conv / MatMul before it):
//   erf:  Div(x, sqrt 2) | Mul(x, 1/sqrt 2) -> Erf -> Add 1                                 => Gelu
//   tanh: x + 0.044715 * (Pow(x, 3) | x*x*x) -> Mul sqrt(2/pi) -> Tanh -> Add 1            => Gelu(tanh)
// each followed by the product 0.5 * x * (1 + ...) in any of its association orders:
//   Mul(Mul(x, u), 0.5), Mul(Mul(x, 0.5), u), Mul(x, Mul(u, 0.5)) (operands in either order).
#include <cmath>

#include "passes/fusion.h"
#include "passes/pass.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

// `n` multiplies `v` by a scalar constant close to `c` (Mul; Div by 1/c when `div_ok`).
bool scales_by(const ir::Node* n, const ir::Value* v, double c, bool div_ok) {
  ir::Value* x = nullptr;
  if (is_op(n, "Mul")) {
    auto s = scalar_operand(n, &x);
    return s && x == v && near(*s, c);
  }
  if (div_ok && is_op(n, "Div") && n->inputs.size() == 2 && n->inputs[0] == v) {
    auto s = scalar_of(n->inputs[1]);
    return s && near(*s, 1.0 / c);
  }
  return false;
}

// `n` is Add(v, 1).
bool adds_one(const ir::Node* n, const ir::Value* v) {
  ir::Value* x = nullptr;
  auto s = is_op(n, "Add") ? scalar_operand(n, &x) : std::nullopt;
  return s && x == v && *s == 1.0;
}

// The product 0.5 * x * u after u = 1 + erf(...) / 1 + tanh(...): appends its nodes to `nodes` and
// returns the node writing the result.
ir::Node* match_half_x_times(const ir::Graph& g, ir::Value* x, ir::Value* u, std::vector<ir::Node*>& nodes) {
  ir::Node* c1 = sole_consumer(g, u);
  if (!is_op(c1, "Mul")) return nullptr;
  ir::Value* o = other_input(c1, u);
  if (!o) return nullptr;
  if (o == x) {  // Mul(Mul(x, u), 0.5)
    ir::Node* c2 = sole_consumer(g, c1->outputs[0]);
    if (!scales_by(c2, c1->outputs[0], 0.5, true)) return nullptr;
    nodes.insert(nodes.end(), {c1, c2});
    return c2;
  }
  if (auto half = scalar_of(o); half && *half == 0.5) {  // Mul(x, Mul(u, 0.5))
    ir::Node* c2 = sole_consumer(g, c1->outputs[0]);
    if (!is_op(c2, "Mul") || other_input(c2, c1->outputs[0]) != x) return nullptr;
    nodes.insert(nodes.end(), {c1, c2});
    return c2;
  }
  ir::Node* h = o->producer;  // Mul(Mul(x, 0.5), u)
  if (!scales_by(h, x, 0.5, true) || sole_consumer(g, o) != c1) return nullptr;
  nodes.insert(nodes.end(), {h, c1});
  return c1;
}

// Erf form, from the Erf node. Returns x, or null.
ir::Value* match_erf(const ir::Graph& g, ir::Node* erf, std::vector<ir::Node*>& nodes) {
  ir::Node* scale = erf->inputs[0]->producer;
  if (!scale || sole_consumer(g, erf->inputs[0]) != erf || scale->inputs.size() != 2) return nullptr;
  ir::Value* x = scale->inputs[0]->constant ? scale->inputs[1] : scale->inputs[0];
  if (!scales_by(scale, x, M_SQRT1_2, true)) return nullptr;
  nodes.insert(nodes.end(), {scale, erf});
  return x;
}

// Tanh form, from the Tanh node. Returns x, or null.
ir::Value* match_tanh(const ir::Graph& g, ir::Node* tanh, std::vector<ir::Node*>& nodes) {
  ir::Node* outer = tanh->inputs[0]->producer;  // Mul(inner, sqrt(2/pi))
  ir::Value* inner = nullptr;
  if (!is_op(outer, "Mul") || sole_consumer(g, tanh->inputs[0]) != tanh) return nullptr;
  auto c = scalar_operand(outer, &inner);
  if (!c || !near(*c, std::sqrt(2.0 / M_PI)) || !inner->producer || sole_consumer(g, inner) != outer)
    return nullptr;
  ir::Node* add = inner->producer;  // Add(x, 0.044715 * x^3)
  if (!is_op(add, "Add") || add->inputs.size() != 2) return nullptr;
  for (int i = 0; i < 2; ++i) {
    ir::Value* x = add->inputs[i];
    ir::Value* t = add->inputs[1 - i];
    ir::Node* m = t ? t->producer : nullptr;
    ir::Value* cube = nullptr;
    auto k = is_op(m, "Mul") ? scalar_operand(m, &cube) : std::nullopt;
    if (!k || !near(*k, 0.044715) || sole_consumer(g, t) != add || !cube->producer ||
        sole_consumer(g, cube) != m)
      continue;
    ir::Node* p = cube->producer;
    std::vector<ir::Node*> cube_nodes{p};
    bool ok = false;
    if (is_op(p, "Pow")) {
      auto e = scalar_of(p->inputs[1]);
      ok = p->inputs[0] == x && e && *e == 3.0;
    } else if (is_op(p, "Mul")) {  // x * (x * x) or (x * x) * x
      ir::Value* sq = other_input(p, x);
      ir::Node* q = sq ? sq->producer : nullptr;
      ok = is_op(q, "Mul") && q->inputs[0] == x && q->inputs[1] == x && sole_consumer(g, sq) == p;
      cube_nodes.push_back(q);
    }
    if (!ok) continue;
    nodes.insert(nodes.end(), cube_nodes.begin(), cube_nodes.end());
    nodes.insert(nodes.end(), {m, add, outer, tanh});
    return x;
  }
  return nullptr;
}

}  // namespace

Expected<bool> fuse_gelu(ir::Graph& graph, const PassOptions&) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (ir::Node* n : snapshot(graph)) {
    if (gone.count(n) || !(is_op(n, "Erf") || is_op(n, "Tanh")) || !n->has_input(0) ||
        !is_float(n->inputs[0]))
      continue;
    const bool erf = n->op_type == "Erf";
    std::vector<ir::Node*> nodes;
    ir::Value* x = erf ? match_erf(graph, n, nodes) : match_tanh(graph, n, nodes);
    if (!x) continue;
    ir::Node* one = sole_consumer(graph, n->outputs[0]);
    if (!adds_one(one, n->outputs[0])) continue;
    nodes.push_back(one);
    ir::Node* last = match_half_x_times(graph, x, one->outputs[0], nodes);
    if (!last) continue;
    Rewrite rw(graph);
    // Gelu is ai.onnx opset 20; its `approximate` picks the form.
    ir::Node* gelu = rw.add_node("Gelu", "", last->name, {x}, {last->outputs[0]}, 20);
    gelu->attrs["approximate"].kind = ir::Attribute::Kind::kString;
    gelu->attrs["approximate"].s = erf ? "none" : "tanh";
    rw.remove(nodes, &gone);
    changed = true;
  }
  return finish(graph, changed);
}

}  // namespace ingot::passes
