// Horizontal fusion: sibling layers that read the same input with constant weights and the same
// attributes and epilogue (Q/K/V projections, parallel 1x1 convs) become one wider layer whose
// output a Split hands back to the branches:
//   MatMul / Gemm / FusedMatMul(X, W_i, b_i)  => FusedMatMul(X, [W_1 .. W_n], [b_1 .. b_n]) -> Split(last
//   axis) 1x1 Conv / FusedConv(X, W_i, B_i)         => FusedConv(X, [W_1; ..; W_n], [B_1; ..; B_n]) ->
//   Split(axis 1)
// It runs after the epilogue fusion, so each branch's bias is already in its layer and is
// concatenated here; branches with a residual input or different activations stay apart.
#include <map>

#include "passes/fusion.h"
#include "passes/pass.h"
#include "passes/pass_util.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

struct Branch {
  ir::Node* node = nullptr;
  Tensor w;  // dense: [K, N]; conv: [M, C, 1, ...]
  std::optional<std::vector<double>> bias;
  int64_t width = 0;  // N or M
};

// The grouping key of a candidate (empty when it is none) and its branch.
std::string candidate(const ir::Node& n, Branch* b) {
  b->node = const_cast<ir::Node*>(&n);
  const Activation act = activation_of(n);
  const std::string act_key = act.name + "/" + std::to_string(act.alpha) + "/" + std::to_string(act.beta);
  if (auto d = as_dense(n)) {
    b->w = d->w;
    b->bias = d->bias;
    b->width = d->w.dim(1);
    return "dense:" + std::string(dtype_name(d->w.dtype())) + ":" + std::to_string(d->w.dim(0)) + ":" +
           act_key;
  }
  const bool fused = is_ingot_op(&n, "FusedConv");
  if (!(is_op(&n, "Conv") || fused) || (fused && n.has_input(3)) || !n.has_input(0) || !is_float(n.inputs[0]))
    return "";
  const Tensor* w = const_of(n.inputs.size() > 1 ? n.inputs[1] : nullptr);
  if (!w || w->rank() < 3 || n.attr_int("group", 1) != 1 || w->dtype() != n.inputs[0]->type.dtype) return "";
  for (int64_t i = 2; i < w->rank(); ++i)
    if (w->dim(i) != 1) return "";
  if (n.has_input(2)) {
    const Tensor* bias = const_of(n.inputs[2]);
    if (!bias) return "";
    b->bias = to_doubles(*bias);
  }
  b->w = *w;
  b->width = w->dim(0);
  ir::Node window;  // the attributes that shape the conv, without the epilogue's and the provenance
  window.attrs = n.attrs;
  for (const char* a : {"fused_from", "activation", "activation_alpha", "activation_beta"})
    window.attrs.erase(a);
  std::string key;
  if (!attrs_key(window, &key)) return "";
  return "conv:" + std::string(dtype_name(w->dtype())) + ":" + std::to_string(w->dim(1)) + ":" +
         std::to_string(w->rank()) + ":" + key + ":" + act_key;
}

void merge(ir::Graph& g, const std::vector<Branch>& branches, bool conv,
           std::unordered_set<const ir::Node*>& gone) {
  const Branch& first = branches.front();
  const DType dt = first.w.dtype();
  int64_t total = 0;
  bool any_bias = false;
  for (const Branch& b : branches) {
    total += b.width;
    any_bias |= b.bias.has_value();
  }
  // Dense weights concatenate along columns ([K, N]); conv weights along output channels (rows).
  const int64_t rows = conv ? total : first.w.dim(0);
  const int64_t cols = conv ? first.w.numel() / first.w.dim(0) : total;
  std::vector<double> w(static_cast<size_t>(rows * cols)), bias;
  int64_t offset = 0;
  for (const Branch& b : branches) {
    const std::vector<double> src = to_doubles(b.w);
    const int64_t r = conv ? b.width : rows, c = conv ? cols : b.width;
    for (int64_t i = 0; i < r; ++i)
      for (int64_t j = 0; j < c; ++j) {
        const int64_t di = conv ? offset + i : i, dj = conv ? j : offset + j;
        w[di * cols + dj] = src[i * c + j];
      }
    if (any_bias) {
      const std::vector<double> bb =
          b.bias ? *b.bias : std::vector<double>(static_cast<size_t>(b.width), 0.0);
      bias.insert(bias.end(), bb.begin(), bb.end());
    }
    offset += b.width;
  }
  Dims w_dims = first.w.dims();
  if (conv)
    w_dims[0] = total;
  else
    w_dims[1] = total;
  Rewrite rw(g);
  ir::Node* head = first.node;
  ir::Value* x = head->inputs[0];
  std::vector<ir::Value*> inputs{x,
                                 rw.add_constant(head->name + "_merged_weight", from_doubles(dt, w_dims, w))};
  if (any_bias)
    inputs.push_back(rw.add_constant(head->name + "_merged_bias", from_doubles(dt, {total}, bias)));
  ir::Value* wide = g.add_value(g.unique_name(head->name + "_merged")).value();
  const ir::Value* y0 = head->outputs[0];
  wide->type = y0->type;
  const int64_t axis = conv ? 1 : static_cast<int64_t>(y0->type.shape.size()) - 1;
  if (wide->type.has_shape && axis >= 0) wide->type.shape[axis] = total;
  ir::Node* layer = rw.add_node(conv ? "FusedConv" : "FusedMatMul", kDomain, head->name + "_merged", inputs,
                                {wide}, kDomainVersion);
  if (conv) layer->attrs = head->attrs;
  std::vector<std::reference_wrapper<const ir::Node>> parts;
  for (const Branch& b : branches) parts.emplace_back(*b.node);
  set_fused_from(*layer, parts);
  set_activation(*layer, activation_of(*head));
  std::vector<int64_t> sizes;
  std::vector<ir::Value*> outs;
  std::vector<ir::Node*> old;
  for (const Branch& b : branches) {
    sizes.push_back(b.width);
    outs.push_back(b.node->outputs[0]);
    old.push_back(b.node);
  }
  // Split takes its sizes as an input from opset 13; import moved older opsets' attribute there too.
  const int opset = g.opsets.count("") ? g.opsets.at("") : 13;
  ir::Node* split = rw.add_node(
      "Split", "", head->name + "_split",
      {wide, rw.add_constant(head->name + "_split_sizes",
                             Tensor::from_vector<int64_t>({static_cast<int64_t>(sizes.size())}, sizes))},
      outs, opset);
  split->attrs["axis"].kind = ir::Attribute::Kind::kInt;
  split->attrs["axis"].i = conv ? 1 : -1;
  if (opset < 13) split->inputs_from_attrs["split"] = 1;
  rw.remove(old, &gone);
}

}  // namespace

Expected<bool> fuse_horizontal(ir::Graph& graph, const PassOptions&) {
  // (input, key) -> branches, in graph order.
  std::map<std::pair<const ir::Value*, std::string>, std::vector<Branch>> groups;
  std::vector<std::pair<const ir::Value*, std::string>> order;
  for (ir::Node* n : snapshot(graph)) {
    Branch b;
    const std::string key = candidate(*n, &b);
    if (key.empty() || !n->has_output(0) || n->outputs.size() != 1) continue;
    auto k = std::make_pair(static_cast<const ir::Value*>(n->inputs[0]), key);
    if (!groups.count(k)) order.push_back(k);
    groups[k].push_back(std::move(b));
  }
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  for (const auto& k : order) {
    const std::vector<Branch>& branches = groups[k];
    if (branches.size() < 2) continue;
    merge(graph, branches, k.second.rfind("conv:", 0) == 0, gone);
    changed = true;
  }
  return finish(graph, changed);
}

}  // namespace ingot::passes
