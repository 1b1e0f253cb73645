// Scaled dot-product attention into one ingot.Attention layer:
//   s = MatMul([Mul|Div c1](Q), [Mul|Div c2](Kt)) [-> Mul c | Div c] [-> Add mask] -> Softmax(last axis)
//       -> MatMul(., V)
// Scales by constant scalars on Q and Kt (torch's nn.MultiheadAttention scales both by sqrt(1/sqrt(d)))
// fold into `scale` with the one after the product. Kt written as Transpose(K) swapping the last two axes
// is read through (k_transposed = 0); any other Kt is passed as is (k_transposed = 1). Q, Kt and V must have
// rank 3 or 4 and equal leading dims (the layer does not broadcast them), the mask must broadcast to the
// scores.
#include "passes/fusion.h"
#include "passes/pass.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

bool dims_match(const ir::Dim& a, const ir::Dim& b) { return (a.is_static() || !a.symbol.empty()) && a == b; }

// `*x` = Mul(x', c) / Mul(c, x') / Div(x', c) with a constant scalar c and `reader` its only reader: steps
// *x back to x', multiplies *scale by c (1 / c for Div) and appends the node.
void absorb_scalar(const ir::Graph& g, ir::Value** x, const ir::Node* reader, std::vector<ir::Node*>& nodes,
                   double* scale) {
  ir::Node* p = (*x)->producer;
  if (!(is_op(p, "Mul") || is_op(p, "Div")) || sole_consumer(g, *x) != reader) return;
  ir::Value* src = nullptr;
  auto c = scalar_operand(p, &src);
  if (!c || *c == 0 || (p->op_type == "Div" && p->inputs[0] != src)) return;
  *scale *= p->op_type == "Div" ? 1.0 / *c : *c;
  nodes.push_back(p);
  *x = src;
}

// The scaled scores feeding Softmax: appends the nodes, sets q / kt / scale. False when `v` is not one.
bool match_scores(const ir::Graph& g, ir::Value* v, const ir::Node* reader, std::vector<ir::Node*>& nodes,
                  ir::Value** q, ir::Value** kt, double* scale) {
  if (!v || sole_consumer(g, v) != reader || !v->producer) return false;
  ir::Node* p = v->producer;
  *scale = 1.0;
  if (is_op(p, "Mul") || is_op(p, "Div")) {
    ir::Value* s = nullptr;
    auto c = scalar_operand(p, &s);
    if (!c || *c == 0 || (p->op_type == "Div" && p->inputs[0] != s)) return false;
    *scale = p->op_type == "Div" ? 1.0 / *c : *c;
    nodes.push_back(p);
    if (sole_consumer(g, s) != p || !s->producer) return false;
    p = s->producer;
  }
  if (!is_op(p, "MatMul")) return false;
  nodes.push_back(p);
  *q = p->inputs[0];
  *kt = p->inputs[1];
  if (!*q || !*kt || *q == *kt) return false;
  absorb_scalar(g, q, p, nodes, scale);
  absorb_scalar(g, kt, p, nodes, scale);
  return true;
}

bool fuse_one(ir::Graph& g, ir::Node* sm, std::unordered_set<const ir::Node*>& gone) {
  ir::Value* in = sm->inputs[0];
  if (!in->type.has_shape || !(in->type.dtype == DType::kF32 || in->type.dtype == DType::kF64)) return false;
  const int64_t rank = static_cast<int64_t>(in->type.shape.size());
  if (rank != 3 && rank != 4) return false;
  int64_t axis = sm->attr_int("axis", sm->opset < 13 ? 1 : -1);
  if (axis < 0) axis += rank;
  if (axis != rank - 1) return false;
  ir::Node* out = sole_consumer(g, sm->outputs[0]);
  if (!is_op(out, "MatMul") || out->inputs[0] != sm->outputs[0]) return false;
  ir::Value* v = out->inputs[1];
  std::vector<ir::Node*> nodes{sm, out};
  ir::Value *q = nullptr, *kt = nullptr, *mask = nullptr;
  double scale = 1.0;
  ir::Node* add = in->producer;
  if (is_op(add, "Add") && sole_consumer(g, in) == sm) {
    nodes.push_back(add);
    for (int i = 0; i < 2 && !q; ++i) {
      std::vector<ir::Node*> part;
      if (match_scores(g, add->inputs[i], add, part, &q, &kt, &scale)) {
        mask = add->inputs[1 - i];
        nodes.insert(nodes.end(), part.begin(), part.end());
      }
    }
  } else if (!match_scores(g, in, sm, nodes, &q, &kt, &scale)) {
    return false;
  }
  if (!q || scale <= 0) return false;
  // Same rank and leading dims for Q, Kt and V; the mask broadcasts to the scores.
  for (const ir::Value* t : {q, kt, v})
    if (!t->type.has_shape || static_cast<int64_t>(t->type.shape.size()) != rank ||
        t->type.dtype != in->type.dtype)
      return false;
  for (int64_t i = 0; i < rank - 2; ++i)
    if (!dims_match(q->type.shape[i], kt->type.shape[i]) || !dims_match(q->type.shape[i], v->type.shape[i]))
      return false;
  if (mask) {
    const ir::SymShape& ms = mask->type.shape;
    if (!mask->type.has_shape || mask->type.dtype != in->type.dtype || static_cast<int64_t>(ms.size()) > rank)
      return false;
    for (size_t i = 0; i < ms.size(); ++i) {
      const ir::Dim& sd = in->type.shape[rank - ms.size() + i];
      if (!(ms[i].is_static() && ms[i].value == 1) && !dims_match(ms[i], sd)) return false;
    }
  }
  // Kt = Transpose(K) swapping the last two axes: read K itself.
  ir::Value* k = kt;
  int64_t k_transposed = 1;
  ir::Node* tr = kt->producer;
  if (is_op(tr, "Transpose") && sole_consumer(g, kt)) {
    std::vector<int64_t> perm = tr->attr_ints("perm");
    std::vector<int64_t> swap_last(static_cast<size_t>(rank));
    for (int64_t i = 0; i < rank; ++i) swap_last[i] = i;
    std::swap(swap_last[rank - 1], swap_last[rank - 2]);
    if (perm == swap_last) {
      k = tr->inputs[0];
      k_transposed = 0;
      nodes.push_back(tr);
    }
  }
  Rewrite rw(g);
  std::vector<ir::Value*> inputs{q, k, v};
  if (mask) inputs.push_back(mask);
  ir::Node* att = rw.add_node("Attention", kDomain, out->name, inputs, {out->outputs[0]}, kDomainVersion);
  att->attrs["scale"].kind = ir::Attribute::Kind::kFloat;
  att->attrs["scale"].f = static_cast<float>(scale);
  att->attrs["k_transposed"].kind = ir::Attribute::Kind::kInt;
  att->attrs["k_transposed"].i = k_transposed;
  // In graph order: the score MatMul first.
  std::vector<std::reference_wrapper<const ir::Node>> parts;
  if (!k_transposed) parts.emplace_back(*tr);
  for (auto it = nodes.rbegin(); it != nodes.rend(); ++it)
    if (*it != tr && *it != sm && *it != out) parts.emplace_back(**it);
  parts.emplace_back(*sm);
  parts.emplace_back(*out);
  set_fused_from(*att, parts);
  rw.remove(nodes, &gone);
  return true;
}

}  // namespace

Expected<bool> fuse_attention(ir::Graph& graph, const PassOptions&) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (ir::Node* n : snapshot(graph)) {
    if (!gone.count(n) && is_op(n, "Softmax") && n->has_input(0) && fuse_one(graph, n, gone)) changed = true;
  }
  return finish(graph, changed);
}

}  // namespace ingot::passes
