// An ONNX op as ingot knows it: canonicalisation from older opsets, shape/type inference and
// the reference evaluation. One OpDef per (domain, op_type), registered with INGOT_REGISTER_OP
// next to its code.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/value.h"
#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::ops {

// Rewrites a freshly imported node into the canonical form of the newest opset (e.g. attributes that
// later opsets turned into inputs become constant inputs), so infer/run only see one form.
class NormalizeContext {
 public:
  NormalizeContext(ir::Graph& graph, ir::Node& node) : graph_(graph), node_(node) {}
  ir::Graph& graph() { return graph_; }
  ir::Node& node() { return node_; }
  int opset() const { return node_.opset; }
  // Moves attribute `attr` (ints or floats or int) to input slot `index` as a constant tensor of `dtype`
  // (1-D for lists, scalar for single values). Nothing happens when the attribute is absent.
  void move_attr_to_input(const std::string& attr, size_t index, DType dtype);
  // Puts a constant at input slot `index` (growing the input list with empty slots as needed).
  void set_const_input(size_t index, Tensor t);
  Status fail(const std::string& msg) const { return invalid_argument(node_.describe() + ": " + msg); }

 private:
  ir::Graph& graph_;
  ir::Node& node_;
};

class InferContext {
 public:
  explicit InferContext(ir::Node& node) : node_(node) {}
  const ir::Node& node() const { return node_; }
  int opset() const { return node_.opset; }

  size_t num_inputs() const { return node_.inputs.size(); }
  bool has_input(size_t i) const { return node_.has_input(i); }
  const ir::ValueType& input_type(size_t i) const { return node_.inputs[i]->type; }
  DType input_dtype(size_t i) const { return node_.inputs[i]->type.dtype; }
  // Rank known? Only then is input_shape meaningful.
  bool input_has_shape(size_t i) const { return has_input(i) && node_.inputs[i]->type.has_shape; }
  const ir::SymShape& input_shape(size_t i) const { return node_.inputs[i]->type.shape; }
  // The input's value when it is known at build time (initializer, constant, folded), else nullptr.
  const Tensor* input_const(size_t i) const {
    return has_input(i) && node_.inputs[i]->constant ? &*node_.inputs[i]->constant : nullptr;
  }

  size_t num_outputs() const { return node_.outputs.size(); }
  void set_output(size_t i, ir::ValueType t) {
    if (node_.has_output(i)) node_.outputs[i]->type = std::move(t);
  }
  void set_output(size_t i, DType dtype, ir::SymShape shape) {
    set_output(i, ir::ValueType::tensor(dtype, std::move(shape)));
  }
  void set_output_rank_unknown(size_t i, DType dtype) { set_output(i, ir::ValueType::tensor(dtype)); }
  // Output i is known at build time (e.g. Shape of a static tensor): sets its type and value.
  void set_output_const(size_t i, Tensor t) {
    if (!node_.has_output(i)) return;
    node_.outputs[i]->type = ir::ValueType::tensor(t.dtype(), ir::to_sym_shape(t.dims()));
    node_.outputs[i]->constant = std::move(t);
  }

  Status fail(const std::string& msg) const { return invalid_argument(node_.describe() + ": " + msg); }

 private:
  ir::Node& node_;
};

class RunContext {
 public:
  using SubgraphRunner =
      std::function<Expected<std::vector<RtValue>>(const ir::Graph&, const std::vector<RtValue>&)>;

  RunContext(const ir::Node& node, std::vector<const RtValue*> inputs, std::vector<RtValue>* outputs,
             SubgraphRunner subgraph_runner)
      : node_(node),
        inputs_(std::move(inputs)),
        outputs_(outputs),
        subgraph_runner_(std::move(subgraph_runner)) {}

  const ir::Node& node() const { return node_; }
  int opset() const { return node_.opset; }

  size_t num_inputs() const { return inputs_.size(); }
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  const Tensor& input(size_t i) const { return inputs_[i]->tensor; }
  const RtValue& input_value(size_t i) const { return *inputs_[i]; }

  size_t num_outputs() const { return outputs_->size(); }
  bool has_output(size_t i) const { return node_.has_output(i); }
  // Where outputs get their memory (an engine's arena); Tensor::create when not set. The memory must be
  // zero-filled unless it is an input's memory the output may overwrite in place.
  using OutputAllocator = std::function<Expected<Tensor>(size_t output, DType dtype, Dims dims)>;
  void set_allocator(const OutputAllocator* allocator) { allocator_ = allocator; }
  // Allocates output i (zero-filled) and returns it for the kernel to write.
  Expected<Tensor*> alloc_output(size_t i, DType dtype, Dims dims) {
    INGOT_ASSIGN_OR_RETURN(Tensor t, allocator_ ? (*allocator_)(i, dtype, std::move(dims))
                                                : Tensor::create(dtype, std::move(dims)));
    (*outputs_)[i] = RtValue(std::move(t));
    return &(*outputs_)[i].tensor;
  }
  void set_output(size_t i, RtValue v) { (*outputs_)[i] = std::move(v); }

  Expected<std::vector<RtValue>> run_subgraph(const ir::Graph& g, const std::vector<RtValue>& inputs) const {
    return subgraph_runner_(g, inputs);
  }

  Status fail(const std::string& msg) const { return invalid_argument(node_.describe() + ": " + msg); }

 private:
  const ir::Node& node_;
  std::vector<const RtValue*> inputs_;
  std::vector<RtValue>* outputs_;
  SubgraphRunner subgraph_runner_;
  const OutputAllocator* allocator_ = nullptr;
};

using NormalizeFn = Status (*)(NormalizeContext&);
using InferFn = Status (*)(InferContext&);
using RunFn = Status (*)(RunContext&);

struct OpDef {
  const char* domain = "";  // "" is the default ONNX domain
  const char* op_type = "";
  InferFn infer = nullptr;
  RunFn run = nullptr;
  NormalizeFn normalize = nullptr;
};

const OpDef* find_op(const std::string& domain, const std::string& op_type);
std::vector<const OpDef*> all_ops();
// Ops registered more than once (the later registrations are ignored); empty in a correct build.
std::vector<std::string> duplicate_registrations();  // sorted by domain, op_type

struct OpRegistrar {
  explicit OpRegistrar(const OpDef& def);
};

}  // namespace ingot::ops

// INGOT_REGISTER_OP(Relu, .infer = infer_unary, .run = run_relu);
#define INGOT_REGISTER_OP(OP, ...)                     \
  static const ::ingot::ops::OpRegistrar INGOT_CONCAT( \
      kIngotOpRegistrar_, OP)(::ingot::ops::OpDef{.domain = "", .op_type = #OP, __VA_ARGS__})
// For ops of other domains: INGOT_REGISTER_OP_DOMAIN("com.microsoft", FusedGemm, "FusedGemm", ...).
#define INGOT_REGISTER_OP_DOMAIN(DOMAIN, ID, OP_NAME, ...) \
  static const ::ingot::ops::OpRegistrar INGOT_CONCAT(     \
      kIngotOpRegistrar_, ID)(::ingot::ops::OpDef{.domain = DOMAIN, .op_type = OP_NAME, __VA_ARGS__})
