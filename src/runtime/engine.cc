#include "ingot/engine.h"

#include <set>

#include "exec/interpreter.h"
#include "onnx/importer.h"
#include "passes/shape_inference.h"

namespace ingot {

struct Engine::Impl {
  std::string label;
  onnx_import::Model model;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

namespace {

TensorInfo info_of(const ir::Value& v) {
  TensorInfo t;
  t.name = v.name();
  t.dtype = v.type.dtype;
  t.rank_known = v.type.has_shape;
  for (const ir::Dim& d : v.type.shape) {
    t.dims.push_back(d.is_static() ? d.value : -1);
    t.dim_names.push_back(d.symbol);
  }
  return t;
}

Expected<std::shared_ptr<Engine>> finish(Expected<onnx_import::Model> imported, const std::string& label,
                                         const BuildConfig& config, std::unique_ptr<Engine::Impl> impl) {
  if (!imported.ok()) return imported.status();
  impl->label = label;
  impl->model = std::move(imported).value();
  ir::Graph& g = *impl->model.graph;
  std::set<std::string> names;
  for (ir::Value* v : g.inputs) names.insert(v->name());
  for (const auto& [name, dims] : config.shapes) {
    if (!names.count(name)) return invalid_argument(label + ": --shapes names '" + name + "', which is not a model input");
    ir::Value* v = g.find_local(name);
    if (v->type.has_shape && v->type.shape.size() != dims.size()) {
      return invalid_argument(label + ": input '" + name + "' has rank " + std::to_string(v->type.shape.size()) +
                              ", but the shape given is " + dims_to_string(dims));
    }
    for (size_t i = 0; v->type.has_shape && i < dims.size(); ++i) {
      if (v->type.shape[i].is_static() && v->type.shape[i].value != dims[i]) {
        return invalid_argument(label + ": input '" + name + "' has dimension " + std::to_string(i) + " fixed to " +
                                std::to_string(v->type.shape[i].value) + ", but the shape given is " + dims_to_string(dims));
      }
    }
    v->type.has_shape = true;
    v->type.shape = ir::to_sym_shape(dims);
  }
  INGOT_RETURN_IF_ERROR(passes::infer_shapes(g).with_context(label));
  for (ir::Value* v : g.inputs) impl->inputs.push_back(info_of(*v));
  for (ir::Value* v : g.outputs) impl->outputs.push_back(info_of(*v));
  return Engine::create(std::move(impl));
}

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
std::shared_ptr<Engine> Engine::create(std::unique_ptr<Impl> impl) {
  return std::shared_ptr<Engine>(new Engine(std::move(impl)));
}
Engine::~Engine() = default;

Expected<std::shared_ptr<Engine>> Engine::from_onnx_file(const std::string& path, const BuildConfig& config) {
  return finish(onnx_import::import_file(path), path, config, std::make_unique<Impl>());
}

Expected<std::shared_ptr<Engine>> Engine::from_onnx_bytes(const std::string& bytes, const BuildConfig& config) {
  return finish(onnx_import::import_bytes(bytes, "", "<memory>"), "<memory>", config, std::make_unique<Impl>());
}

const std::vector<TensorInfo>& Engine::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Engine::outputs() const { return impl_->outputs; }

std::unique_ptr<ExecutionContext> Engine::create_context() const {
  // Engines are always owned by a shared_ptr (see from_onnx_*); contexts keep them alive.
  return std::make_unique<ExecutionContext>(shared_from_this());
}

ExecutionContext::ExecutionContext(std::shared_ptr<const Engine> engine) : engine_(std::move(engine)) {}

Expected<std::map<std::string, Tensor>> ExecutionContext::run(const std::map<std::string, Tensor>& inputs) {
  const Engine::Impl& impl = *engine_->impl_;
  const ir::Graph& g = *impl.model.graph;
  std::string known;
  for (const TensorInfo& t : impl.inputs) known += (known.empty() ? "" : ", ") + t.name;
  for (const auto& [name, _] : inputs) {
    bool found = false;
    for (const TensorInfo& t : impl.inputs) found |= t.name == name;
    if (!found) return invalid_argument("unknown input '" + name + "' (the model's inputs are: " + known + ")");
  }
  std::vector<RtValue> args;
  std::map<std::string, int64_t> sym_values;
  for (const TensorInfo& info : impl.inputs) {
    auto it = inputs.find(info.name);
    if (it == inputs.end()) return invalid_argument("missing input '" + info.name + "'");
    const Tensor& t = it->second;
    if (info.dtype != DType::kUndefined && t.dtype() != info.dtype) {
      return invalid_argument("input '" + info.name + "' must be " + dtype_name(info.dtype) + ", got " +
                              dtype_name(t.dtype()));
    }
    if (info.rank_known) {
      bool ok = static_cast<size_t>(t.rank()) == info.dims.size();
      for (size_t i = 0; ok && i < info.dims.size(); ++i) {
        if (info.dims[i] >= 0 && info.dims[i] != t.dims()[i]) ok = false;
        if (info.dims[i] < 0 && !info.dim_names[i].empty()) {
          auto [sit, fresh] = sym_values.emplace(info.dim_names[i], t.dims()[i]);
          if (!fresh && sit->second != t.dims()[i]) {
            return invalid_argument("input '" + info.name + "': dimension '" + info.dim_names[i] + "' is " +
                                    std::to_string(t.dims()[i]) + " here but " + std::to_string(sit->second) +
                                    " in another input");
          }
        }
      }
      if (!ok) {
        std::string want;
        for (size_t i = 0; i < info.dims.size(); ++i) {
          want += (i ? "x" : "") + (info.dims[i] >= 0 ? std::to_string(info.dims[i])
                                                      : (info.dim_names[i].empty() ? "?" : info.dim_names[i]));
        }
        return invalid_argument("input '" + info.name + "' has shape " + dims_to_string(t.dims()) +
                                ", but the model expects " + (want.empty() ? "scalar" : want));
      }
    }
    args.emplace_back(t);
  }
  INGOT_ASSIGN_OR_RETURN(std::vector<RtValue> outs, exec::run_graph(g, args));
  std::map<std::string, Tensor> result;
  for (size_t i = 0; i < outs.size(); ++i) {
    if (!outs[i].is_tensor()) {
      return unsupported("output '" + impl.outputs[i].name + "' is a sequence or optional, which this API cannot return");
    }
    result[impl.outputs[i].name] = std::move(outs[i].tensor);
  }
  return result;
}

const char* version() { return "0.1.0"; }

}  // namespace ingot
