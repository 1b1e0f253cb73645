// The runtime: executes a compiled plan. Layers run in order through their tactic; activations live in
// the execution context's arena at the places the memory planner chose.
#include "ingot/engine.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include "backends/device.h"
#include "backends/tactic.h"
#include "builder/builder.h"
#include "core/platform.h"
#include "engine/engine_file.h"
#include "exec/interpreter.h"
#include "onnx/importer.h"
#include "ops/op.h"
#include "runtime/engine_internal.h"

namespace ingot {

using engine::Plan;
using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

namespace {

// What a layer needs to run: its op, and a node carrying its attributes for the reference tactic.
struct Step {
  const ops::OpDef* def = nullptr;
  std::unique_ptr<ir::Node> node;
  std::vector<std::unique_ptr<ir::Value>> slots;  // placeholders so the node knows which inputs exist
  std::vector<int32_t> release;                   // tensors whose last reader this is
  std::unique_ptr<backends::Kernel> kernel;       // the layer's tactic; null: the reference evaluation
};

std::string shape_text(const PlanTensor& t) {
  if (!t.rank_known) return std::string(dtype_name(t.dtype)) + "[?]";
  std::string s = std::string(dtype_name(t.dtype)) + "[";
  for (size_t i = 0; i < t.dims.size(); ++i) {
    s += (i ? "," : "");
    s += t.dims[i] >= 0 ? std::to_string(t.dims[i]) : (t.dim_symbols[i].empty() ? "?" : t.dim_symbols[i]);
  }
  return s + "]";
}

TensorInfo info_of(const PlanTensor& t) {
  TensorInfo i;
  i.name = t.name;
  i.dtype = t.dtype;
  i.rank_known = t.rank_known;
  i.dims = t.dims;
  i.dim_names = t.dim_symbols;
  return i;
}

}  // namespace

struct Engine::Impl {
  Plan plan;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
  std::vector<Step> steps;
  std::vector<RtValue> weights;  // per tensor id (weights only), shared by every context
  std::vector<int32_t> roots;    // per tensor id, the tensor whose arena place it uses
  std::map<std::string, ShapeRange> profile;
  std::string device = "cpu";
  std::shared_ptr<backends::DeviceEngine> device_engine;  // device engines: the layers run there

  Status prepare() {
    const size_t n = plan.tensors.size();
    weights.resize(n);
    roots.resize(n);
    for (size_t i = 0; i < n; ++i) {
      const PlanTensor& t = plan.tensors[i];
      if (t.kind == TensorKind::kWeight) weights[i] = RtValue(t.weight);
      int32_t r = static_cast<int32_t>(i);
      while (plan.tensors[r].alias_of >= 0) r = plan.tensors[r].alias_of;
      roots[i] = r;
    }
    for (int32_t id : plan.inputs) inputs.push_back(info_of(plan.tensors[id]));
    for (int32_t id : plan.outputs) outputs.push_back(info_of(plan.tensors[id]));
    for (const auto& e : plan.profile) profile[e.input] = ShapeRange{e.min, e.opt, e.max};
    device = fingerprint_device(plan.platform);
    if (device != "cpu") {
      INGOT_ASSIGN_OR_RETURN(const backends::DeviceBackend* backend, backends::find_device_backend(device));
      INGOT_ASSIGN_OR_RETURN(device_engine, backend->load(plan));
      return Status::Ok();
    }
    // Last reader of each tensor: its value is dropped after that layer (outputs are kept).
    std::vector<int> last(n, -1);
    for (size_t l = 0; l < plan.layers.size(); ++l) {
      for (int32_t t : plan.layers[l].inputs)
        if (t >= 0) last[t] = static_cast<int>(l);
      for (const auto& [_, t] : plan.layers[l].outer_reads) last[t] = static_cast<int>(l);
    }
    for (int32_t t : plan.outputs) last[t] = -1;
    steps.resize(plan.layers.size());
    for (size_t l = 0; l < plan.layers.size(); ++l) {
      const PlanLayer& layer = plan.layers[l];
      Step& s = steps[l];
      s.def = ops::find_op(layer.domain, layer.op_type);
      if (!s.def || !s.def->run) {
        return unsupported("layer '" + layer.name + "': op " +
                           (layer.domain.empty() ? "" : layer.domain + ".") + layer.op_type +
                           " has no implementation");
      }
      s.node = std::make_unique<ir::Node>();
      s.node->name = layer.name;
      s.node->op_type = layer.op_type;
      s.node->domain = layer.domain;
      s.node->opset = layer.opset;
      s.node->attrs = layer.attrs;
      auto slot = [&](int32_t id) -> ir::Value* {
        if (id < 0) return nullptr;
        s.slots.push_back(std::make_unique<ir::Value>(plan.tensors[id].name));
        return s.slots.back().get();
      };
      for (int32_t id : layer.inputs) s.node->inputs.push_back(slot(id));
      for (int32_t id : layer.outputs) s.node->outputs.push_back(slot(id));
      if (!layer.tactic.empty() && layer.tactic != backends::kReferenceTactic) {
        const backends::Tactic* tactic = backends::find_tactic(layer.tactic);
        if (!tactic) {
          return invalid_argument("layer '" + layer.name + "' uses tactic '" + layer.tactic +
                                  "', which this ingot does not have: rebuild the engine on this machine");
        }
        backends::LayerDesc desc{layer, plan.tensors};
        const std::string why = tactic->supports(desc);
        if (!why.empty())
          return invalid_argument("layer '" + layer.name + "': tactic " + layer.tactic + ": " + why);
        INGOT_ASSIGN_OR_RETURN(s.kernel, tactic->prepare(desc));
      }
    }
    for (size_t t = 0; t < n; ++t)
      if (last[t] >= 0 && plan.tensors[t].kind != TensorKind::kWeight)
        steps[last[t]].release.push_back(static_cast<int32_t>(t));
    return Status::Ok();
  }
};

namespace runtime {

Expected<std::shared_ptr<Engine>> engine_from_plan(Plan plan) {
  if (plan.platform.empty()) plan.platform = cpu_fingerprint();
  if (plan.ingot_version.empty()) plan.ingot_version = version();
  auto impl = std::make_unique<Engine::Impl>();
  impl->plan = std::move(plan);
  INGOT_RETURN_IF_ERROR(impl->prepare());
  return Engine::create(std::move(impl));
}

}  // namespace runtime

using runtime::engine_from_plan;

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
std::shared_ptr<Engine> Engine::create(std::unique_ptr<Impl> impl) {
  return std::shared_ptr<Engine>(new Engine(std::move(impl)));
}
Engine::~Engine() = default;

Expected<std::shared_ptr<Engine>> Engine::from_onnx_file(const std::string& path, const BuildConfig& config) {
  INGOT_ASSIGN_OR_RETURN(Plan plan, builder::build_plan([&] { return onnx_import::import_file(path); },
                                                        config, path, engine_from_plan));
  return engine_from_plan(std::move(plan));
}

Expected<std::shared_ptr<Engine>> Engine::from_onnx_bytes(const std::string& bytes,
                                                          const BuildConfig& config) {
  INGOT_ASSIGN_OR_RETURN(
      Plan plan, builder::build_plan([&] { return onnx_import::import_bytes(bytes, "", "<memory>"); }, config,
                                     "<memory>", engine_from_plan));
  return engine_from_plan(std::move(plan));
}

Expected<std::shared_ptr<Engine>> Engine::load(const std::string& path) {
  INGOT_ASSIGN_OR_RETURN(Plan plan, engine::read_engine_file(path));
  return engine_from_plan(std::move(plan));
}

Status Engine::save(const std::string& path) const { return engine::write_engine_file(impl_->plan, path); }

const std::vector<TensorInfo>& Engine::inputs() const { return impl_->inputs; }
const std::vector<TensorInfo>& Engine::outputs() const { return impl_->outputs; }
std::map<std::string, ShapeRange> Engine::profile() const { return impl_->profile; }
std::string Engine::source() const { return impl_->plan.source; }
AccuracyReport Engine::accuracy() const { return impl_->plan.accuracy; }
std::string Engine::platform() const { return impl_->plan.platform; }
std::string Engine::built_by() const { return impl_->plan.ingot_version; }
std::string Engine::device() const { return impl_->device; }

std::vector<LayerInfo> Engine::layers() const {
  std::vector<LayerInfo> out;
  const Plan& p = impl_->plan;
  for (const PlanLayer& l : p.layers) {
    LayerInfo i;
    i.name = l.name;
    i.op = (l.domain.empty() ? "" : l.domain + ".") + l.op_type;
    i.fused = l.fused;
    i.precision = l.precision;
    i.precision_note = l.precision_note;
    i.tactic = l.tactic;
    i.in_place = l.in_place_input >= 0;
    // Device engines have no CPU steps (their layers run in the device backend).
    const size_t at = static_cast<size_t>(&l - p.layers.data());
    i.reorders =
        at < impl_->steps.size() && impl_->steps[at].kernel ? impl_->steps[at].kernel->reorders() : 0;
    for (int32_t t : l.inputs)
      if (t >= 0) i.inputs.push_back(p.tensors[t].name + ": " + shape_text(p.tensors[t]));
    for (int32_t t : l.outputs)
      if (t >= 0) i.outputs.push_back(p.tensors[t].name + ": " + shape_text(p.tensors[t]));
    out.push_back(std::move(i));
  }
  return out;
}

MemoryInfo Engine::memory() const {
  const Plan& p = impl_->plan;
  MemoryInfo m;
  m.arena_bytes = p.arena_bytes;
  m.naive_bytes = p.naive_bytes;
  for (const PlanTensor& t : p.tensors) {
    if (t.kind == TensorKind::kWeight) m.weight_bytes += static_cast<int64_t>(t.weight.nbytes());
    if (t.kind != TensorKind::kActivation && t.kind != TensorKind::kOutput) continue;
    if (t.arena_offset >= 0) {
      ++m.planned_tensors;
    } else if (t.alias_of < 0 && t.kind == TensorKind::kActivation) {
      ++m.dynamic_tensors;  // outputs are the caller's, not counted
    }
  }
  return m;
}

std::unique_ptr<ExecutionContext> Engine::create_context() const {
  // Engines are always owned by a shared_ptr (see from_onnx_*); contexts keep them alive.
  return std::make_unique<ExecutionContext>(shared_from_this());
}

struct ExecutionContext::State {
  std::shared_ptr<uint8_t> arena;
  int64_t arena_bytes = 0;
  std::vector<RtValue> values;
  bool profiling = false;
  std::vector<double> layer_ms;  // per layer, summed over the profiled runs
  int64_t profiled_runs = 0;
  std::unique_ptr<backends::DeviceContext> device;  // device engines, created at the first run
};

ExecutionContext::ExecutionContext(std::shared_ptr<const Engine> engine)
    : engine_(std::move(engine)), state_(std::make_unique<State>()) {
  const Plan& plan = engine_->impl_->plan;
  state_->arena_bytes = plan.arena_bytes;
  if (plan.arena_bytes > 0 && !engine_->impl_->device_engine) {
    auto* p = static_cast<uint8_t*>(std::aligned_alloc(64, (plan.arena_bytes + 63) / 64 * 64));
    state_->arena = std::shared_ptr<uint8_t>(p, [](uint8_t* q) { std::free(q); });
  }
  state_->values.resize(plan.tensors.size());
}

ExecutionContext::~ExecutionContext() = default;

namespace {

Status check_inputs(const Engine::Impl& impl, const std::map<std::string, Tensor>& inputs) {
  std::string known;
  for (const TensorInfo& t : impl.inputs) known += (known.empty() ? "" : ", ") + t.name;
  for (const auto& [name, _] : inputs) {
    bool found = false;
    for (const TensorInfo& t : impl.inputs) found |= t.name == name;
    if (!found)
      return invalid_argument("unknown input '" + name + "' (the model's inputs are: " + known + ")");
  }
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
          want +=
              (i ? "x" : "") + (info.dims[i] >= 0 ? std::to_string(info.dims[i])
                                                  : (info.dim_names[i].empty() ? "?" : info.dim_names[i]));
        }
        return invalid_argument("input '" + info.name + "' has shape " + dims_to_string(t.dims()) +
                                ", but the model expects " + (want.empty() ? "scalar" : want));
      }
    }
    auto range = impl.profile.find(info.name);
    if (range != impl.profile.end()) {
      const ShapeRange& r = range->second;
      bool ok = t.dims().size() == r.min.size();
      for (size_t i = 0; ok && i < r.min.size(); ++i) ok = t.dims()[i] >= r.min[i] && t.dims()[i] <= r.max[i];
      if (!ok) {
        return invalid_argument("input '" + info.name + "' has shape " + dims_to_string(t.dims()) +
                                ", outside the engine's profile: min " + dims_to_string(r.min) + ", max " +
                                dims_to_string(r.max) + " (rebuild with a wider --min-shapes/--max-shapes)");
      }
    }
  }
  return Status::Ok();
}

bool in_range(const void* p, const uint8_t* base, int64_t bytes) {
  const auto* q = static_cast<const uint8_t*>(p);
  return base && q >= base && q < base + bytes;
}

}  // namespace

Expected<std::map<std::string, Tensor>> ExecutionContext::run(const std::map<std::string, Tensor>& inputs) {
  const Engine::Impl& impl = *engine_->impl_;
  const Plan& plan = impl.plan;
  State& st = *state_;
  INGOT_RETURN_IF_ERROR(check_inputs(impl, inputs));
  if (impl.device_engine) {
    if (!st.device) {
      INGOT_ASSIGN_OR_RETURN(st.device, impl.device_engine->create_context());
    }
    return st.device->run(inputs);
  }
  std::vector<RtValue>& values = st.values;
  for (size_t i = 0; i < plan.inputs.size(); ++i)
    values[plan.inputs[i]] = RtValue(inputs.at(impl.inputs[i].name));
  uint8_t* arena = st.arena.get();
  // Drop whatever a failed run left behind, so no stale value is read.
  struct Cleanup {
    std::vector<RtValue>& v;
    ~Cleanup() {
      for (RtValue& x : v) x = RtValue();
    }
  } cleanup{values};

  auto resolve = [&](int32_t id) -> const RtValue* {
    return plan.tensors[id].kind == TensorKind::kWeight ? &impl.weights[id] : &values[id];
  };

  using Clock = std::chrono::steady_clock;
  if (st.profiling) {
    st.layer_ms.resize(plan.layers.size(), 0.0);
    ++st.profiled_runs;
  }
  for (size_t l = 0; l < plan.layers.size(); ++l) {
    const PlanLayer& layer = plan.layers[l];
    const Step& step = impl.steps[l];
    const Clock::time_point layer_start = st.profiling ? Clock::now() : Clock::time_point();
    std::vector<const RtValue*> in(layer.inputs.size(), nullptr);
    for (size_t i = 0; i < layer.inputs.size(); ++i)
      if (layer.inputs[i] >= 0) in[i] = resolve(layer.inputs[i]);
    std::vector<RtValue> out(layer.outputs.size());
    // Outputs go to their arena place when they fit; the in-place output reuses its input's memory.
    ops::RunContext::OutputAllocator allocate = [&](size_t i, DType dtype, Dims dims) -> Expected<Tensor> {
      const int32_t id = i < layer.outputs.size() ? layer.outputs[i] : -1;
      if (id < 0 || !arena || dtype == DType::kString) return Tensor::create(dtype, std::move(dims));
      INGOT_ASSIGN_OR_RETURN(int64_t numel, checked_numel(dims));
      const int64_t bytes = numel * static_cast<int64_t>(dtype_size(dtype));
      const PlanTensor& root = plan.tensors[impl.roots[id]];
      if (root.arena_offset < 0 || bytes > root.max_bytes) return Tensor::create(dtype, std::move(dims));
      uint8_t* place = arena + root.arena_offset;
      if (i == 0 && layer.in_place_input >= 0) {
        const RtValue* src = in[layer.in_place_input];
        if (src && src->is_tensor() && src->tensor.raw() == place &&
            static_cast<int64_t>(src->tensor.nbytes()) == bytes) {
          return Tensor::wrap(dtype, std::move(dims), st.arena, place);
        }
        if (in_range(src ? src->tensor.raw() : nullptr, arena, st.arena_bytes) || !src) {
          return Tensor::create(dtype, std::move(dims));
        }
      }
      if (!step.kernel || !step.kernel->overwrites_outputs())
        std::memset(place, 0, static_cast<size_t>(bytes));
      return Tensor::wrap(dtype, std::move(dims), st.arena, place);
    };
    ops::RunContext ctx(*step.node, in, &out,
                        [&](const ir::Graph& g, const std::vector<RtValue>& sub_inputs) {
                          exec::Frame frame(nullptr);
                          for (const auto& [v, id] : layer.outer_reads) frame.set(v, *resolve(id));
                          return exec::run_graph(g, sub_inputs, &frame);
                        });
    ctx.set_allocator(&allocate);
    INGOT_RETURN_IF_ERROR(step.kernel ? step.kernel->run(ctx) : step.def->run(ctx));
    for (size_t i = 0; i < layer.outputs.size(); ++i) {
      const int32_t id = layer.outputs[i];
      if (id < 0) continue;
      RtValue& v = out[i];
      if (v.is_tensor()) {
        if (!v.tensor.defined()) {
          return internal_error("layer '" + layer.name + "' (" + layer.op_type + "): output " +
                                std::to_string(i) + " was not written");
        }
        // A view into the arena that is not where the plan put this tensor would be overwritten while
        // still alive: give it memory of its own.
        if (in_range(v.tensor.raw(), arena, st.arena_bytes)) {
          const PlanTensor& root = plan.tensors[impl.roots[id]];
          if (root.arena_offset < 0 || v.tensor.raw() != arena + root.arena_offset)
            v.tensor = v.tensor.clone();
        }
      } else {
        for (Tensor& t : v.sequence)
          if (in_range(t.raw(), arena, st.arena_bytes)) t = t.clone();
      }
      values[id] = std::move(v);
    }
    for (int32_t t : step.release) values[t] = RtValue();
    if (st.profiling)
      st.layer_ms[l] += std::chrono::duration<double, std::milli>(Clock::now() - layer_start).count();
  }
  std::map<std::string, Tensor> result;
  for (size_t i = 0; i < plan.outputs.size(); ++i) {
    const RtValue* v = resolve(plan.outputs[i]);
    if (!v->is_tensor()) {
      return unsupported("output '" + impl.outputs[i].name +
                         "' is a sequence or optional, which this API cannot return");
    }
    if (!v->tensor.defined()) return internal_error("output '" + impl.outputs[i].name + "' has no value");
    result[impl.outputs[i].name] =
        in_range(v->tensor.raw(), arena, st.arena_bytes) ? v->tensor.clone() : v->tensor;
  }
  return result;
}

void ExecutionContext::set_profiling(bool on) {
  state_->profiling = on;
  state_->layer_ms.assign(on ? engine_->impl_->plan.layers.size() : 0, 0.0);
  state_->profiled_runs = 0;
}

std::vector<LayerTime> ExecutionContext::profile() const {
  const Plan& plan = engine_->impl_->plan;
  std::vector<LayerTime> out;
  for (size_t l = 0; l < state_->layer_ms.size() && l < plan.layers.size(); ++l) {
    const PlanLayer& layer = plan.layers[l];
    LayerTime t;
    t.name = layer.name;
    t.op = (layer.domain.empty() ? "" : layer.domain + ".") + layer.op_type;
    t.tactic = layer.tactic.empty() ? backends::kReferenceTactic : layer.tactic;
    t.total_ms = state_->layer_ms[l];
    t.runs = state_->profiled_runs;
    out.push_back(std::move(t));
  }
  return out;
}

Status ExecutionContext::run_device_only() {
  if (!engine_->impl_->device_engine) return invalid_argument("run_device_only: this engine runs on the CPU");
  if (!state_->device)
    return invalid_argument("run_device_only: call run() once first (it uploads the inputs)");
  return state_->device->run_compute_only();
}

DeviceTiming ExecutionContext::last_device_timing() const {
  return state_->device ? state_->device->last_timing() : DeviceTiming{};
}

const char* version() { return "0.1.0"; }

}  // namespace ingot
