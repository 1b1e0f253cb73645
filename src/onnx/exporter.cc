#include "onnx/exporter.h"

#include <cstdio>
#include <fstream>
#include <functional>
#include <set>

#include "core/atomic_file.h"
#include "onnx/onnx-ml.pb.h"
#include "onnx/tensor_proto.h"

namespace ingot::onnx_import {
namespace {

void type_to_proto(const ir::ValueType& t, onnx::TypeProto* tp) {
  switch (t.kind) {
    case ir::ValueType::Kind::kTensor: {
      auto* tt = tp->mutable_tensor_type();
      tt->set_elem_type(static_cast<int32_t>(t.dtype));
      if (t.has_shape) {
        auto* shape = tt->mutable_shape();
        for (const ir::Dim& d : t.shape) {
          auto* dim = shape->add_dim();
          if (d.is_static())
            dim->set_dim_value(d.value);
          else if (!d.symbol.empty())
            dim->set_dim_param(d.symbol);
        }
      }
      break;
    }
    case ir::ValueType::Kind::kSequence:
      if (t.elem)
        type_to_proto(*t.elem, tp->mutable_sequence_type()->mutable_elem_type());
      else
        tp->mutable_sequence_type();
      break;
    case ir::ValueType::Kind::kOptional:
      if (t.elem)
        type_to_proto(*t.elem, tp->mutable_optional_type()->mutable_elem_type());
      else
        tp->mutable_optional_type();
      break;
    case ir::ValueType::Kind::kUnknown:
      break;
  }
}

void value_info(const ir::Value& v, onnx::ValueInfoProto* vi) {
  vi->set_name(v.name());
  if (v.type.kind != ir::ValueType::Kind::kUnknown) type_to_proto(v.type, vi->mutable_type());
}

Status graph_to_proto(const ir::Graph& g, onnx::GraphProto* gp);

Status attr_to_proto(const std::string& name, const ir::Attribute& a, onnx::AttributeProto* ap) {
  using K = ir::Attribute::Kind;
  ap->set_name(name);
  switch (a.kind) {
    case K::kFloat:
      ap->set_type(onnx::AttributeProto::FLOAT);
      ap->set_f(a.f);
      break;
    case K::kInt:
      ap->set_type(onnx::AttributeProto::INT);
      ap->set_i(a.i);
      break;
    case K::kString:
      ap->set_type(onnx::AttributeProto::STRING);
      ap->set_s(a.s);
      break;
    case K::kTensor:
      ap->set_type(onnx::AttributeProto::TENSOR);
      tensor_to_proto(a.t, "", ap->mutable_t());
      break;
    case K::kGraph:
      ap->set_type(onnx::AttributeProto::GRAPH);
      INGOT_RETURN_IF_ERROR(graph_to_proto(*a.g, ap->mutable_g()));
      break;
    case K::kFloats:
      ap->set_type(onnx::AttributeProto::FLOATS);
      for (float f : a.floats) ap->add_floats(f);
      break;
    case K::kInts:
      ap->set_type(onnx::AttributeProto::INTS);
      for (int64_t i : a.ints) ap->add_ints(i);
      break;
    case K::kStrings:
      ap->set_type(onnx::AttributeProto::STRINGS);
      for (const auto& s : a.strings) ap->add_strings(s);
      break;
    case K::kTensors:
      ap->set_type(onnx::AttributeProto::TENSORS);
      for (const auto& t : a.tensors) tensor_to_proto(t, "", ap->add_tensors());
      break;
    case K::kGraphs:
      ap->set_type(onnx::AttributeProto::GRAPHS);
      for (const auto& sg : a.graphs) INGOT_RETURN_IF_ERROR(graph_to_proto(*sg, ap->add_graphs()));
      break;
    case K::kTypeProto:
      ap->set_type(onnx::AttributeProto::TYPE_PROTO);
      type_to_proto(a.type, ap->mutable_tp());
      break;
    case K::kUndefined:
      return internal_error("attribute '" + name + "' has no value");
  }
  return Status::Ok();
}

// An attribute rebuilt from a constant input that import created from it.
ir::Attribute attr_from_const(const Tensor& t) {
  ir::Attribute a;
  const bool is_float = dtype_is_float(t.dtype());
  if (t.rank() == 0) {
    if (is_float) {
      a.kind = ir::Attribute::Kind::kFloat;
      a.f = static_cast<float>(t.get_f64(0));
    } else {
      a.kind = ir::Attribute::Kind::kInt;
      a.i = t.get_i64(0);
    }
  } else if (is_float) {
    a.kind = ir::Attribute::Kind::kFloats;
    for (int64_t i = 0; i < t.numel(); ++i) a.floats.push_back(static_cast<float>(t.get_f64(i)));
  } else {
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = t.to_i64_vector();
  }
  return a;
}

Status graph_to_proto(const ir::Graph& g, onnx::GraphProto* gp) {
  gp->set_name(g.name.empty() ? "ingot" : g.name);
  std::set<const ir::Value*> emitted;
  auto emit_initializer = [&](const ir::Value* v) {
    // A value some node still computes is not an initializer, even when its value is known.
    if (!v || !v->constant || v->producer || v->owner != &g || emitted.count(v)) return;
    emitted.insert(v);
    tensor_to_proto(*v->constant, v->name(), gp->add_initializer());
  };
  for (const ir::Value* v : g.inputs) value_info(*v, gp->add_input());
  for (const auto& n : g.nodes()) {
    auto* np = gp->add_node();
    np->set_name(n->name);
    np->set_op_type(n->op_type);
    if (!n->domain.empty()) np->set_domain(n->domain);
    std::vector<const ir::Value*> inputs(n->inputs.begin(), n->inputs.end());
    std::map<std::string, ir::Attribute> attrs = n->attrs;
    // Undo import's attribute-to-input moves, so the node matches its opset's schema again.
    size_t trim = inputs.size();
    for (const auto& [attr, idx] : n->inputs_from_attrs) {
      if (idx < inputs.size() && inputs[idx] && inputs[idx]->constant) {
        attrs[attr] = attr_from_const(*inputs[idx]->constant);
        inputs[idx] = nullptr;
      }
    }
    while (trim > 0 && !inputs[trim - 1]) --trim;
    inputs.resize(trim);
    for (const ir::Value* v : inputs) {
      np->add_input(v ? v->name() : "");
      emit_initializer(v);
    }
    for (const ir::Value* v : n->outputs) np->add_output(v ? v->name() : "");
    for (const auto& [name, a] : attrs) INGOT_RETURN_IF_ERROR(attr_to_proto(name, a, np->add_attribute()));
    // Subgraphs may read constants of this graph.
    for (const auto& [_, a] : n->attrs) {
      std::vector<const ir::Graph*> subs;
      if (a.g) subs.push_back(a.g.get());
      for (const auto& sg : a.graphs) subs.push_back(sg.get());
      std::function<void(const ir::Graph&)> scan = [&](const ir::Graph& sg) {
        for (const auto& sn : sg.nodes()) {
          for (const ir::Value* v : sn->inputs) emit_initializer(v);
          for (const auto& [__, sa] : sn->attrs) {
            if (sa.g) scan(*sa.g);
            for (const auto& ssg : sa.graphs) scan(*ssg);
          }
        }
      };
      for (const ir::Graph* sg : subs) scan(*sg);
    }
  }
  for (const ir::Value* v : g.outputs) {
    emit_initializer(v);
    value_info(*v, gp->add_output());
  }
  // Shapes ingot inferred for intermediate values, for the next tool in the user's pipeline.
  for (const auto& n : g.nodes()) {
    for (const ir::Value* v : n->outputs) {
      if (!v || v->type.kind == ir::ValueType::Kind::kUnknown) continue;
      bool is_output = std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
      if (!is_output) value_info(*v, gp->add_value_info());
    }
  }
  return Status::Ok();
}

}  // namespace

Expected<std::string> export_model(const ir::Graph& graph, const ExportOptions& options) {
  onnx::ModelProto mp;
  mp.set_ir_version(options.ir_version);
  mp.set_producer_name(options.producer_name);
  for (const auto& [domain, version] : graph.opsets) {
    auto* op = mp.add_opset_import();
    op->set_domain(domain);
    op->set_version(version);
  }
  INGOT_RETURN_IF_ERROR(graph_to_proto(graph, mp.mutable_graph()));
  std::string bytes;
  if (!mp.SerializeToString(&bytes)) {
    return out_of_range(
        "the model is too large for one protobuf file (over 2 GiB); external data export is not supported "
        "yet");
  }
  return bytes;
}

Status export_model_file(const ir::Graph& graph, const std::string& path, const ExportOptions& options) {
  INGOT_ASSIGN_OR_RETURN(std::string bytes, export_model(graph, options));
  return write_file_atomically(path, [&](const WriteSink& sink) { return sink(bytes.data(), bytes.size()); });
}

}  // namespace ingot::onnx_import
