#include "passes/shape_inference.h"

#include <set>

#include "exec/interpreter.h"
#include "ops/op.h"

namespace ingot::passes {
namespace {

bool is_nondeterministic(const ir::Node& n) {
  static const std::set<std::string> kRandom = {"RandomNormal", "RandomUniform", "RandomNormalLike",
                                                "RandomUniformLike", "Multinomial", "Bernoulli", "Dropout"};
  return kRandom.count(n.op_type) != 0;
}

bool has_subgraph(const ir::Node& n) {
  for (const auto& [_, a] : n.attrs)
    if (a.g || !a.graphs.empty()) return true;
  return false;
}

// Evaluates `node` when every input is a known small tensor; sets its outputs' values.
Status try_fold(ir::Node& node, const ops::OpDef& def, const ShapeInferenceOptions& opt) {
  if (!def.run || is_nondeterministic(node) || has_subgraph(node)) return Status::Ok();
  int64_t total = 0;
  std::vector<RtValue> inputs;
  std::vector<const RtValue*> in(node.inputs.size(), nullptr);
  inputs.reserve(node.inputs.size());
  for (ir::Value* v : node.inputs) {
    if (!v) continue;
    if (!v->constant) return Status::Ok();
    total += v->constant->numel();
    if (total > opt.fold_max_elements) return Status::Ok();
  }
  for (size_t i = 0; i < node.outputs.size(); ++i)
    if (node.outputs[i] && node.outputs[i]->constant) return Status::Ok();  // already known
  for (size_t i = 0; i < node.inputs.size(); ++i) {
    if (!node.inputs[i]) continue;
    inputs.emplace_back(*node.inputs[i]->constant);
  }
  size_t k = 0;
  for (size_t i = 0; i < node.inputs.size(); ++i)
    if (node.inputs[i]) in[i] = &inputs[k++];
  std::vector<RtValue> out(node.outputs.size());
  ops::RunContext ctx(node, in, &out, [](const ir::Graph&, const std::vector<RtValue>&) {
    return Expected<std::vector<RtValue>>(unsupported("no subgraphs while folding"));
  });
  Status st = def.run(ctx);
  if (!st.ok()) return st;
  int64_t out_total = 0;
  for (auto& o : out) {
    if (!o.is_tensor() || !o.tensor.defined()) return Status::Ok();
    out_total += o.tensor.numel();
  }
  if (out_total > opt.fold_max_elements) return Status::Ok();
  for (size_t i = 0; i < node.outputs.size(); ++i) {
    if (!node.outputs[i]) continue;
    ir::Value* v = node.outputs[i];
    v->type = ir::ValueType::tensor(out[i].tensor.dtype(), ir::to_sym_shape(out[i].tensor.dims()));
    v->constant = std::move(out[i].tensor);
  }
  return Status::Ok();
}

// A declared output type (value_info) is kept where inference knows less.
void merge_declared(const ir::ValueType& declared, ir::ValueType& inferred) {
  if (inferred.kind == ir::ValueType::Kind::kUnknown) {
    inferred = declared;
    return;
  }
  if (inferred.kind == ir::ValueType::Kind::kTensor && declared.kind == ir::ValueType::Kind::kTensor) {
    if (inferred.dtype == DType::kUndefined) inferred.dtype = declared.dtype;
    if (!inferred.has_shape && declared.has_shape) {
      inferred.has_shape = true;
      inferred.shape = declared.shape;
    } else if (inferred.has_shape && declared.has_shape && inferred.shape.size() == declared.shape.size()) {
      for (size_t i = 0; i < inferred.shape.size(); ++i)
        if (!inferred.shape[i].is_static() && inferred.shape[i].symbol.empty()) inferred.shape[i] = declared.shape[i];
    }
  }
}

}  // namespace

Status infer_shapes(ir::Graph& graph, const ShapeInferenceOptions& options) {
  for (const auto& node_ptr : graph.nodes()) {
    ir::Node& node = *node_ptr;
    const ops::OpDef* def = ops::find_op(node.domain, node.op_type);
    if (!def) continue;
    // Bodies first, so If/Loop/Scan can type their outputs from the bodies' outputs.
    for (auto& [_, a] : node.attrs) {
      if (a.g) INGOT_RETURN_IF_ERROR(infer_shapes(*a.g, options));
      for (auto& sg : a.graphs) INGOT_RETURN_IF_ERROR(infer_shapes(*sg, options));
    }
    std::vector<ir::ValueType> declared;
    for (ir::Value* v : node.outputs) declared.push_back(v ? v->type : ir::ValueType{});
    for (ir::Value* v : node.outputs)
      if (v) v->type = ir::ValueType{};
    bool inputs_typed = true;
    for (ir::Value* v : node.inputs)
      if (v && v->type.kind == ir::ValueType::Kind::kUnknown) inputs_typed = false;
    if (def->infer && inputs_typed) {
      ops::InferContext ctx(node);
      INGOT_RETURN_IF_ERROR(def->infer(ctx));
    }
    for (size_t i = 0; i < node.outputs.size(); ++i)
      if (node.outputs[i]) merge_declared(declared[i], node.outputs[i]->type);
    INGOT_RETURN_IF_ERROR(try_fold(node, *def, options));
  }
  return Status::Ok();
}

}  // namespace ingot::passes
