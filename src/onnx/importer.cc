#include "onnx/importer.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <climits>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include "onnx/onnx-data.pb.h"
#include "onnx/onnx-ml.pb.h"
#include "onnx/tensor_proto.h"
#include "ops/op.h"

namespace ingot::onnx_import {
namespace fs = std::filesystem;
namespace {

Expected<std::string> read_file(const std::string& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return not_found(path + ": no such file");
  if (fs::is_directory(path, ec)) return invalid_argument(path + ": is a directory, not a model file");
  std::ifstream f(path, std::ios::binary);
  if (!f) return not_found(path + ": cannot open");
  std::ostringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

template <typename Msg>
bool parse_message(const std::string& bytes, Msg* msg) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), static_cast<int>(bytes.size()));
  google::protobuf::io::CodedInputStream in(&raw);
  in.SetTotalBytesLimit(INT_MAX);
  return msg->ParseFromCodedStream(&in) && in.ConsumedEntireMessage();
}

Expected<ir::ValueType> convert_type(const onnx::TypeProto& tp, const std::string& what) {
  ir::ValueType t;
  switch (tp.value_case()) {
    case onnx::TypeProto::kTensorType: {
      const auto& tt = tp.tensor_type();
      t.kind = ir::ValueType::Kind::kTensor;
      if (tt.elem_type() != 0 && !dtype_is_valid(tt.elem_type())) {
        return unsupported(what + " has element type " + std::to_string(tt.elem_type()) + ", which ingot does not know");
      }
      t.dtype = static_cast<DType>(tt.elem_type());
      if (tt.has_shape()) {
        t.has_shape = true;
        for (const auto& d : tt.shape().dim()) {
          if (d.has_dim_value()) {
            if (d.dim_value() < 0) {
              return invalid_argument(what + " has negative dimension " + std::to_string(d.dim_value()));
            }
            t.shape.push_back(ir::Dim(d.dim_value()));
          } else if (d.has_dim_param()) {
            t.shape.push_back(ir::Dim::sym(d.dim_param()));
          } else {
            t.shape.push_back(ir::Dim());
          }
        }
      }
      return t;
    }
    case onnx::TypeProto::kSequenceType: {
      t.kind = ir::ValueType::Kind::kSequence;
      if (tp.sequence_type().has_elem_type()) {
        INGOT_ASSIGN_OR_RETURN(auto e, convert_type(tp.sequence_type().elem_type(), what));
        t.elem = std::make_shared<ir::ValueType>(std::move(e));
      }
      return t;
    }
    case onnx::TypeProto::kOptionalType: {
      t.kind = ir::ValueType::Kind::kOptional;
      if (tp.optional_type().has_elem_type()) {
        INGOT_ASSIGN_OR_RETURN(auto e, convert_type(tp.optional_type().elem_type(), what));
        t.elem = std::make_shared<ir::ValueType>(std::move(e));
      }
      return t;
    }
    case onnx::TypeProto::kSparseTensorType:
      return unsupported(what + " is a sparse tensor, which ingot does not support");
    case onnx::TypeProto::kMapType:
      return unsupported(what + " is a map, which ingot does not support");
    default:
      return t;
  }
}

class Importer {
 public:
  Importer(std::string base_dir, std::string label) : base_dir_(std::move(base_dir)), label_(std::move(label)) {}

  Expected<Model> import(const onnx::ModelProto& mp) {
    Model m;
    m.ir_version = mp.ir_version();
    m.producer = mp.producer_name();
    for (const auto& op : mp.opset_import()) {
      std::string d = op.domain() == "ai.onnx" ? "" : op.domain();
      m.opsets[d] = static_cast<int>(op.version());
    }
    if (!m.opsets.count("")) m.opsets[""] = 1;  // IR version 1-2 models predate opset_import
    opsets_ = m.opsets;
    for (const auto& in : mp.graph().input()) m.declared_inputs.push_back(in.name());
    if (!mp.has_graph()) return invalid_argument(label_ + ": the model has no graph");
    auto g = std::make_unique<ir::Graph>();
    g->opsets = m.opsets;
    INGOT_RETURN_IF_ERROR(convert_graph(mp.graph(), *g, /*is_main=*/true));
    if (!unsupported_.empty()) {
      std::string msg = label_ + ": unsupported op" + (unsupported_.size() > 1 ? "s" : "") + ": ";
      for (size_t i = 0; i < unsupported_.size(); ++i) msg += (i ? ", " : "") + unsupported_[i];
      return unsupported(msg);
    }
    m.graph = std::move(g);
    return m;
  }

 private:
  Expected<Tensor> tensor(const onnx::TensorProto& tp) { return tensor_from_proto(tp, base_dir_, label_); }

  Status convert_attr(const onnx::AttributeProto& ap, ir::Graph& g, const std::string& where, ir::Attribute& a) {
    using K = ir::Attribute::Kind;
    switch (ap.type()) {
      case onnx::AttributeProto::FLOAT: a.kind = K::kFloat; a.f = ap.f(); break;
      case onnx::AttributeProto::INT: a.kind = K::kInt; a.i = ap.i(); break;
      case onnx::AttributeProto::STRING: a.kind = K::kString; a.s = ap.s(); break;
      case onnx::AttributeProto::TENSOR: {
        a.kind = K::kTensor;
        INGOT_ASSIGN_OR_RETURN(a.t, tensor(ap.t()));
        break;
      }
      case onnx::AttributeProto::GRAPH: {
        a.kind = K::kGraph;
        a.g = std::make_shared<ir::Graph>();
        a.g->parent = &g;
        a.g->opsets = g.opsets;
        INGOT_RETURN_IF_ERROR(convert_graph(ap.g(), *a.g, false));
        break;
      }
      case onnx::AttributeProto::FLOATS: a.kind = K::kFloats; a.floats.assign(ap.floats().begin(), ap.floats().end()); break;
      case onnx::AttributeProto::INTS: a.kind = K::kInts; a.ints.assign(ap.ints().begin(), ap.ints().end()); break;
      case onnx::AttributeProto::STRINGS: a.kind = K::kStrings; a.strings.assign(ap.strings().begin(), ap.strings().end()); break;
      case onnx::AttributeProto::TENSORS: {
        a.kind = K::kTensors;
        for (const auto& t : ap.tensors()) {
          INGOT_ASSIGN_OR_RETURN(Tensor x, tensor(t));
          a.tensors.push_back(std::move(x));
        }
        break;
      }
      case onnx::AttributeProto::GRAPHS: {
        a.kind = K::kGraphs;
        for (const auto& sg : ap.graphs()) {
          auto sub = std::make_shared<ir::Graph>();
          sub->parent = &g;
          sub->opsets = g.opsets;
          INGOT_RETURN_IF_ERROR(convert_graph(sg, *sub, false));
          a.graphs.push_back(std::move(sub));
        }
        break;
      }
      case onnx::AttributeProto::TYPE_PROTO: {
        a.kind = K::kTypeProto;
        INGOT_ASSIGN_OR_RETURN(a.type, convert_type(ap.tp(), where + " attribute '" + ap.name() + "'"));
        break;
      }
      default:
        if (!ap.ref_attr_name().empty()) {
          return unsupported(where + ": attribute '" + ap.name() + "' refers to a function attribute");
        }
        return invalid_argument(where + ": attribute '" + ap.name() + "' has unsupported type " +
                                std::to_string(static_cast<int>(ap.type())));
    }
    return Status::Ok();
  }

  // A Constant node's value.
  Expected<Tensor> constant_value(const onnx::NodeProto& np, const std::string& where) {
    for (const auto& ap : np.attribute()) {
      const std::string& n = ap.name();
      if (n == "value") return tensor(ap.t());
      if (n == "value_float") return Tensor::scalar_f32(ap.f());
      if (n == "value_int") return Tensor::scalar_i64(ap.i());
      if (n == "value_floats") {
        return Tensor::from_vector<float>({ap.floats_size()}, {ap.floats().begin(), ap.floats().end()});
      }
      if (n == "value_ints") {
        return Tensor::from_vector<int64_t>({ap.ints_size()}, {ap.ints().begin(), ap.ints().end()});
      }
      if (n == "value_string") {
        Tensor t = Tensor::create(DType::kString, {}).value();
        t.strings()[0] = ap.s();
        return t;
      }
      if (n == "value_strings") {
        Tensor t = Tensor::create(DType::kString, {ap.strings_size()}).value();
        for (int i = 0; i < ap.strings_size(); ++i) t.strings()[i] = ap.strings(i);
        return t;
      }
      if (n == "sparse_value") return unsupported(where + ": sparse constants are not supported");
    }
    return invalid_argument(where + ": Constant has no value attribute");
  }

  Status convert_graph(const onnx::GraphProto& gp, ir::Graph& g, bool is_main) {
    g.name = gp.name();
    const std::string gname = is_main ? label_ : label_ + " subgraph '" + gp.name() + "'";
    std::set<std::string> init_names;
    for (const auto& init : gp.initializer()) {
      if (init.name().empty()) return invalid_argument(gname + ": an initializer has no name");
      INGOT_ASSIGN_OR_RETURN(Tensor t, tensor(init));
      INGOT_ASSIGN_OR_RETURN(ir::Value * v, g.add_value(init.name()));
      v->type = ir::ValueType::tensor(t.dtype(), ir::to_sym_shape(t.dims()));
      v->constant = std::move(t);
      init_names.insert(init.name());
    }
    if (gp.sparse_initializer_size() > 0) return unsupported(gname + ": sparse initializers are not supported");
    for (const auto& in : gp.input()) {
      if (init_names.count(in.name())) continue;  // an input with a default value: ingot treats it as constant
      INGOT_ASSIGN_OR_RETURN(ir::Value * v, g.add_value(in.name()));
      INGOT_ASSIGN_OR_RETURN(v->type, convert_type(in.type(), gname + " input '" + in.name() + "'"));
      g.inputs.push_back(v);
    }
    // First create every node output, so that a node may be listed before its producer (then sorted).
    std::vector<std::unique_ptr<ir::Node>> nodes;
    for (int ni = 0; ni < gp.node_size(); ++ni) {
      const auto& np = gp.node(ni);
      auto node = std::make_unique<ir::Node>();
      node->name = np.name().empty() ? np.op_type() + "_" + std::to_string(ni) : np.name();
      node->op_type = np.op_type();
      node->domain = np.domain() == "ai.onnx" ? "" : np.domain();
      auto os = opsets_.find(node->domain);
      node->opset = os == opsets_.end() ? 0 : os->second;
      for (const auto& out : np.output()) {
        if (out.empty()) {
          node->outputs.push_back(nullptr);
          continue;
        }
        auto v = g.add_value(out);
        if (!v.ok()) return invalid_argument(gname + ": " + node->describe() + ": output '" + out + "' is defined twice");
        node->outputs.push_back(*v);
      }
      nodes.push_back(std::move(node));
    }
    for (const auto& vi : gp.value_info()) {
      if (ir::Value* v = g.find_local(vi.name()); v && !v->constant && vi.has_type()) {
        auto t = convert_type(vi.type(), gname + " value '" + vi.name() + "'");
        if (t.ok()) v->type = *t;
      }
    }
    for (int ni = 0; ni < gp.node_size(); ++ni) {
      const auto& np = gp.node(ni);
      auto& node = nodes[ni];
      const std::string where = gname + ": " + node->describe();
      for (const auto& in : np.input()) {
        if (in.empty()) {
          node->inputs.push_back(nullptr);
          continue;
        }
        ir::Value* v = g.find(in);
        if (!v) return invalid_argument(where + " reads '" + in + "', which no node, input or initializer defines");
        node->inputs.push_back(v);
      }
      if (node->op_type == "Constant" && node->domain.empty()) {
        INGOT_ASSIGN_OR_RETURN(Tensor t, constant_value(np, where));
        if (node->outputs.size() != 1 || !node->outputs[0]) return invalid_argument(where + ": Constant needs one output");
        node->outputs[0]->type = ir::ValueType::tensor(t.dtype(), ir::to_sym_shape(t.dims()));
        node->outputs[0]->constant = std::move(t);
        node.reset();
        continue;
      }
      for (const auto& ap : np.attribute()) {
        ir::Attribute a;
        INGOT_RETURN_IF_ERROR(convert_attr(ap, g, where, a));
        node->attrs[ap.name()] = std::move(a);
      }
    }
    for (auto& node : nodes) {
      if (!node) continue;
      ir::Node* n = g.add_node(std::move(node));
      const ops::OpDef* def = ops::find_op(n->domain, n->op_type);
      if (!def) {
        unsupported_.push_back((n->domain.empty() ? "" : n->domain + ".") + n->op_type + " (node '" + n->name + "')");
        continue;
      }
      if (def->normalize) {
        ops::NormalizeContext ctx(g, *n);
        INGOT_RETURN_IF_ERROR(def->normalize(ctx).with_context(gname));
      }
    }
    for (const auto& out : gp.output()) {
      ir::Value* v = g.find(out.name());
      if (!v) return invalid_argument(gname + ": graph output '" + out.name() + "' is never computed");
      if (out.has_type() && !v->constant) {
        auto t = convert_type(out.type(), gname + " output '" + out.name() + "'");
        if (t.ok() && v->type.kind == ir::ValueType::Kind::kUnknown) v->type = *t;
      }
      g.outputs.push_back(v);
    }
    g.rebuild_uses();
    INGOT_RETURN_IF_ERROR(g.topological_sort().with_context(gname));
    return Status::Ok();
  }

  std::string base_dir_;
  std::string label_;
  std::map<std::string, int> opsets_;
  std::vector<std::string> unsupported_;
};

}  // namespace

Expected<Model> import_bytes(const std::string& bytes, const std::string& base_dir, const std::string& label) {
  if (bytes.empty()) return invalid_argument(label + ": the file is empty");
  onnx::ModelProto mp;
  if (!parse_message(bytes, &mp)) return invalid_argument(label + ": not a valid ONNX model (protobuf parse failed)");
  if (!mp.has_graph() && mp.opset_import_size() == 0) {
    return invalid_argument(label + ": not a valid ONNX model (no graph)");
  }
  Importer imp(base_dir, label);
  return imp.import(mp);
}

Expected<Model> import_file(const std::string& path) {
  INGOT_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  fs::path p(path);
  std::string dir = p.has_parent_path() ? p.parent_path().string() : ".";
  return import_bytes(bytes, dir, path);
}

Expected<RtValue> read_value_file(const std::string& path, const ir::ValueType& type) {
  INGOT_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  const std::string dir = fs::path(path).parent_path().string();
  auto from_tensor_proto = [&](const onnx::TensorProto& tp) { return tensor_from_proto(tp, dir, path); };
  if (type.kind == ir::ValueType::Kind::kSequence || type.kind == ir::ValueType::Kind::kOptional) {
    std::function<Expected<RtValue>(const onnx::SequenceProto&)> seq = [&](const onnx::SequenceProto& sp) -> Expected<RtValue> {
      std::vector<Tensor> items;
      for (const auto& tp : sp.tensor_values()) {
        INGOT_ASSIGN_OR_RETURN(Tensor t, from_tensor_proto(tp));
        items.push_back(std::move(t));
      }
      DType elem = sp.elem_type() == onnx::SequenceProto::TENSOR && !items.empty() ? items[0].dtype() : DType::kUndefined;
      return RtValue::make_sequence(std::move(items), elem);
    };
    if (type.kind == ir::ValueType::Kind::kSequence) {
      onnx::SequenceProto sp;
      if (!parse_message(bytes, &sp)) return invalid_argument(path + ": not a SequenceProto");
      return seq(sp);
    }
    onnx::OptionalProto op;
    if (!parse_message(bytes, &op)) return invalid_argument(path + ": not an OptionalProto");
    if (op.has_tensor_value()) {
      INGOT_ASSIGN_OR_RETURN(Tensor t, from_tensor_proto(op.tensor_value()));
      return RtValue(std::move(t));
    }
    if (op.has_sequence_value()) return seq(op.sequence_value());
    return RtValue::none();
  }
  onnx::TensorProto tp;
  if (!parse_message(bytes, &tp)) return invalid_argument(path + ": not a TensorProto");
  INGOT_ASSIGN_OR_RETURN(Tensor t, from_tensor_proto(tp));
  return RtValue(std::move(t));
}

}  // namespace ingot::onnx_import
