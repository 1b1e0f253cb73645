// The data movement around ingot.Attention folded into the layer as strided views.
//
// Exporters write the head split and merge of multi-head attention as chains of Reshape / Transpose /
// Squeeze / Unsqueeze / Gather / Split (torch 2.x's nn.MultiheadAttention: packed QKV (S, B, 3E) -> Reshape
// -> Unsqueeze -> Transpose -> Squeeze -> Gather q/k/v -> Reshape -> Transpose -> Reshape (B, H, S, hd); the
// output Transpose [2, 0, 1, 3] -> Reshape (S * B, E)). Each of those nodes is a copy. The layer can read
// its operands in place instead: walking back from Q, K and V through such nodes composes an affine
// strided view (offset + per-axis strides, in elements) of the tensor the chain starts from, which the
// layer reads directly (attributes q_view / k_view / v_view: the logical dims, then the offset and the
// strides of every axis but the last, which must have stride 1; K given transposed becomes K's view and
// the layer's k_transposed 0). In between, an axis may stand for several strided factors (see Layout).
// After the layer, one Transpose keeping the last axis and the Reshapes after it fold into y_view (where
// each logical output element goes) and y_shape (the shape of the tensor the layer now writes).
//
// Around the block, torch's x (B, S, E) -> Transpose [1, 0, 2] -> in-projection and out-projection ->
// Reshape (S, B, E) -> Transpose [1, 0, 2] lose their Transposes too: a projection's rows are independent,
// so the in-projection reads x as it is (the views read its output through the permutation) and the layer
// writes the out-projection's input rows in (B, S) order (one Reshape to (B, S, E) after it).
//
// A chain node folds only when every reader of its output is folded too (into this or another layer's
// view: the three Gathers of q, k, v share their input), every shape on the way is static, and a Reshape
// is expressible by strides (merging axes needs stride[i] == stride[i + 1] * size[i + 1]) by the end of
// the chain.
#include <algorithm>
#include <map>
#include <set>

#include "passes/fusion.h"
#include "passes/pass.h"
#include "passes/pass_util.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

struct View {
  std::vector<int64_t> dims, strides;
  int64_t offset = 0;
};

View contiguous(const std::vector<int64_t>& dims) {
  View v{dims, std::vector<int64_t>(dims.size(), 1), 0};
  for (size_t i = dims.size(); i-- > 1;) v.strides[i - 1] = v.strides[i] * dims[i];
  return v;
}

// The walk's intermediate form: each axis a list of (size, stride) factors, outermost first. A Reshape
// that merges axes which strides cannot merge (torch's (S, B, E) -> (S, B * H, hd) over the packed QKV) is
// still exact here; the head split after it takes the factors apart again. Only the operand at the end
// must have one stride per axis.
struct Factor {
  int64_t size, stride;
};
struct Layout {
  std::vector<std::vector<Factor>> axes;
  int64_t offset = 0;
};

Layout layout_of(const View& v) {
  Layout l{{}, v.offset};
  for (size_t i = 0; i < v.dims.size(); ++i) l.axes.push_back({{v.dims[i], v.strides[i]}});
  return l;
}

// Size-1 factors dropped, neighbours that one stride covers merged.
std::vector<Factor> merged(const std::vector<Factor>& in) {
  std::vector<Factor> out;
  for (const Factor& f : in) {
    if (f.size == 1) continue;
    if (!out.empty() && out.back().stride == f.stride * f.size) {
      out.back() = {out.back().size * f.size, f.stride};
    } else {
      out.push_back(f);
    }
  }
  return out;
}

// The same elements in row-major order regrouped into the axes `to`; factors split where an axis ends
// inside one (when its size divides the factor's).
std::optional<Layout> reshape(const Layout& l, const std::vector<int64_t>& to) {
  std::vector<Factor> all;
  for (const auto& ax : l.axes) all.insert(all.end(), ax.begin(), ax.end());
  all = merged(all);
  Layout out{{}, l.offset};
  size_t next = 0;
  for (int64_t d : to) {
    if (d <= 0) return std::nullopt;
    std::vector<Factor> ax;
    for (int64_t need = d; need > 1;) {
      if (next == all.size()) return std::nullopt;
      Factor& f = all[next];
      if (f.size <= need) {
        if (need % f.size) return std::nullopt;
        ax.push_back(f);
        need /= f.size;
        ++next;
      } else {
        if (f.size % need) return std::nullopt;
        ax.push_back({need, f.stride * (f.size / need)});
        f.size /= need;
        need = 1;
      }
    }
    out.axes.push_back(std::move(ax));
  }
  if (next != all.size()) return std::nullopt;
  return out;
}

// One stride per axis, when every axis's factors merge into one.
std::optional<View> view_of(const Layout& l) {
  View v{{}, {}, l.offset};
  for (const auto& ax : l.axes) {
    std::vector<Factor> f = merged(ax);
    if (f.size() > 1) return std::nullopt;
    v.dims.push_back(f.empty() ? 1 : f[0].size);
    v.strides.push_back(f.empty() ? 0 : f[0].stride);
  }
  return v;
}

// A node that only moves data, with static shapes: its data input. Split (the QKV split fuse_horizontal
// makes) has several outputs, the others only one.
ir::Value* movement_input(const ir::Node* n) {
  if (!n || !n->has_input(0) || n->outputs.empty() || (n->outputs.size() != 1 && !is_op(n, "Split")))
    return nullptr;
  static const char* const kOps[] = {"Reshape",  "Transpose", "Squeeze", "Unsqueeze",
                                     "Identity", "Flatten",   "Gather",  "Split"};
  if (std::none_of(std::begin(kOps), std::end(kOps), [&](const char* op) { return is_op(n, op); }))
    return nullptr;
  if (!static_dims(n->inputs[0])) return nullptr;
  for (const ir::Value* o : n->outputs)
    if (!static_dims(o)) return nullptr;
  if (is_op(n, "Gather")) {
    const Tensor* idx = n->inputs.size() == 2 ? const_of(n->inputs[1]) : nullptr;
    if (!idx || idx->rank() != 0 || (idx->dtype() != DType::kI64 && idx->dtype() != DType::kI32))
      return nullptr;
  }
  return n->inputs[0];
}

// The layout of n's output `out`, given its input's. Reshape-like nodes (Reshape, Squeeze, Unsqueeze,
// Flatten) and Split are read from their static output shapes.
// Axis i of the result is axis perm[i] of `in`.
std::optional<Layout> permute(const Layout& in, const std::vector<int64_t>& perm) {
  const int64_t r = static_cast<int64_t>(in.axes.size());
  if (static_cast<int64_t>(perm.size()) != r) return std::nullopt;
  Layout l{{}, in.offset};
  for (int64_t p : perm) {
    if (p < 0 || p >= r) return std::nullopt;
    l.axes.push_back(in.axes[p]);
  }
  return l;
}

std::vector<int64_t> perm_of(const ir::Node* transpose, size_t rank) {
  std::vector<int64_t> perm = transpose->attr_ints("perm");
  if (perm.empty())
    for (size_t i = rank; i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  return perm;
}

std::optional<Layout> apply(const ir::Node* n, const ir::Value* out, const Layout& in) {
  const int64_t r = static_cast<int64_t>(in.axes.size());
  if (is_op(n, "Identity")) return in;
  if (is_op(n, "Split")) {
    // Output k is the slice [start, start + size) of the axis, the sizes those of the outputs.
    int64_t axis = n->attr_int("axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return std::nullopt;
    int64_t start = 0;
    size_t k = 0;
    for (; k < n->outputs.size() && n->outputs[k] != out; ++k) start += (*static_dims(n->outputs[k]))[axis];
    if (k == n->outputs.size()) return std::nullopt;
    // A slice of one strided factor (an axis of several only when the slice takes whole inner ones: not
    // needed so far).
    const std::vector<Factor> f = merged(in.axes[axis]);
    const int64_t size = (*static_dims(out))[axis];
    if (f.size() > 1 || (f.empty() && size != 1)) return std::nullopt;
    Layout l = in;
    l.axes[axis] = {{size, f.empty() ? 0 : f[0].stride}};
    if (!f.empty()) l.offset += start * f[0].stride;
    return l;
  }
  if (is_op(n, "Transpose")) return permute(in, perm_of(n, in.axes.size()));
  if (is_op(n, "Gather")) {
    int64_t axis = n->attr_int("axis", 0);
    if (axis < 0) axis += r;
    if (axis < 0 || axis >= r) return std::nullopt;
    int64_t size = 1;
    for (const Factor& f : in.axes[axis]) size *= f.size;
    int64_t i = const_of(n->inputs[1])->get_i64(0);
    if (i < 0) i += size;
    if (i < 0 || i >= size) return std::nullopt;
    Layout l = in;
    // The index's digits over the axis's factors, innermost first.
    for (auto f = in.axes[axis].rbegin(); f != in.axes[axis].rend(); ++f) {
      l.offset += (i % f->size) * f->stride;
      i /= f->size;
    }
    l.axes.erase(l.axes.begin() + axis);
    return l;
  }
  return reshape(in, *static_dims(out));
}

// One operand of one layer: the movement nodes behind it, nearest first, and how many of them fold.
struct Chain {
  ir::Node* att = nullptr;
  size_t slot = 0;
  std::vector<ir::Node*> nodes;
  std::vector<ir::Value*> values;  // the output of each node on the way (a Split has others)
  size_t len = 0;
  View view;
  // K given as K^T (k_transposed = 1): its view, with the last two axes swapped, must be K's, with D at
  // stride 1 (BERT-style exports write K^T as Transpose(Reshape(k), [0, 2, 3, 1])). When no prefix of the
  // chain gives one, the layer keeps all its operands as they are (`blocked`).
  bool swap = false, blocked = false;
};

// The view of the operand through the first `len` nodes of the chain, when it ends at stride 1; the
// chain's source laid out as `start` (contiguous when null).
std::optional<View> chain_view(const Chain& c, size_t len, const Layout* start = nullptr) {
  const ir::Value* src = len ? c.nodes[len - 1]->inputs[0] : c.att->inputs[c.slot];
  Layout l = start ? *start : layout_of(contiguous(*static_dims(src)));
  for (size_t i = len; i-- > 0;) {
    auto next = apply(c.nodes[i], c.values[i], l);
    if (!next) return std::nullopt;
    l = std::move(*next);
  }
  auto v = view_of(l);
  if (!v || v->dims.size() < 2) return std::nullopt;
  if (c.swap) {
    std::swap(v->dims[v->dims.size() - 1], v->dims[v->dims.size() - 2]);
    std::swap(v->strides[v->dims.size() - 1], v->strides[v->dims.size() - 2]);
  }
  if (v->strides.back() != 1 && v->dims.back() != 1) return std::nullopt;
  v->strides.back() = 1;
  return v;
}

// The longest prefix of at most `len` nodes that gives a view.
void fit(Chain& c, size_t len) {
  for (c.len = len;; --c.len) {
    if (auto v = chain_view(c, c.len)) {
      c.view = std::move(*v);
      c.blocked = false;
      return;
    }
    if (c.len == 0) {
      c.blocked = true;
      return;
    }
  }
}

std::vector<int64_t> view_attr(const View& v) {
  std::vector<int64_t> a = v.dims;
  a.push_back(v.offset);
  a.insert(a.end(), v.strides.begin(), v.strides.end() - 1);
  return a;
}

void set_ints(ir::Node& n, const char* name, std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  n.attrs[name] = std::move(a);
}

// A layer whose rows are independent: y[..., :] = f(x[..., :]) for MatMul / FusedMatMul (no residual) by a
// constant 2-D weight, or a Gemm as as_dense reads it (no transA, a per-column C).
bool row_wise(const ir::Node* n) {
  if (!n || !n->has_input(0) || n->outputs.size() != 1) return false;
  if (is_op(n, "Gemm")) return as_dense(*n).has_value();
  if (!(is_op(n, "MatMul") || (is_ingot_op(n, "FusedMatMul") && !n->has_input(3)))) return false;
  const Tensor* w = n->inputs.size() > 1 ? const_of(n->inputs[1]) : nullptr;
  return w && w->rank() == 2;
}

Tensor shape_tensor(const std::vector<int64_t>& dims) {
  Tensor t = Tensor::create(DType::kI64, {static_cast<int64_t>(dims.size())}).value();
  std::copy(dims.begin(), dims.end(), t.data<int64_t>());
  return t;
}

bool candidate(const ir::Node* n) {
  if (!is_ingot_op(n, "Attention") || n->inputs.size() < 3) return false;
  if (n->has_attr("q_view") || n->has_attr("y_view")) return false;  // folded before
  for (size_t i = 0; i < 3; ++i)
    if (!n->has_input(i) || !static_dims(n->inputs[i])) return false;
  return static_dims(n->outputs[0]).has_value();
}

// Shortens the chains until every folded node's output is read only by folded nodes or, as the operand
// itself, by a layer whose chain for it folds at least one node.
void shorten_chains(const ir::Graph& graph, std::vector<Chain>& chains) {
  for (bool again = true; again;) {
    again = false;
    // A layer whose K^T no view reads keeps all its operands as they are.
    std::set<const ir::Node*> blocked;
    for (const Chain& c : chains)
      if (c.blocked) blocked.insert(c.att);
    for (Chain& c : chains) {
      if (blocked.count(c.att) && c.len) {
        c.len = 0;
        again = true;
      }
    }
    std::set<const ir::Node*> folded;
    std::map<std::pair<const ir::Node*, size_t>, size_t> operand_len;
    std::set<const ir::Value*> sources;  // what the layers will read
    for (const Chain& c : chains) {
      operand_len[{c.att, c.slot}] = c.len;
      for (size_t i = 0; i < c.len; ++i) folded.insert(c.nodes[i]);
      if (c.len) sources.insert(c.nodes[c.len - 1]->inputs[0]);
    }
    for (Chain& c : chains) {
      for (size_t i = 0; i < c.len; ++i) {
        bool ok = true;
        for (const ir::Value* out : c.nodes[i]->outputs) {
          ok = ok && out && !is_graph_output(graph, out) && !sources.count(out);
          for (const ir::Node* r : ok ? out->consumers : std::vector<ir::Node*>{}) {
            if (!ok) break;
            if (folded.count(r)) continue;
            ok = is_ingot_op(r, "Attention");
            for (size_t s = 0; ok && s < r->inputs.size(); ++s) {
              if (r->inputs[s] != out) continue;
              auto it = operand_len.find({r, s});
              ok = it != operand_len.end() && it->second > 0;
            }
          }
        }
        if (!ok) {
          fit(c, i);
          again = true;
          break;
        }
      }
    }
  }
}

// Before the chains, torch's x (B, S, E) -> Transpose [1, 0, 2] -> in-projection -> (S, B, 3E): the
// projection's rows are independent, so it can read x as it is and the views read its output through the
// permutation instead (when nothing else reads that output). Returns the chains' sources whose producer
// now reads x, each with the Transpose that goes.
std::map<const ir::Value*, ir::Node*> hoist_projection_transposes(const ir::Graph& graph,
                                                                  std::vector<Chain>& chains) {
  std::set<const ir::Node*> folded_nodes;
  std::map<ir::Value*, std::vector<Chain*>> by_source;
  for (Chain& c : chains) {
    if (!c.len || c.blocked) continue;
    folded_nodes.insert(c.nodes.begin(), c.nodes.begin() + c.len);
    by_source[c.nodes[c.len - 1]->inputs[0]].push_back(&c);
  }
  std::map<const ir::Value*, ir::Node*> hoisted;
  for (auto& [p, cs] : by_source) {
    ir::Node* dense = p->producer;
    if (!row_wise(dense) || dense->outputs[0] != p || is_graph_output(graph, p)) continue;
    if (!std::all_of(p->consumers.begin(), p->consumers.end(),
                     [&](const ir::Node* r) { return folded_nodes.count(r) > 0; }))
      continue;
    ir::Node* t = dense->inputs[0]->producer;
    if (!is_op(t, "Transpose") || sole_consumer(graph, dense->inputs[0]) != dense ||
        !static_dims(t->inputs[0]))
      continue;
    std::vector<int64_t> dims = *static_dims(t->inputs[0]);
    const std::vector<int64_t> perm = perm_of(t, dims.size());
    if (dims.size() < 2 || perm.size() != dims.size() || perm.back() != static_cast<int64_t>(dims.size()) - 1)
      continue;
    dims.back() = static_dims(p)->back();
    auto start = permute(layout_of(contiguous(dims)), perm);
    std::vector<View> views;
    for (const Chain* c : cs) {
      auto v = start ? chain_view(*c, c->len, &*start) : std::nullopt;
      if (!v) break;
      views.push_back(std::move(*v));
    }
    if (views.size() != cs.size() ||
        std::any_of(cs.begin(), cs.end(), [](const Chain* c) { return c->swap; }))
      continue;
    for (size_t i = 0; i < cs.size(); ++i) cs[i]->view = views[i];
    dense->inputs[0] = t->inputs[0];  // the uses are rebuilt when the folded nodes go
    p->type.shape = ir::SymShape(dims.begin(), dims.end());
    hoisted[p] = t;
  }
  return hoisted;
}

// After the layer (its output through Transpose `tr` and Reshapes to `y`, rows x E), torch's
// out-projection of those rows -> Reshape (S, B, E) -> Transpose [1, 0, 2]: the layer writes the rows in
// (B, S) order instead (*y_view), the projection keeps their order, one Reshape to (B, S, E) replaces the
// two (added by `rw`, the two appended to `dead`).
void rows_in_batch_order(const ir::Graph& graph, Rewrite& rw, const ir::Node* tr, const ir::Value* y,
                         View* y_view, std::vector<ir::Node*>& dead) {
  ir::Node* dense = sole_consumer(graph, y);
  if (!row_wise(dense) || dense->inputs[0] != y || static_dims(y)->size() != 2) return;
  ir::Node* r1 = sole_consumer(graph, dense->outputs[0]);
  if (!is_op(r1, "Reshape")) return;
  ir::Node* t2 = sole_consumer(graph, r1->outputs[0]);
  const auto rd = static_dims(r1->outputs[0]);
  const std::vector<int64_t> zd = *static_dims(y);
  if (!is_op(t2, "Transpose") || !rd || rd->size() != 3 || perm_of(t2, 3) != std::vector<int64_t>{1, 0, 2} ||
      (*rd)[0] * (*rd)[1] != zd[0] || !static_dims(t2->outputs[0]))
    return;
  // Y through the transposed tensor (tr's output), over the rows now in (d1, d0) order.
  auto l = permute(layout_of(contiguous({(*rd)[1], (*rd)[0], zd[1]})), {1, 0, 2});
  if (l) l = reshape(*l, *static_dims(tr->outputs[0]));
  if (!l) return;
  const std::vector<int64_t> perm = perm_of(tr, y_view->dims.size());
  Layout ly{std::vector<std::vector<Factor>>(perm.size()), l->offset};
  for (size_t i = 0; i < perm.size(); ++i) ly.axes[static_cast<size_t>(perm[i])] = l->axes[i];
  auto v = view_of(ly);
  if (!v || v->strides.back() != 1) return;
  *y_view = *v;
  ir::Node* r =
      rw.add_node("Reshape", "", r1->name,
                  {dense->outputs[0], rw.add_constant("shape", shape_tensor({(*rd)[1], (*rd)[0], (*rd)[2]}))},
                  {t2->outputs[0]}, r1->opset);
  set_fused_from(*r, {*r1, *t2});
  dead.push_back(r1);
  dead.push_back(t2);
}

}  // namespace

Expected<bool> fold_attention_views(ir::Graph& graph, const PassOptions&) {
  std::vector<Chain> chains;
  for (ir::Node* n : snapshot(graph)) {
    if (!candidate(n)) continue;
    for (size_t slot = 0; slot < 3; ++slot) {
      Chain c{n, slot};
      c.swap = slot == 1 && n->attr_int("k_transposed", 1) != 0;
      for (ir::Value* x = n->inputs[slot]; ir::Value* in = movement_input(x->producer); x = in) {
        c.nodes.push_back(x->producer);
        c.values.push_back(x);
      }
      fit(c, c.nodes.size());
      chains.push_back(std::move(c));
    }
  }
  shorten_chains(graph, chains);
  std::vector<ir::Node*> dead;
  Rewrite rw(graph);
  const std::map<const ir::Value*, ir::Node*> hoisted = hoist_projection_transposes(graph, chains);
  for (const auto& [p, t] : hoisted) dead.push_back(t);
  bool changed = !hoisted.empty();
  std::map<ir::Node*, std::vector<const Chain*>> by_layer;
  for (const Chain& c : chains) by_layer[c.att].push_back(&c);
  for (auto& [att, cs] : by_layer) {
    if (std::any_of(cs.begin(), cs.end(), [](const Chain* c) { return c->blocked; })) continue;
    // The output: one Transpose keeping the last axis, then Reshapes, each the only reader of the last.
    std::vector<ir::Node*> after;
    ir::Value* y = att->outputs[0];
    ir::Node* tr = sole_consumer(graph, y);
    std::optional<View> y_view;
    if (is_op(tr, "Transpose") && static_dims(tr->outputs[0])) {
      std::vector<int64_t> perm = tr->attr_ints("perm");
      const std::vector<int64_t> dims = *static_dims(y);
      if (perm.size() == dims.size() && perm.back() == static_cast<int64_t>(dims.size()) - 1) {
        // Y's axis perm[i] is the transposed tensor's axis i.
        const View t = contiguous(*static_dims(tr->outputs[0]));
        View v{dims, std::vector<int64_t>(dims.size()), 0};
        for (size_t i = 0; i < perm.size(); ++i) v.strides[static_cast<size_t>(perm[i])] = t.strides[i];
        y_view = v;
        after.push_back(tr);
        y = tr->outputs[0];
        for (ir::Node* r = sole_consumer(graph, y);
             (is_op(r, "Reshape") || is_op(r, "Flatten")) && r->inputs[0] == y && static_dims(r->outputs[0]);
             r = sole_consumer(graph, y)) {
          after.push_back(r);
          y = r->outputs[0];
        }
      }
    }
    if (y_view) rows_in_batch_order(graph, rw, tr, y, &*y_view, dead);
    bool any = y_view.has_value();
    for (const Chain* c : cs) any = any || c->len > 0 || c->swap;
    if (!any) continue;
    std::vector<ir::Value*> inputs = att->inputs;
    for (const Chain* c : cs) {
      if (!c->len) continue;
      inputs[c->slot] = c->nodes[c->len - 1]->inputs[0];
    }
    ir::Node* n = rw.add_node("Attention", kDomain, att->name, inputs, {y}, kDomainVersion);
    n->attrs = att->attrs;
    static const char* const kNames[] = {"q_view", "k_view", "v_view"};
    for (const Chain* c : cs) {
      if (c->len || c->swap) set_ints(*n, kNames[c->slot], view_attr(c->view));
      if (c->swap) n->attrs["k_transposed"].i = 0;
    }
    if (y_view) {
      set_ints(*n, "y_view", view_attr(*y_view));
      set_ints(*n, "y_shape", *static_dims(y));
    }
    // fused_from in graph order: the operands' chains, the layer, the output's nodes.
    std::vector<std::reference_wrapper<const ir::Node>> parts;
    std::set<const ir::Node*> listed;  // the operands' chains share nodes (the Squeeze before q / k / v)
    for (const Chain* c : cs) {
      if (!c->len) continue;
      auto h = hoisted.find(c->nodes[c->len - 1]->inputs[0]);
      if (h != hoisted.end() && listed.insert(h->second).second) parts.emplace_back(*h->second);
    }
    for (const Chain* c : cs)
      for (size_t i = c->len; i-- > 0;)
        if (listed.insert(c->nodes[i]).second) parts.emplace_back(*c->nodes[i]);
    parts.emplace_back(*att);
    for (const ir::Node* a : after) parts.emplace_back(*a);
    set_fused_from(*n, parts);
    dead.push_back(att);
    dead.insert(dead.end(), after.begin(), after.end());
    for (const Chain* c : cs) dead.insert(dead.end(), c->nodes.begin(), c->nodes.begin() + c->len);
    changed = true;
  }
  // Chains of different layers share nodes (the Squeeze before the q / k / v Gathers).
  std::sort(dead.begin(), dead.end());
  dead.erase(std::unique(dead.begin(), dead.end()), dead.end());
  rw.remove(dead, nullptr);
  return finish(graph, changed);
}

}  // namespace ingot::passes
