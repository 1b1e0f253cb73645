// Vertical fusion of a Conv / MatMul / Gemm with constant weights and the elementwise ops after it,
// in TensorRT's order: bias Add, then residual Add, then activation —
//   y = act(layer(X) + bias + Z)  => ingot.FusedConv / ingot.FusedMatMul
// bias: a constant Add varying along the output channels only (axis 1 for Conv, the last axis for
// MatMul), folded into the layer's bias. Z: a non-constant Add operand of exactly the output's shape.
// act: Relu, LeakyRelu, Clip (Relu6), Sigmoid, HardSigmoid, HardSwish, Tanh, Gelu (either form, after
// fuse_gelu), and SiLU written x * Sigmoid(x). Every step is optional; nothing fused, nothing changes.
#include <limits>

#include "passes/fusion.h"
#include "passes/pass.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

// The activation op reading `y`, as a fused activation: appends its nodes and returns the value it writes.
ir::Value* match_activation(const ir::Graph& g, ir::Value* y, Activation* act,
                            std::vector<ir::Node*>& nodes) {
  // SiLU: y -> Sigmoid -> Mul(y, sigmoid(y)); y has exactly these two readers.
  if (y->consumers.size() == 2) {
    for (ir::Node* s : y->consumers) {
      if (!is_op(s, "Sigmoid")) continue;
      ir::Node* m = sole_consumer(g, s->outputs[0]);
      if (is_op(m, "Mul") && other_input(m, s->outputs[0]) == y && consumed_only_by(g, y, {s, m})) {
        *act = {"Silu", 0, 0};
        nodes.insert(nodes.end(), {s, m});
        return m->outputs[0];
      }
    }
    return nullptr;
  }
  ir::Node* n = sole_consumer(g, y);
  if (!n || n->inputs.empty() || n->inputs[0] != y || !n->has_output(0)) return nullptr;
  const std::string& op = n->op_type;
  if (!n->domain.empty()) return nullptr;
  if (op == "Relu" || op == "Sigmoid" || op == "Tanh" || op == "HardSwish") {
    *act = {op, 0, 0};
  } else if (op == "LeakyRelu") {
    *act = {op, n->attr_float("alpha", 0.01f), 0};
  } else if (op == "HardSigmoid") {
    *act = {op, n->attr_float("alpha", 0.2f), n->attr_float("beta", 0.5f)};
  } else if (op == "Gelu") {
    const std::string a = n->attr_string("approximate", "none");
    if (a != "none" && a != "tanh") return nullptr;
    *act = {a == "none" ? "Gelu" : "GeluTanh", 0, 0};
  } else if (op == "Clip") {
    auto bound = [&](size_t i, float dflt) -> std::optional<float> {
      if (!n->has_input(i)) return dflt;
      auto s = scalar_of(n->inputs[i]);
      return s ? std::optional<float>(static_cast<float>(*s)) : std::nullopt;
    };
    auto lo = bound(1, std::numeric_limits<float>::lowest()),
         hi = bound(2, std::numeric_limits<float>::max());
    if (!lo || !hi) return nullptr;
    *act = {op, *lo, *hi};
  } else {
    return nullptr;
  }
  nodes.push_back(n);
  return n->outputs[0];
}

struct Head {
  bool conv = false;
  ir::Value* x = nullptr;
  ir::Value* w = nullptr;                   // existing weight value, when usable unchanged
  std::optional<Tensor> new_w;              // folded weight (Gemm)
  ir::Value* b = nullptr;                   // existing bias value (may be non-constant for Conv)
  std::optional<std::vector<double>> bias;  // constant bias values, when known
  int64_t channels = 0, channel_axis = 0;
  DType dtype = DType::kUndefined;
};

std::optional<Head> head_of(const ir::Node& n) {
  Head h;
  const bool fused_conv = is_ingot_op(&n, "FusedConv");
  if (is_op(&n, "Conv") || fused_conv) {
    if (fused_conv && (n.has_input(3) || !activation_of(n).name.empty())) return std::nullopt;
    const Tensor* w = const_of(n.inputs.size() > 1 ? n.inputs[1] : nullptr);
    if (!n.has_input(0) || !is_float(n.inputs[0]) || !w || w->rank() < 3) return std::nullopt;
    h.conv = true;
    h.x = n.inputs[0];
    h.w = n.inputs[1];
    h.channels = w->dim(0);
    h.channel_axis = 1;
    if (n.has_input(2)) {
      h.b = n.inputs[2];
      if (const Tensor* b = const_of(h.b)) h.bias = to_doubles(*b);
    }
  } else {
    if (is_ingot_op(&n, "FusedMatMul") && !activation_of(n).name.empty()) return std::nullopt;
    auto d = as_dense(n);
    if (!d) return std::nullopt;
    h.x = d->x;
    h.w = d->w_value;
    if (!d->w_value) h.new_w = d->w;
    h.bias = d->bias;
    // Gemm's C may be [1, N] or scaled by beta: only a FusedMatMul's bias is usable as is.
    if (is_ingot_op(&n, "FusedMatMul") && n.has_input(2)) h.b = n.inputs[2];
    h.channels = d->w.dim(1);
    h.channel_axis = -1;
  }
  h.dtype = h.x->type.dtype;
  return h;
}

// `regroup_only`: only where a residual Add sits behind a Reshape (below).
bool fuse_one(ir::Graph& g, ir::Node* layer, std::unordered_set<const ir::Node*>& gone, bool regroup_only) {
  auto h = head_of(*layer);
  if (!h || !layer->has_output(0)) return false;
  ir::Value* y = layer->outputs[0];
  std::vector<ir::Node*> nodes;
  bool bias_changed = false;
  ir::Value* z = nullptr;
  Activation act;
  // Bias Add: needs the output's rank (not its dims) to see which axis a constant varies along.
  if (ir::Node* add = sole_consumer(g, y); is_op(add, "Add") && y->type.has_shape && (!h->b || h->bias)) {
    const Tensor* c = const_of(other_input(add, y));
    const int64_t rank = static_cast<int64_t>(y->type.shape.size());
    auto vals = c && c->dtype() == h->dtype
                    ? per_channel(*c, rank, h->channel_axis < 0 ? rank - 1 : h->channel_axis, h->channels)
                    : std::nullopt;
    // c has at most y's rank and is 1 on every axis but the channel one, where it has y's size: the
    // Add keeps y's shape, known or not.
    if (vals) {
      if (!h->bias) h->bias = std::vector<double>(static_cast<size_t>(h->channels), 0.0);
      for (size_t i = 0; i < vals->size(); ++i) (*h->bias)[i] += (*vals)[i];
      bias_changed = true;
      nodes.push_back(add);
      y = add->outputs[0];
    }
  }
  // Residual Add behind a Reshape that keeps the last axis (a matmul's rows regrouped, e.g. torch's
  // attention out-projection (B * S, E) -> (B, S, E) once fold_attention_views wrote its rows in batch
  // order): the Add joins the layer, Z reshaped to the layer's output, and the Reshape moves after it.
  ir::Node* regroup = nullptr;
  if (ir::Node* r = sole_consumer(g, y); !h->conv && is_op(r, "Reshape") && r->has_output(0)) {
    const auto yd = static_dims(y), rd = static_dims(r->outputs[0]);
    ir::Node* add = sole_consumer(g, r->outputs[0]);
    ir::Value* other = is_op(add, "Add") ? other_input(add, r->outputs[0]) : nullptr;
    if (yd && rd && !yd->empty() && !rd->empty() && yd->back() == rd->back() && other && !other->constant &&
        same_shape(other, r->outputs[0]) && same_shape(add->outputs[0], r->outputs[0]) &&
        other->type.dtype == h->dtype) {
      regroup = r;
      z = other;
      nodes.insert(nodes.end(), {r, add});
      y = add->outputs[0];
    }
  }
  if (regroup_only && !regroup) return false;
  // Residual Add.
  if (ir::Node* add = sole_consumer(g, y); !regroup && is_op(add, "Add")) {
    ir::Value* other = other_input(add, y);
    if (other && !other->constant && same_shape(other, y) && same_shape(add->outputs[0], y) &&
        other->type.dtype == h->dtype) {
      z = other;
      nodes.push_back(add);
      y = add->outputs[0];
    }
  }
  if (ir::Value* a = match_activation(g, y, &act, nodes)) y = a;
  if (nodes.empty()) return false;
  Rewrite rw(g);
  ir::Value* w = h->w ? h->w : rw.add_constant(layer->name + "_weight", *h->new_w);
  ir::Value* b = bias_changed || (!h->b && h->bias)
                     ? rw.add_constant(layer->name + "_bias", from_doubles(h->dtype, {h->channels}, *h->bias))
                     : h->b;
  ir::Value* out = y;
  if (regroup) {  // the layer writes its own shape (y_layer), then the Reshape regroups it into y
    const ir::Value* y_layer = regroup->inputs[0];
    ir::Value* z_rows = g.add_value(g.unique_name(z->name() + "_rows")).value();
    z_rows->type = z->type;
    z_rows->type.shape = y_layer->type.shape;
    const auto yd = static_dims(y_layer);
    rw.add_node("Reshape", "", regroup->name + "_residual",
                {z, rw.add_constant(regroup->name + "_residual_shape",
                                    Tensor::from_vector<int64_t>({static_cast<int64_t>(yd->size())}, *yd))},
                {z_rows}, regroup->opset);
    z = z_rows;
    out = g.add_value(g.unique_name(layer->name + "_rows")).value();
    out->type = y->type;
    out->type.shape = y_layer->type.shape;
    rw.add_node("Reshape", "", regroup->name, {out, regroup->inputs[1]}, {y}, regroup->opset)->attrs =
        regroup->attrs;
  }
  ir::Node* fused = rw.add_node(h->conv ? "FusedConv" : "FusedMatMul", kDomain, layer->name, {h->x, w, b, z},
                                {out}, kDomainVersion);
  if (h->conv) fused->attrs = layer->attrs;
  while (!fused->inputs.empty() && !fused->inputs.back()) fused->inputs.pop_back();
  std::vector<std::reference_wrapper<const ir::Node>> parts{*layer};
  for (const ir::Node* n : nodes)
    if (n != regroup) parts.emplace_back(*n);  // the Reshape is not fused: it moves after the layer
  set_fused_from(*fused, parts);
  set_activation(*fused, act);
  nodes.push_back(layer);
  rw.remove(nodes, &gone);
  return true;
}

Expected<bool> fuse_all(ir::Graph& graph, bool regroup_only) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (ir::Node* n : snapshot(graph)) {
    if (!gone.count(n) && fuse_one(graph, n, gone, regroup_only)) changed = true;
  }
  return finish(graph, changed);
}

}  // namespace

Expected<bool> fuse_epilogue(ir::Graph& graph, const PassOptions&) { return fuse_all(graph, false); }

Expected<bool> fuse_epilogue_after_views(ir::Graph& graph, const PassOptions&) {
  return fuse_all(graph, true);
}

}  // namespace ingot::passes
