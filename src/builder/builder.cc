#include "builder/builder.h"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include "backends/device.h"
#include "backends/tactic.h"
#include "backends/timing_cache.h"
#include "builder/memory_planner.h"
#include "builder/precision.h"
#include "exec/interpreter.h"
#include "ops/op.h"
#include "passes/pass.h"

namespace ingot::builder {
namespace {

using engine::Plan;
using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

bool is_graph_input(const ir::Graph& g, const ir::Value* v) {
  return std::find(g.inputs.begin(), g.inputs.end(), v) != g.inputs.end();
}

// Ops whose output 0 is a view of input 0's memory (the reference kernels return a reshaped view).
bool is_view_op(const ir::Node& n) {
  static const std::set<std::string> kViews = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Identity"};
  return n.domain.empty() && kViews.count(n.op_type);
}

// Elementwise ops whose reference kernels read element i of each input before writing element i of the
// output, so the output may take the place of an input of the same shape and type.
bool may_run_in_place(const ir::Node& n) {
  static const std::set<std::string> kElementwise = {
      "Relu", "LeakyRelu", "Sigmoid", "Tanh", "Exp",         "Log",       "Sqrt",     "Neg",
      "Abs",  "Erf",       "Elu",     "Selu", "HardSigmoid", "HardSwish", "Softplus", "Clip",
      "Gelu", "Add",       "Sub",     "Mul",  "Div",         "Reciprocal"};
  return n.domain.empty() && kElementwise.count(n.op_type) && n.outputs.size() == 1;
}

int64_t static_bytes(const ir::ValueType& t) {
  if (t.kind != ir::ValueType::Kind::kTensor || !t.has_shape || !ir::is_static(t.shape) ||
      t.dtype == DType::kString || t.dtype == DType::kUndefined) {
    return -1;
  }
  auto n = checked_numel(ir::to_dims(t.shape));
  if (!n.ok()) return -1;
  return *n * static_cast<int64_t>(dtype_size(t.dtype));
}

Status check_range(const std::string& label, const std::string& name, const ShapeRange& r) {
  if (r.min.size() != r.opt.size() || r.min.size() != r.max.size()) {
    return invalid_argument(label + ": input '" + name + "': --min-shapes " + dims_to_string(r.min) +
                            ", --opt-shapes " + dims_to_string(r.opt) + " and --max-shapes " +
                            dims_to_string(r.max) + " must have the same rank");
  }
  for (size_t i = 0; i < r.min.size(); ++i) {
    if (r.min[i] < 0 || r.min[i] > r.opt[i] || r.opt[i] > r.max[i]) {
      return invalid_argument(label + ": input '" + name + "': dimension " + std::to_string(i) +
                              " must satisfy 0 <= min <= opt <= max, got min " + dims_to_string(r.min) +
                              ", opt " + dims_to_string(r.opt) + ", max " + dims_to_string(r.max));
    }
  }
  return Status::Ok();
}

// Checks `dims` against the model's declared shape of input `v` (rank, fixed dims).
Status check_against_model(const ir::Value& v, const Dims& dims, const std::string& label,
                           const std::string& what) {
  if (v.type.has_shape && v.type.shape.size() != dims.size()) {
    return invalid_argument(label + ": input '" + v.name() + "' has rank " +
                            std::to_string(v.type.shape.size()) + ", but the shape given" + what + " is " +
                            dims_to_string(dims));
  }
  for (size_t i = 0; v.type.has_shape && i < dims.size(); ++i) {
    if (v.type.shape[i].is_static() && v.type.shape[i].value != dims[i]) {
      return invalid_argument(label + ": input '" + v.name() + "' has dimension " + std::to_string(i) +
                              " fixed to " + std::to_string(v.type.shape[i].value) + ", but the shape given" +
                              what + " is " + dims_to_string(dims));
    }
  }
  return Status::Ok();
}

Status run_build_passes(ir::Graph& g, const BuildConfig& config, const std::string& label) {
  passes::PipelineOptions po;
  po.disabled = config.disabled_passes;
  po.dump_ir_after = config.dump_ir_after;
  const std::vector<passes::Pass> pipeline = passes::build_passes();
  for (const auto& name : config.disabled_passes) {
    bool known = false;
    for (const auto& p : pipeline) known |= name == p.name;
    if (!known) return Status(StatusCode::kUsage, "--disable-pass: no pass named '" + name + "'");
  }
  return passes::run_pipeline(g, pipeline, po).with_context(label);
}

class PlanCompiler {
 public:
  PlanCompiler(std::shared_ptr<ir::Graph> graph, const std::unordered_map<std::string, int64_t>& max_bytes,
               const std::string& label)
      : graph_(std::move(graph)), max_bytes_(max_bytes), label_(label) {}

  Expected<Plan> compile() {
    const ir::Graph& g = *graph_;
    plan_.source = label_;
    for (const ir::Value* v : g.inputs) plan_.inputs.push_back(add_tensor(v, TensorKind::kInput));
    for (const auto& node : g.nodes()) INGOT_RETURN_IF_ERROR(add_layer(*node));
    for (const ir::Value* v : g.outputs) {
      auto it = ids_.find(v);
      int32_t id;
      if (it != ids_.end()) {
        id = it->second;
      } else if (v->constant) {
        id = add_tensor(v, TensorKind::kWeight);
      } else {
        return internal_error(label_ + ": output '" + v->name() + "' is never computed");
      }
      if (plan_.tensors[id].kind == TensorKind::kActivation) plan_.tensors[id].kind = TensorKind::kOutput;
      plan_.outputs.push_back(id);
    }
    mark_in_place();
    pinned_.resize(plan_.tensors.size(), false);
    plan_memory(plan_, pinned_);
    // Subgraph layers point into the graph; keep it alive with the plan.
    bool has_subgraphs = false;
    for (const PlanLayer& l : plan_.layers) has_subgraphs |= !l.outer_reads.empty() || l.has_subgraph;
    if (has_subgraphs) plan_.keep_alive.push_back(graph_);
    return std::move(plan_);
  }

 private:
  int32_t add_tensor(const ir::Value* v, TensorKind kind) {
    auto it = ids_.find(v);
    if (it != ids_.end()) return it->second;
    PlanTensor t;
    t.name = v->name();
    t.dtype = v->type.dtype;
    t.kind = kind;
    t.rank_known = v->type.has_shape;
    for (const ir::Dim& d : v->type.shape) {
      t.dims.push_back(d.is_static() ? d.value : -1);
      t.dim_symbols.push_back(d.is_static() ? "" : d.symbol);
    }
    if (kind == TensorKind::kWeight) {
      t.weight = *v->constant;
      t.dtype = t.weight.dtype();
      t.rank_known = true;
      t.dims = t.weight.dims();
      t.dim_symbols.assign(t.dims.size(), "");
    } else {
      t.max_bytes = static_bytes(v->type);
      if (t.max_bytes < 0) {
        auto m = max_bytes_.find(v->name());
        if (m != max_bytes_.end()) t.max_bytes = m->second;
      }
    }
    const auto id = static_cast<int32_t>(plan_.tensors.size());
    plan_.tensors.push_back(std::move(t));
    ids_[v] = id;
    return id;
  }

  Expected<int32_t> input_id(const ir::Node& node, const ir::Value* v) {
    auto it = ids_.find(v);
    if (it != ids_.end()) return it->second;
    if (v->constant && !v->producer) return add_tensor(v, TensorKind::kWeight);
    return internal_error(label_ + ": " + node.describe() + " reads '" + v->name() +
                          "' before it is computed");
  }

  Status add_layer(const ir::Node& node) {
    PlanLayer layer;
    layer.name = node.name;
    layer.domain = node.domain;
    layer.op_type = node.op_type;
    layer.opset = node.opset;
    layer.attrs = node.attrs;
    auto fused = layer.attrs.find("fused_from");
    if (fused != layer.attrs.end()) {
      layer.fused = fused->second.strings;
      layer.attrs.erase(fused);
    } else {
      layer.fused = {node.op_type + ":" + node.name};
    }
    for (auto [attr, field] :
         {std::pair{kPrecisionAttr, &layer.precision}, {kPrecisionNoteAttr, &layer.precision_note}}) {
      auto it = layer.attrs.find(attr);
      if (it == layer.attrs.end()) continue;
      *field = it->second.s;
      layer.attrs.erase(it);
    }
    for (const ir::Value* v : node.inputs) {
      if (!v) {
        layer.inputs.push_back(-1);
        continue;
      }
      INGOT_ASSIGN_OR_RETURN(int32_t id, input_id(node, v));
      layer.inputs.push_back(id);
    }
    for (const auto& [_, a] : node.attrs) layer.has_subgraph |= a.g != nullptr || !a.graphs.empty();
    if (layer.has_subgraph) {
      std::vector<const ir::Value*> reads;
      exec::subgraph_reads(node, reads);
      for (const ir::Value* v : reads) {
        if (!v || v->owner != graph_.get()) continue;
        INGOT_ASSIGN_OR_RETURN(int32_t id, input_id(node, v));
        layer.outer_reads.emplace_back(v, id);
        if (pinned_.size() <= static_cast<size_t>(id)) pinned_.resize(id + 1, false);
        pinned_[id] = true;
      }
    }
    for (const ir::Value* v : node.outputs)
      layer.outputs.push_back(v ? add_tensor(v, TensorKind::kActivation) : -1);
    if (is_view_op(node) && layer.inputs.size() >= 1 && layer.inputs[0] >= 0 && layer.outputs.size() >= 1 &&
        layer.outputs[0] >= 0) {
      const TensorKind k = plan_.tensors[layer.inputs[0]].kind;
      if (k == TensorKind::kActivation || k == TensorKind::kOutput)
        plan_.tensors[layer.outputs[0]].alias_of = layer.inputs[0];
    }
    if (may_run_in_place(node)) in_place_candidates_.push_back({plan_.layers.size(), &node});
    plan_.layers.push_back(std::move(layer));
    return Status::Ok();
  }

  int32_t root_of(int32_t t) const {
    while (plan_.tensors[t].alias_of >= 0) t = plan_.tensors[t].alias_of;
    return t;
  }

  // An elementwise layer may write its output over an input that dies there: same type, same shape,
  // an arena activation that nothing (no view of it either) reads later.
  void mark_in_place() {
    pinned_.resize(plan_.tensors.size(), false);
    std::vector<int> last(plan_.tensors.size(), -1);
    for (size_t l = 0; l < plan_.layers.size(); ++l)
      for (int32_t t : plan_.layers[l].inputs)
        if (t >= 0) last[root_of(t)] = static_cast<int>(l);
    for (const auto& [l, node] : in_place_candidates_) {
      PlanLayer& layer = plan_.layers[l];
      const int32_t out = layer.outputs[0];
      if (out < 0 || plan_.tensors[out].kind != TensorKind::kActivation || plan_.tensors[out].alias_of >= 0)
        continue;
      const ir::Value* vout = node->outputs[0];
      for (size_t k = 0; k < layer.inputs.size(); ++k) {
        const int32_t in = layer.inputs[k];
        if (in < 0) continue;
        const PlanTensor& t = plan_.tensors[in];
        const ir::Value* vin = node->inputs[k];
        if (t.kind != TensorKind::kActivation || t.alias_of >= 0 || pinned_[in] || t.max_bytes < 0 ||
            t.dtype != plan_.tensors[out].dtype || t.max_bytes != plan_.tensors[out].max_bytes ||
            last[in] != static_cast<int>(l) || !vin->type.has_shape || !vout->type.has_shape ||
            !(vin->type.shape == vout->type.shape)) {
          continue;
        }
        bool has_views = false;
        for (const PlanTensor& o : plan_.tensors) has_views |= o.alias_of == in;
        if (has_views) continue;
        plan_.tensors[out].alias_of = in;
        layer.in_place_input = static_cast<int32_t>(k);
        break;
      }
    }
  }

  std::shared_ptr<ir::Graph> graph_;
  const std::unordered_map<std::string, int64_t>& max_bytes_;
  std::string label_;
  Plan plan_;
  std::unordered_map<const ir::Value*, int32_t> ids_;
  std::vector<bool> pinned_;
  std::vector<std::pair<size_t, const ir::Node*>> in_place_candidates_;
};

}  // namespace

Status apply_input_shapes(ir::Graph& graph, const std::map<std::string, Dims>& shapes,
                          const std::string& label, const std::string& flag) {
  for (const auto& [name, dims] : shapes) {
    ir::Value* v = graph.find_local(name);
    if (!v || !is_graph_input(graph, v)) {
      return invalid_argument(label + ": " + flag + " names '" + name + "', which is not a model input");
    }
    INGOT_RETURN_IF_ERROR(check_against_model(*v, dims, label, ""));
    v->type.has_shape = true;
    v->type.shape = ir::to_sym_shape(dims);
  }
  return Status::Ok();
}

Expected<std::map<std::string, Dims>> static_shapes_of(const ir::Graph& graph, const BuildConfig& config,
                                                       const std::string& label) {
  std::map<std::string, Dims> out = config.shapes;
  for (const auto& [name, range] : config.profile) {
    ir::Value* v = graph.find_local(name);
    if (!v || !is_graph_input(graph, v)) {
      return invalid_argument(label + ": the profile names '" + name + "', which is not a model input");
    }
    if (config.shapes.count(name)) {
      return Status(StatusCode::kUsage,
                    "input '" + name + "' is given both --shapes and a min/opt/max profile");
    }
    INGOT_RETURN_IF_ERROR(check_range(label, name, range));
    INGOT_RETURN_IF_ERROR(check_against_model(*v, range.min, label, " (min)"));
    INGOT_RETURN_IF_ERROR(check_against_model(*v, range.max, label, " (max)"));
    if (range.min == range.max) out[name] = range.min;
  }
  return out;
}

namespace {

// A runner over the FP32 graph that also returns `tensors`: the graph compiled with them as extra
// outputs, tactics chosen without timing, made into an engine by `make_engine`.
Expected<ActivationRunner> calibration_runner(const std::shared_ptr<ir::Graph>& graph,
                                              const std::vector<std::string>& tensors,
                                              const std::string& label, const EngineFromPlanFn& make_engine) {
  if (!make_engine) return internal_error(label + ": this builder cannot run the model to calibrate it");
  const std::vector<ir::Value*> outputs = graph->outputs;
  std::vector<std::string> from_inputs;
  for (const std::string& name : tensors) {
    ir::Value* v = graph->find_local(name);
    if (!v) return internal_error(label + ": no tensor '" + name + "' to calibrate");
    if (is_graph_input(*graph, v)) {
      from_inputs.push_back(name);
    } else if (std::find(graph->outputs.begin(), graph->outputs.end(), v) == graph->outputs.end()) {
      graph->outputs.push_back(v);
    }
  }
  const std::unordered_map<std::string, int64_t> no_max;
  PlanCompiler compiler(graph, no_max, label + " (calibration)");
  auto plan = compiler.compile();
  graph->outputs = outputs;
  if (!plan.ok()) return plan.status();
  for (PlanLayer& l : plan->layers) l.precision = "fp32";
  INGOT_RETURN_IF_ERROR(backends::select_tactics(*plan, backends::TuningOptions{.opt_level = 0}));
  INGOT_ASSIGN_OR_RETURN(std::shared_ptr<Engine> engine, make_engine(std::move(*plan)));
  auto context = std::shared_ptr<ExecutionContext>(engine->create_context());
  return ActivationRunner(
      [context, engine,
       from_inputs](const std::map<std::string, Tensor>& inputs) -> Expected<std::map<std::string, Tensor>> {
        INGOT_ASSIGN_OR_RETURN(auto out, context->run(inputs));
        for (const std::string& name : from_inputs) {
          auto it = inputs.find(name);
          if (it != inputs.end()) out[name] = it->second;
        }
        return out;
      });
}

}  // namespace

Expected<Plan> build_plan(const ImportFn& import, const BuildConfig& config, const std::string& label,
                          const EngineFromPlanFn& make_engine, ScaleMemo* scales) {
  if (config.accuracy_budget != 0) return build_within_accuracy_budget(import, config, label, make_engine);
  INGOT_ASSIGN_OR_RETURN(onnx_import::Model model, import());
  std::shared_ptr<ir::Graph> graph(std::move(model.graph));
  INGOT_ASSIGN_OR_RETURN(auto fixed, static_shapes_of(*graph, config, label));
  INGOT_RETURN_IF_ERROR(apply_input_shapes(*graph, fixed, label, "--shapes"));
  // Dynamic profile inputs keep their symbolic dims, but get a rank and the dims min == max pins.
  std::map<std::string, Dims> at_max = fixed;
  std::vector<engine::ProfileEntry> profile;
  for (const auto& [name, range] : config.profile) {
    profile.push_back({name, range.min, range.opt, range.max});
    if (fixed.count(name)) continue;
    at_max[name] = range.max;
    ir::Value* v = graph->find_local(name);
    ir::SymShape shape = v->type.has_shape ? v->type.shape : ir::SymShape(range.min.size());
    for (size_t i = 0; i < shape.size(); ++i)
      if (range.min[i] == range.max[i]) shape[i] = ir::Dim(range.min[i]);
    v->type.has_shape = true;
    v->type.shape = std::move(shape);
  }
  INGOT_RETURN_IF_ERROR(run_build_passes(*graph, config, label));
  INGOT_RETURN_IF_ERROR(assign_precision(
      *graph, config, label,
      [&](const std::vector<std::string>& tensors) {
        return calibration_runner(graph, tensors, label, make_engine);
      },
      scales));

  // Sizes under the max shapes: the same model built again with every profile input at its max.
  std::unordered_map<std::string, int64_t> max_bytes;
  if (at_max.size() > fixed.size()) {
    INGOT_ASSIGN_OR_RETURN(onnx_import::Model m2, import());
    INGOT_RETURN_IF_ERROR(apply_input_shapes(*m2.graph, at_max, label, "--max-shapes"));
    BuildConfig quiet = config;
    quiet.dump_ir_after.clear();
    INGOT_RETURN_IF_ERROR(run_build_passes(*m2.graph, quiet, label + " (at the max shapes)"));
    for (const auto& [name, v] : m2.graph->values()) {
      const int64_t b = static_bytes(v->type);
      if (b >= 0) max_bytes[name] = b;
    }
  }
  PlanCompiler compiler(graph, max_bytes, label);
  INGOT_ASSIGN_OR_RETURN(Plan plan, compiler.compile());
  plan.profile = std::move(profile);
  if (config.device != "cpu") {
    INGOT_ASSIGN_OR_RETURN(const backends::DeviceBackend* backend,
                           backends::find_device_backend(config.device));
    const std::string why = backend->available();
    if (!why.empty()) return unsupported(label + ": cannot build for --device " + config.device + ": " + why);
    plan.platform = backend->fingerprint();
    INGOT_RETURN_IF_ERROR(backend->select(plan, config).with_context(label));
    return plan;
  }
  backends::TuningOptions tuning{.opt_level = config.opt_level, .progress = config.progress};
  // Levels 2 and 3 time longer: more repeats, and slow candidates dropped later (3: never).
  if (config.opt_level == 2) {
    tuning.repeats = 9;
    tuning.give_up_ratio = 20;
  } else if (config.opt_level >= 3) {
    tuning.repeats = 15;
    tuning.give_up_ratio = 1e30;
  }
  std::optional<backends::TimingCache> cache;
  if (!config.timing_cache.empty()) {
    cache = backends::TimingCache::load(config.timing_cache);
    tuning.cache = &*cache;
  }
  INGOT_RETURN_IF_ERROR(backends::select_tactics(plan, tuning));
  if (cache) INGOT_RETURN_IF_ERROR(cache->save(config.timing_cache));
  // The backends' plan passes may have changed tensors' sizes (int8 activations): plan memory again, with
  // the tensors that subgraphs read pinned as before.
  std::vector<bool> pinned(plan.tensors.size(), false);
  for (const PlanLayer& l : plan.layers)
    for (const auto& [_, id] : l.outer_reads) pinned[id] = true;
  plan_memory(plan, pinned);
  return plan;
}

}  // namespace ingot::builder
