// Matching and rewriting helpers shared by the layer fusion passes (src/passes/fuse_*.cc).
//
// A fusion pass walks a snapshot of the nodes, matches a pattern that reads like the graph it
// replaces, and rewrites it with Rewrite: the new node takes over the pattern's final value (so a
// graph output keeps its name) and the matched nodes go. Every intermediate value of a pattern
// must have no reader outside it and must not be a graph output (sole_consumer checks both).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::passes::fusion {

// Domain and opset of ingot's fused layers (ingot.FusedConv, ingot.FusedMatMul, ingot.Attention).
inline constexpr const char* kDomain = "ingot";
inline constexpr int kDomainVersion = 1;

// `n` is op `op` of the default ONNX domain.
bool is_op(const ir::Node* n, const char* op);
bool is_ingot_op(const ir::Node* n, const char* op);

// The one node reading `v` (reading it once), when nothing else reads it and it is not a graph output.
ir::Node* sole_consumer(const ir::Graph& g, const ir::Value* v);
// `v` is read by exactly the given nodes (each once) and is not a graph output.
bool consumed_only_by(const ir::Graph& g, const ir::Value* v, const std::vector<const ir::Node*>& readers);

// The build-time value of `v`, or nullptr.
const Tensor* const_of(const ir::Value* v);
// The value of a one-element float constant.
std::optional<double> scalar_of(const ir::Value* v);
bool near(double a, double b, double rel = 1e-4);
// The input of binary node `n` that is not `v`, when `n` reads `v` as exactly one of its two inputs.
ir::Value* other_input(const ir::Node* n, const ir::Value* v);
// For a binary node with one one-element constant input: that scalar, and the other input in *x.
std::optional<double> scalar_operand(const ir::Node* n, ir::Value** x);

bool is_float(const ir::Value* v);
// v's dims when all of them are known numbers.
std::optional<std::vector<int64_t>> static_dims(const ir::Value* v);
// Both shapes fully known to be equal: same rank, each dim static and equal or the same named symbol.
bool same_shape(const ir::Value* a, const ir::Value* b);

// Float tensors as doubles and back.
std::vector<double> to_doubles(const Tensor& t);
Tensor from_doubles(DType dtype, Dims dims, const std::vector<double>& v);

// The values of constant `c` as one per channel of a tensor of rank `rank` whose channel axis is `axis`
// holding `channels` values: c broadcasts to that tensor and varies along `axis` only. Else nullopt.
std::optional<std::vector<double>> per_channel(const Tensor& c, int64_t rank, int64_t axis, int64_t channels);

// "OpType:name", and the list a fused node keeps in its `fused_from` attribute (its own origin when none).
std::string origin(const ir::Node& n);
std::vector<std::string> fused_from(const ir::Node& n);
// Sets n's `fused_from` to the concatenated lists of `parts`, in order.
void set_fused_from(ir::Node& n, const std::vector<std::reference_wrapper<const ir::Node>>& parts);

// The epilogue attributes of a fused layer: activation name, alpha, beta.
struct Activation {
  std::string
      name;  // "" none, Relu, LeakyRelu, Clip, Sigmoid, HardSigmoid, HardSwish, Silu, Gelu, GeluTanh, Tanh
  float alpha = 0, beta = 0;
};
Activation activation_of(const ir::Node& n);
void set_activation(ir::Node& n, const Activation& a);

// A dense layer y = x W + bias with a constant W [K, N] (MatMul, Gemm with transA = 0 and a
// per-column C, or FusedMatMul without residual): Gemm's transB / alpha / beta folded in.
struct Dense {
  ir::Value* x = nullptr;
  ir::Value* w_value = nullptr;  // W's value when usable unchanged, else null (w holds the folded weight)
  Tensor w;
  std::optional<std::vector<double>> bias;
};
std::optional<Dense> as_dense(const ir::Node& n);

// One rewrite: the matched nodes go, a new node takes their place.
class Rewrite {
 public:
  explicit Rewrite(ir::Graph& g) : g_(g) {}
  ir::Graph& graph() { return g_; }
  // A node named after `name_from` (made unique) writing `outputs`, which the matched nodes wrote.
  ir::Node* add_node(const std::string& op_type, const std::string& domain, const std::string& name_from,
                     std::vector<ir::Value*> inputs, std::vector<ir::Value*> outputs, int opset);
  ir::Value* add_constant(const std::string& prefix, Tensor t) {
    return g_.add_constant(prefix, std::move(t));
  }
  // Removes `matched` (recording them in `gone`, for passes iterating over a snapshot).
  void remove(const std::vector<ir::Node*>& matched, std::unordered_set<const ir::Node*>* gone);

 private:
  ir::Graph& g_;
};

// A snapshot of the graph's nodes, for passes that rewrite while they walk.
std::vector<ir::Node*> snapshot(const ir::Graph& g);
// Restores producer-before-consumer order after the rewrites of a pass.
Expected<bool> finish(ir::Graph& g, bool changed);

}  // namespace ingot::passes::fusion
