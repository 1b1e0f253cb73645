#include "ir/graph.h"

#include <algorithm>
#include <functional>
#include <unordered_set>

namespace ingot::ir {

SymShape to_sym_shape(const Dims& dims) { return SymShape(dims.begin(), dims.end()); }

bool is_static(const SymShape& s) {
  return std::all_of(s.begin(), s.end(), [](const Dim& d) { return d.is_static(); });
}

Dims to_dims(const SymShape& s) {
  Dims d;
  d.reserve(s.size());
  for (const Dim& x : s) d.push_back(x.value);
  return d;
}

std::string shape_to_string(const SymShape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) r += ",";
    r += s[i].is_static() ? std::to_string(s[i].value) : (s[i].symbol.empty() ? "?" : s[i].symbol);
  }
  return r + "]";
}

std::string ValueType::to_string() const {
  switch (kind) {
    case Kind::kUnknown: return "unknown";
    case Kind::kTensor: return std::string(dtype_name(dtype)) + (has_shape ? shape_to_string(shape) : "[?]");
    case Kind::kSequence: return "seq(" + (elem ? elem->to_string() : "?") + ")";
    case Kind::kOptional: return "optional(" + (elem ? elem->to_string() : "?") + ")";
  }
  return "?";
}

const Attribute* Node::attr(const std::string& n) const {
  auto it = attrs.find(n);
  return it == attrs.end() ? nullptr : &it->second;
}
int64_t Node::attr_int(const std::string& n, int64_t dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kInt ? a->i : dflt;
}
float Node::attr_float(const std::string& n, float dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kFloat ? a->f : dflt;
}
std::string Node::attr_string(const std::string& n, const std::string& dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kString ? a->s : dflt;
}
std::vector<int64_t> Node::attr_ints(const std::string& n, std::vector<int64_t> dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kInts ? a->ints : dflt;
}
std::vector<float> Node::attr_floats(const std::string& n, std::vector<float> dflt) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kFloats ? a->floats : dflt;
}
std::vector<std::string> Node::attr_strings(const std::string& n) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kStrings ? a->strings : std::vector<std::string>{};
}
const Tensor* Node::attr_tensor(const std::string& n) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kTensor ? &a->t : nullptr;
}
const Graph* Node::attr_graph(const std::string& n) const {
  const Attribute* a = attr(n);
  return a && a->kind == Attribute::Kind::kGraph ? a->g.get() : nullptr;
}

std::string Node::describe() const {
  return "node '" + name + "' (" + (domain.empty() ? "" : domain + ".") + op_type + ")";
}

Value* Graph::find_local(const std::string& n) const {
  auto it = values_.find(n);
  return it == values_.end() ? nullptr : it->second.get();
}

Value* Graph::find(const std::string& n) const {
  for (const Graph* g = this; g; g = g->parent) {
    if (Value* v = g->find_local(n)) return v;
  }
  return nullptr;
}

Expected<Value*> Graph::add_value(const std::string& n) {
  if (values_.count(n)) return invalid_argument("tensor name '" + n + "' is defined twice");
  auto v = std::make_unique<Value>(n);
  v->owner = this;
  Value* p = v.get();
  values_.emplace(n, std::move(v));
  return p;
}

std::string Graph::unique_name(const std::string& prefix) {
  for (;;) {
    std::string n = prefix + "__" + std::to_string(name_counter_++);
    if (!find(n)) return n;
  }
}

Value* Graph::add_constant(const std::string& prefix, Tensor t) {
  Value* v = add_value(unique_name(prefix)).value();
  v->type = ValueType::tensor(t.dtype(), to_sym_shape(t.dims()));
  v->constant = std::move(t);
  return v;
}

Node* Graph::add_node(std::unique_ptr<Node> node) {
  Node* n = node.get();
  for (Value* v : n->inputs)
    if (v) v->consumers.push_back(n);
  for (Value* v : n->outputs)
    if (v) v->producer = n;
  nodes_.push_back(std::move(node));
  return n;
}

void Graph::rebuild_uses() {
  for (auto& [_, v] : values_) {
    v->consumers.clear();
    v->producer = nullptr;
  }
  for (auto& n : nodes_) {
    for (Value* v : n->inputs)
      if (v) v->consumers.push_back(n.get());
    for (Value* v : n->outputs)
      if (v) v->producer = n.get();
  }
}

void Graph::remove_nodes(const std::vector<Node*>& dead) {
  std::unordered_set<Node*> set(dead.begin(), dead.end());
  nodes_.erase(std::remove_if(nodes_.begin(), nodes_.end(), [&](auto& n) { return set.count(n.get()) != 0; }),
               nodes_.end());
  rebuild_uses();
}

void Graph::replace_all_uses(Value* from, Value* to) {
  for (auto& n : nodes_)
    for (Value*& v : n->inputs)
      if (v == from) v = to;
  for (Value*& v : outputs)
    if (v == from) v = to;
  rebuild_uses();
}

namespace {

// Values of `g`'s ancestors that a subgraph of `n` reads (implicit inputs).
void collect_outer_reads(const Graph& sub, std::vector<Value*>& out) {
  for (const auto& sn : sub.nodes()) {
    for (Value* v : sn->inputs)
      if (v && v->owner != &sub) out.push_back(v);
    for (const auto& [_, a] : sn->attrs) {
      if (a.g) collect_outer_reads(*a.g, out);
      for (const auto& gg : a.graphs) collect_outer_reads(*gg, out);
    }
  }
}

}  // namespace

Status Graph::topological_sort() {
  std::unordered_map<const Value*, Node*> producer;
  for (auto& n : nodes_)
    for (Value* v : n->outputs)
      if (v) producer[v] = n.get();
  std::unordered_map<Node*, std::vector<Node*>> deps;
  for (auto& n : nodes_) {
    std::vector<Value*> reads(n->inputs.begin(), n->inputs.end());
    for (const auto& [_, a] : n->attrs) {
      if (a.g) collect_outer_reads(*a.g, reads);
      for (const auto& gg : a.graphs) collect_outer_reads(*gg, reads);
    }
    for (Value* v : reads) {
      if (!v) continue;
      auto it = producer.find(v);
      if (it != producer.end()) deps[n.get()].push_back(it->second);
    }
  }
  // Iterative DFS keeping the original order where possible.
  enum Mark { kNew, kActive, kDone };
  std::unordered_map<Node*, Mark> mark;
  std::vector<Node*> order;
  for (auto& root : nodes_) {
    if (mark[root.get()] != kNew) continue;
    std::vector<std::pair<Node*, size_t>> stack{{root.get(), 0}};
    mark[root.get()] = kActive;
    while (!stack.empty()) {
      auto& [n, idx] = stack.back();
      auto& d = deps[n];
      if (idx < d.size()) {
        Node* m = d[idx++];
        if (mark[m] == kActive) return invalid_argument("the graph has a cycle through " + m->describe());
        if (mark[m] == kNew) {
          mark[m] = kActive;
          stack.push_back({m, 0});
        }
      } else {
        mark[n] = kDone;
        order.push_back(n);
        stack.pop_back();
      }
    }
  }
  std::unordered_map<Node*, size_t> pos;
  for (size_t i = 0; i < order.size(); ++i) pos[order[i]] = i;
  std::sort(nodes_.begin(), nodes_.end(), [&](auto& a, auto& b) { return pos[a.get()] < pos[b.get()]; });
  return Status::Ok();
}

}  // namespace ingot::ir
