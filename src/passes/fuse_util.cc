#include <algorithm>
#include <cmath>
#include <type_traits>

#include "core/dispatch.h"

#include "ops/op_util.h"
#include "passes/fusion.h"
#include "passes/pass_util.h"

namespace ingot::passes::fusion {

bool is_op(const ir::Node* n, const char* op) { return n && n->domain.empty() && n->op_type == op; }
bool is_ingot_op(const ir::Node* n, const char* op) { return n && n->domain == kDomain && n->op_type == op; }

namespace {
size_t reads(const ir::Node* n, const ir::Value* v) {
  return static_cast<size_t>(std::count(n->inputs.begin(), n->inputs.end(), v));
}
}  // namespace

ir::Node* sole_consumer(const ir::Graph& g, const ir::Value* v) {
  if (!v || v->owner != &g || v->consumers.size() != 1 || is_graph_output(g, v)) return nullptr;
  ir::Node* c = v->consumers[0];
  return reads(c, v) == 1 ? c : nullptr;
}

bool consumed_only_by(const ir::Graph& g, const ir::Value* v, const std::vector<const ir::Node*>& readers) {
  if (!v || v->owner != &g || is_graph_output(g, v) || v->consumers.size() != readers.size()) return false;
  for (const ir::Node* r : readers) {
    if (std::count(v->consumers.begin(), v->consumers.end(), r) != 1 || reads(r, v) != 1) return false;
  }
  return true;
}

const Tensor* const_of(const ir::Value* v) { return v && v->constant ? &*v->constant : nullptr; }

std::optional<double> scalar_of(const ir::Value* v) {
  const Tensor* t = const_of(v);
  if (!t || t->numel() != 1 || !ops::is_float_type(t->dtype())) return std::nullopt;
  return t->get_f64(0);
}

bool near(double a, double b, double rel) { return std::fabs(a - b) <= rel * std::max(std::fabs(b), 1e-12); }

ir::Value* other_input(const ir::Node* n, const ir::Value* v) {
  if (!n || n->inputs.size() != 2 || !n->inputs[0] || !n->inputs[1]) return nullptr;
  if (n->inputs[0] == v && n->inputs[1] != v) return n->inputs[1];
  if (n->inputs[1] == v && n->inputs[0] != v) return n->inputs[0];
  return nullptr;
}

std::optional<double> scalar_operand(const ir::Node* n, ir::Value** x) {
  if (!n || n->inputs.size() != 2 || !n->inputs[0] || !n->inputs[1]) return std::nullopt;
  for (int i = 0; i < 2; ++i) {
    auto s = scalar_of(n->inputs[i]);
    if (s && !n->inputs[1 - i]->constant) {
      *x = n->inputs[1 - i];
      return s;
    }
  }
  return std::nullopt;
}

bool is_float(const ir::Value* v) {
  return v && v->type.kind == ir::ValueType::Kind::kTensor && ops::is_float_type(v->type.dtype);
}

std::optional<std::vector<int64_t>> static_dims(const ir::Value* v) {
  if (!v || !v->type.has_shape) return std::nullopt;
  std::vector<int64_t> d;
  for (const ir::Dim& x : v->type.shape) {
    if (!x.is_static()) return std::nullopt;
    d.push_back(x.value);
  }
  return d;
}

bool same_shape(const ir::Value* a, const ir::Value* b) {
  if (!a || !b || !a->type.has_shape || !b->type.has_shape || a->type.shape.size() != b->type.shape.size())
    return false;
  for (size_t i = 0; i < a->type.shape.size(); ++i) {
    const ir::Dim& x = a->type.shape[i];
    const ir::Dim& y = b->type.shape[i];
    const bool known = x.is_static() || !x.symbol.empty();
    if (!known || !(x == y)) return false;
  }
  return true;
}

std::vector<double> to_doubles(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = t.get_f64(i);
  return v;
}

Tensor from_doubles(DType dtype, Dims dims, const std::vector<double>& v) {
  Tensor t = Tensor::create(dtype, std::move(dims)).value();
  dispatch_float(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Wide = std::conditional_t<std::is_same_v<T, double>, double, float>;
    T* p = t.data<T>();
    for (size_t i = 0; i < v.size() && static_cast<int64_t>(i) < t.numel(); ++i)
      p[i] = static_cast<T>(static_cast<Wide>(v[i]));
  });
  return t;
}

std::optional<std::vector<double>> per_channel(const Tensor& c, int64_t rank, int64_t axis,
                                               int64_t channels) {
  if (!ops::is_float_type(c.dtype()) || c.rank() > rank) return std::nullopt;
  // Right-aligned against the output: every dim is 1 except, at the channel axis, `channels`.
  for (int64_t i = 0; i < c.rank(); ++i) {
    const int64_t out_axis = rank - c.rank() + i;
    const int64_t d = c.dim(i);
    if (d != 1 && !(out_axis == axis && d == channels)) return std::nullopt;
  }
  std::vector<double> v = to_doubles(c);
  if (v.size() == 1) v.assign(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) != channels) return std::nullopt;
  return v;
}

std::string origin(const ir::Node& n) { return n.op_type + ":" + n.name; }

std::vector<std::string> fused_from(const ir::Node& n) {
  if (n.has_attr("fused_from")) return n.attr_strings("fused_from");
  return {origin(n)};
}

void set_fused_from(ir::Node& n, const std::vector<std::reference_wrapper<const ir::Node>>& parts) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kStrings;
  for (const ir::Node& p : parts) {
    std::vector<std::string> f = fused_from(p);
    a.strings.insert(a.strings.end(), f.begin(), f.end());
  }
  n.attrs["fused_from"] = std::move(a);
}

Activation activation_of(const ir::Node& n) {
  return {n.attr_string("activation", ""), n.attr_float("activation_alpha", 0),
          n.attr_float("activation_beta", 0)};
}

void set_activation(ir::Node& n, const Activation& a) {
  ir::Attribute s;
  s.kind = ir::Attribute::Kind::kString;
  s.s = a.name;
  n.attrs["activation"] = s;
  ir::Attribute f;
  f.kind = ir::Attribute::Kind::kFloat;
  f.f = a.alpha;
  n.attrs["activation_alpha"] = f;
  f.f = a.beta;
  n.attrs["activation_beta"] = f;
}

std::optional<Dense> as_dense(const ir::Node& n) {
  const bool matmul = is_op(&n, "MatMul"), gemm = is_op(&n, "Gemm"), fused = is_ingot_op(&n, "FusedMatMul");
  if (!(matmul || gemm || fused) || n.inputs.size() < 2 || !n.has_input(0) || !is_float(n.inputs[0])) {
    return std::nullopt;
  }
  const Tensor* w = const_of(n.inputs[1]);
  if (!w || w->rank() != 2 || w->dtype() != n.inputs[0]->type.dtype) return std::nullopt;
  Dense d;
  d.x = n.inputs[0];
  if (matmul) {
    d.w = *w;
    d.w_value = n.inputs[1];
    return d;
  }
  if (fused) {
    if (n.has_input(3) || (n.has_input(2) && !const_of(n.inputs[2]))) return std::nullopt;
    d.w = *w;
    d.w_value = n.inputs[1];
    if (n.has_input(2)) d.bias = to_doubles(*const_of(n.inputs[2]));
    return d;
  }
  if (n.attr_int("transA", 0) != 0) return std::nullopt;
  const bool tb = n.attr_int("transB", 0) != 0;
  const double alpha = n.attr_float("alpha", 1.0f), beta = n.attr_float("beta", 1.0f);
  const int64_t K = tb ? w->dim(1) : w->dim(0), N = tb ? w->dim(0) : w->dim(1);
  if (n.has_input(2)) {
    const Tensor* c = const_of(n.inputs[2]);
    if (!c) return std::nullopt;
    auto b = per_channel(*c, 2, 1, N);
    if (!b) return std::nullopt;
    for (double& x : *b) x *= beta;
    d.bias = std::move(*b);
  }
  if (!tb && alpha == 1.0) {
    d.w = *w;
    d.w_value = n.inputs[1];
    return d;
  }
  const std::vector<double> src = to_doubles(*w);
  std::vector<double> dst(src.size());
  for (int64_t k = 0; k < K; ++k)
    for (int64_t j = 0; j < N; ++j) dst[k * N + j] = alpha * (tb ? src[j * K + k] : src[k * N + j]);
  d.w = from_doubles(w->dtype(), {K, N}, dst);
  return d;
}

ir::Node* Rewrite::add_node(const std::string& op_type, const std::string& domain,
                            const std::string& name_from, std::vector<ir::Value*> inputs,
                            std::vector<ir::Value*> outputs, int opset) {
  auto node = std::make_unique<ir::Node>();
  node->op_type = op_type;
  node->domain = domain;
  node->name = name_from;
  node->opset = opset;
  node->inputs = std::move(inputs);
  node->outputs = std::move(outputs);
  if (domain == kDomain && !g_.opsets.count(kDomain)) g_.opsets[kDomain] = kDomainVersion;
  return g_.add_node(std::move(node));
}

void Rewrite::remove(const std::vector<ir::Node*>& matched, std::unordered_set<const ir::Node*>* gone) {
  if (gone) gone->insert(matched.begin(), matched.end());
  // The new node took over the matched nodes' final outputs; rebuild_uses (in remove_nodes) makes it
  // their producer again once the old writers are gone.
  g_.remove_nodes(matched);
}

std::vector<ir::Node*> snapshot(const ir::Graph& g) {
  std::vector<ir::Node*> v;
  for (const auto& n : g.nodes()) v.push_back(n.get());
  return v;
}

Expected<bool> finish(ir::Graph& g, bool changed) {
  if (changed) INGOT_RETURN_IF_ERROR(g.topological_sort());
  return changed;
}

}  // namespace ingot::passes::fusion
