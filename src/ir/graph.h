// ingot's graph IR: a Graph owns Values (edges) and Nodes (ops). Exists only in the builder.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "ingot/status.h"
#include "ingot/tensor.h"

namespace ingot::ir {

// One dimension: a known size (value >= 0), or unknown (-1) possibly named by a symbol ("batch").
struct Dim {
  int64_t value = -1;
  std::string symbol;
  Dim() = default;
  Dim(int64_t v) : value(v) {}  // NOLINT(google-explicit-constructor)
  static Dim sym(std::string s) {
    Dim d;
    d.symbol = std::move(s);
    return d;
  }
  bool is_static() const { return value >= 0; }
  bool operator==(const Dim& o) const { return value == o.value && (value >= 0 || symbol == o.symbol); }
};
using SymShape = std::vector<Dim>;

SymShape to_sym_shape(const Dims& dims);
bool is_static(const SymShape& s);
Dims to_dims(const SymShape& s);                 // requires is_static
std::string shape_to_string(const SymShape& s);  // "[batch,3,224,224]", "?" for unknown

struct ValueType {
  enum class Kind { kUnknown, kTensor, kSequence, kOptional };
  Kind kind = Kind::kUnknown;
  DType dtype = DType::kUndefined;  // tensors
  bool has_shape = false;           // rank known
  SymShape shape;
  std::shared_ptr<ValueType> elem;  // sequence / optional element

  static ValueType tensor(DType dtype) {
    ValueType t;
    t.kind = Kind::kTensor;
    t.dtype = dtype;
    return t;
  }
  static ValueType tensor(DType dtype, SymShape shape) {
    ValueType t = tensor(dtype);
    t.has_shape = true;
    t.shape = std::move(shape);
    return t;
  }
  std::string to_string() const;
};

class Graph;
class Node;

struct Attribute {
  enum class Kind {
    kUndefined,
    kFloat,
    kInt,
    kString,
    kTensor,
    kGraph,
    kFloats,
    kInts,
    kStrings,
    kTensors,
    kGraphs,
    kTypeProto
  };
  Kind kind = Kind::kUndefined;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
  ValueType type;  // kTypeProto
};

class Value {
 public:
  explicit Value(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  ValueType type;
  std::optional<Tensor> constant;  // initializer, Constant output, or folded value
  Node* producer = nullptr;
  std::vector<Node*> consumers;
  Graph* owner = nullptr;

 private:
  std::string name_;
};

class Node {
 public:
  std::string name;
  std::string op_type;
  std::string domain;           // "" for the default ONNX domain
  int opset = 0;                // version of the node's domain imported by the model
  std::vector<Value*> inputs;   // nullptr for an omitted optional input
  std::vector<Value*> outputs;  // nullptr for an omitted optional output
  std::map<std::string, Attribute> attrs;
  // Attributes that import moved to constant inputs (older opsets), so export can move them back.
  std::map<std::string, size_t> inputs_from_attrs;

  bool has_attr(const std::string& n) const { return attrs.count(n) != 0; }
  const Attribute* attr(const std::string& n) const;
  int64_t attr_int(const std::string& n, int64_t dflt) const;
  float attr_float(const std::string& n, float dflt) const;
  std::string attr_string(const std::string& n, const std::string& dflt) const;
  std::vector<int64_t> attr_ints(const std::string& n, std::vector<int64_t> dflt = {}) const;
  std::vector<float> attr_floats(const std::string& n, std::vector<float> dflt = {}) const;
  std::vector<std::string> attr_strings(const std::string& n) const;
  const Tensor* attr_tensor(const std::string& n) const;
  const Graph* attr_graph(const std::string& n) const;

  bool has_input(size_t i) const { return i < inputs.size() && inputs[i] != nullptr; }
  bool has_output(size_t i) const { return i < outputs.size() && outputs[i] != nullptr; }
  // "node 'conv1' (Conv)" — for error messages.
  std::string describe() const;
};

class Graph {
 public:
  std::string name;
  Graph* parent = nullptr;            // enclosing graph for subgraphs (If/Loop/Scan bodies)
  std::map<std::string, int> opsets;  // domain -> version ("" is ai.onnx)
  std::vector<Value*> inputs;
  std::vector<Value*> outputs;
  // Explicit quantization: per float value that a QuantizeLinear -> DequantizeLinear pair of the model
  // rounded (the pair removed by the fold_qdq pass), that pair's scale and zero point, the latter in u8
  // terms (an s8 zero point + 128): x ≈ scale * (q - zero_point), q in [0, 255].
  struct QdqParams {
    float scale = 1.f;
    int32_t zero_point = 0;
  };
  std::map<std::string, QdqParams> qdq;

  const std::vector<std::unique_ptr<Node>>& nodes() const { return nodes_; }
  // Values by name in this graph only / also in enclosing graphs.
  Value* find_local(const std::string& name) const;
  Value* find(const std::string& name) const;
  // Creates a value; fails when the name is taken in this graph.
  Expected<Value*> add_value(const std::string& name);
  // A fresh, unique name with the given prefix.
  std::string unique_name(const std::string& prefix);
  Value* add_constant(const std::string& prefix, Tensor t);
  Node* add_node(std::unique_ptr<Node> node);  // wires producer/consumers
  void remove_nodes(const std::vector<Node*>& dead);
  // Rewires every use of `from` (node inputs, graph outputs) to `to`.
  void replace_all_uses(Value* from, Value* to);
  void rebuild_uses();
  // Orders nodes so producers come first; an error naming a node on the cycle when there is one.
  Status topological_sort();
  const std::unordered_map<std::string, std::unique_ptr<Value>>& values() const { return values_; }

 private:
  std::vector<std::unique_ptr<Node>> nodes_;
  std::unordered_map<std::string, std::unique_ptr<Value>> values_;
  int64_t name_counter_ = 0;
};

}  // namespace ingot::ir
