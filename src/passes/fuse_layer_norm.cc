// LayerNormalization over the last axis from its decomposed form (PyTorch before opset 17, Paddle, TF):
//   mean = ReduceMean(X, [-1]); d = Sub(X, mean); var = ReduceMean(Pow(d, 2) | Mul(d, d), [-1])
//   Y = Div(d, Sqrt(Add(var, eps))) [-> Mul gamma] [-> Add beta]
// => LayerNormalization(X, gamma, beta, axis = -1, epsilon = eps). Both ReduceMeans must reduce
// exactly the last axis with keepdims; gamma / beta must vary along the last axis only.
#include "passes/fusion.h"
#include "passes/pass.h"
#include "passes/pass_util.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

// `n` is ReduceMean(x) over exactly the last axis of x, keeping dims.
bool mean_over_last_axis(const ir::Node* n, const ir::Value* x) {
  if (!is_op(n, "ReduceMean") || n->inputs.empty() || n->inputs[0] != x || !x->type.has_shape) return false;
  if (n->attr_int("keepdims", 1) != 1 || !n->has_input(1)) return false;
  const Tensor* axes = const_of(n->inputs[1]);
  const int64_t rank = static_cast<int64_t>(x->type.shape.size());
  if (!axes || axes->numel() != 1 || rank < 1) return false;
  const int64_t a = axes->get_i64(0);
  return a == -1 || a == rank - 1;
}

// The per-element values of gamma / beta (constant, varying along the last axis only) as a [H] tensor.
std::optional<Tensor> row_param(const ir::Value* v, int64_t rank, int64_t h, DType dt) {
  const Tensor* c = const_of(v);
  if (!c || c->dtype() != dt) return std::nullopt;
  auto vals = per_channel(*c, rank, rank - 1, h);
  if (!vals) return std::nullopt;
  return from_doubles(dt, {h}, *vals);
}

bool fuse_one(ir::Graph& g, ir::Node* mean, std::unordered_set<const ir::Node*>& gone) {
  ir::Value* x = mean->inputs[0];
  if (!is_float(x) || !mean_over_last_axis(mean, x)) return false;
  const int64_t rank = static_cast<int64_t>(x->type.shape.size());
  const ir::Dim hd = x->type.shape.back();
  if (!hd.is_static()) return false;
  ir::Node* sub = sole_consumer(g, mean->outputs[0]);
  if (!is_op(sub, "Sub") || sub->inputs[0] != x || sub->inputs[1] != mean->outputs[0]) return false;
  ir::Value* d = sub->outputs[0];
  // d feeds the square and the final Div, and nothing else (Mul(d, d) reads it twice).
  ir::Node* sq = nullptr;
  ir::Node* div = nullptr;
  for (ir::Node* c : d->consumers) {
    if (is_op(c, "Div") && c->inputs[0] == d && c->inputs[1] != d)
      div = c;
    else if (is_op(c, "Pow") && c->inputs[0] == d && scalar_of(c->inputs[1]) == 2.0)
      sq = c;
    else if (is_op(c, "Mul") && c->inputs[0] == d && c->inputs[1] == d)
      sq = c;
    else
      return false;
  }
  const size_t sq_reads = sq && sq->op_type == "Mul" ? 2 : 1;
  if (!sq || !div || d->consumers.size() != sq_reads + 1) return false;
  if (is_graph_output(g, d)) return false;
  ir::Node* var = sole_consumer(g, sq->outputs[0]);
  if (!var || !mean_over_last_axis(var, sq->outputs[0])) return false;
  ir::Node* add_eps = sole_consumer(g, var->outputs[0]);
  ir::Value* v = nullptr;
  auto eps = is_op(add_eps, "Add") ? scalar_operand(add_eps, &v) : std::nullopt;
  if (!eps || v != var->outputs[0] || *eps < 0) return false;
  ir::Node* sqrt = sole_consumer(g, add_eps->outputs[0]);
  if (!is_op(sqrt, "Sqrt") || sole_consumer(g, sqrt->outputs[0]) != div || div->inputs[1] != sqrt->outputs[0])
    return false;
  std::vector<ir::Node*> nodes{mean, sub, sq, var, add_eps, sqrt, div};
  const DType dt = x->type.dtype;
  ir::Node* last = div;
  std::optional<Tensor> gamma, beta;
  ir::Node* mul = sole_consumer(g, div->outputs[0]);
  if (is_op(mul, "Mul") && other_input(mul, div->outputs[0]) &&
      (gamma = row_param(other_input(mul, div->outputs[0]), rank, hd.value, dt))) {
    nodes.push_back(last = mul);
    ir::Node* add = sole_consumer(g, mul->outputs[0]);
    if (is_op(add, "Add") && other_input(add, mul->outputs[0]) &&
        (beta = row_param(other_input(add, mul->outputs[0]), rank, hd.value, dt))) {
      nodes.push_back(last = add);
    }
  }
  if (!gamma) gamma = from_doubles(dt, {hd.value}, std::vector<double>(static_cast<size_t>(hd.value), 1.0));
  Rewrite rw(g);
  std::vector<ir::Value*> inputs{x, rw.add_constant(last->name + "_scale", *gamma)};
  if (beta) inputs.push_back(rw.add_constant(last->name + "_bias", *beta));
  // LayerNormalization is ai.onnx opset 17.
  ir::Node* ln = rw.add_node("LayerNormalization", "", last->name, inputs, {last->outputs[0]}, 17);
  ln->attrs["axis"].kind = ir::Attribute::Kind::kInt;
  ln->attrs["axis"].i = -1;
  ln->attrs["epsilon"].kind = ir::Attribute::Kind::kFloat;
  ln->attrs["epsilon"].f = static_cast<float>(*eps);
  rw.remove(nodes, &gone);
  return true;
}

}  // namespace

Expected<bool> fuse_layer_norm(ir::Graph& graph, const PassOptions&) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (ir::Node* n : snapshot(graph)) {
    if (!gone.count(n) && is_op(n, "ReduceMean") && n->has_input(0) && fuse_one(graph, n, gone))
      changed = true;
  }
  return finish(graph, changed);
}

}  // namespace ingot::passes
