#include "backends/tactic.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>

#include "core/value.h"

namespace ingot::backends {
namespace {

std::vector<Tactic>& registry() {
  static std::vector<Tactic> r;
  return r;
}

class ReferenceKernel : public Kernel {
 public:
  explicit ReferenceKernel(ops::RunFn run) : run_(run) {}
  Status run(ops::RunContext& ctx) const override { return run_(ctx); }

 private:
  ops::RunFn run_;
};

// Random values for a layer input at its plan shape; weights are the plan's. Fails (and the layer is
// not timed) where the shape is only known at run time or the type is not a float one, since random
// integers could be out-of-range indices.
Expected<Tensor> tuning_input(const engine::PlanTensor& t, std::mt19937& rng) {
  if (t.kind == engine::TensorKind::kWeight) return t.weight;
  if (!t.rank_known) return unsupported("rank unknown");
  for (int64_t d : t.dims)
    if (d < 0) return unsupported("dynamic shape");
  if (t.dtype != DType::kF32 && t.dtype != DType::kF64) return unsupported("not a float tensor");
  INGOT_ASSIGN_OR_RETURN(Tensor x, Tensor::create(t.dtype, t.dims));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < x.numel(); ++i) {
    if (t.dtype == DType::kF32)
      x.data<float>()[i] = u(rng);
    else
      x.data<double>()[i] = u(rng);
  }
  return x;
}

double seconds_of(const std::function<Status()>& f, bool* ok) {
  const auto t0 = std::chrono::steady_clock::now();
  *ok = f().ok();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

bool log_tuning() {
  static const bool on = [] {
    const char* e = std::getenv("INGOT_LOG_TUNING");
    return e && *e && std::string(e) != "0";
  }();
  return on;
}

// The median seconds of one run of each candidate on the layer; the fastest is returned, or "" when none
// could be timed. Candidates are tried in order, the reference last.
std::string fastest_by_timing(const LayerDesc& desc, const std::vector<const Tactic*>& candidates,
                              const std::vector<Tensor>& inputs, const TuningOptions& options) {
  std::string best_id;
  double best = 0;
  std::string log;
  auto consider = [&](const char* id, Expected<std::unique_ptr<Kernel>> kernel) {
    if (!kernel.ok()) {
      if (log_tuning()) log += std::string(" ") + id + "=(" + kernel.status().message() + ")";
      return;
    }
    auto once = [&] { return run_kernel(desc, **kernel, inputs).status(); };
    bool ok = false;
    const double warm = seconds_of(once, &ok);
    if (!ok) {
      if (log_tuning()) log += std::string(" ") + id + "=(failed)";
      return;
    }
    double median = warm;
    if (best_id.empty() || warm <= options.give_up_ratio * best) {
      std::vector<double> times;
      for (int r = 0; r < std::max(1, options.repeats) && ok; ++r) times.push_back(seconds_of(once, &ok));
      if (!ok) return;
      std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
      median = times[times.size() / 2];
    }
    if (log_tuning()) log += std::string(" ") + id + "=" + std::to_string(median * 1e3) + "ms";
    if (best_id.empty() || median < best) {
      best_id = id;
      best = median;
    }
  };
  for (const Tactic* t : candidates) consider(t->id, t->prepare(desc));
  consider(kReferenceTactic, prepare_reference(desc));
  if (log_tuning())
    std::fprintf(stderr, "tune %s (%s):%s -> %s\n", desc.layer.name.c_str(), desc.layer.op_type.c_str(),
                 log.c_str(), best_id.c_str());
  return best_id;
}

// INGOT_TACTICS: a comma-separated list of tactic ids or id prefixes ("cpu.onednn") the builder may choose
// from, for debugging and for measuring what a tactic brings; "reference" alone turns every fast tactic
// off. Unset: all of them.
bool tactic_allowed(const char* id) {
  static const std::vector<std::string> allowed = [] {
    std::vector<std::string> v;
    const char* e = std::getenv("INGOT_TACTICS");
    std::string item;
    for (const char* p = e ? e : "";; ++p) {
      if (*p == ',' || *p == 0) {
        if (!item.empty()) v.push_back(item);
        item.clear();
        if (*p == 0) break;
      } else {
        item += *p;
      }
    }
    return v;
  }();
  if (allowed.empty()) return true;
  for (const std::string& a : allowed)
    if (std::string(id).rfind(a, 0) == 0) return true;
  return false;
}

}  // namespace

TacticRegistrar::TacticRegistrar(const Tactic& t) { registry().push_back(t); }

const Tactic* find_tactic(const std::string& id) {
  for (const Tactic& t : registry())
    if (id == t.id) return &t;
  return nullptr;
}

std::vector<const Tactic*> all_tactics() {
  std::vector<const Tactic*> out;
  for (const Tactic& t : registry()) out.push_back(&t);
  return out;
}

LayerNode::LayerNode(const engine::PlanLayer& layer, const std::vector<engine::PlanTensor>& tensors) {
  node.name = layer.name;
  node.op_type = layer.op_type;
  node.domain = layer.domain;
  node.opset = layer.opset;
  node.attrs = layer.attrs;
  auto slot = [&](int32_t id) -> ir::Value* {
    if (id < 0) return nullptr;
    slots.push_back(std::make_unique<ir::Value>(tensors[id].name));
    return slots.back().get();
  };
  for (int32_t id : layer.inputs) node.inputs.push_back(slot(id));
  for (int32_t id : layer.outputs) node.outputs.push_back(slot(id));
}

Expected<std::unique_ptr<Kernel>> prepare_reference(const LayerDesc& desc) {
  const ops::OpDef* def = ops::find_op(desc.layer.domain, desc.layer.op_type);
  if (!def || !def->run) {
    return unsupported("layer '" + desc.layer.name + "': op " + desc.layer.op_type +
                       " has no implementation");
  }
  return std::unique_ptr<Kernel>(std::make_unique<ReferenceKernel>(def->run));
}

Expected<std::vector<Tensor>> run_kernel(const LayerDesc& desc, const Kernel& kernel,
                                         const std::vector<Tensor>& inputs) {
  if (desc.layer.has_subgraph) return unsupported("layer '" + desc.layer.name + "' runs subgraphs");
  if (inputs.size() != desc.layer.inputs.size()) {
    return invalid_argument("layer '" + desc.layer.name + "' takes " +
                            std::to_string(desc.layer.inputs.size()) + " inputs, got " +
                            std::to_string(inputs.size()));
  }
  LayerNode ln(desc.layer, desc.tensors);
  std::vector<RtValue> in_values(inputs.size());
  std::vector<const RtValue*> in(inputs.size(), nullptr);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    in_values[i] = RtValue(inputs[i]);
    in[i] = &in_values[i];
  }
  std::vector<RtValue> out(desc.layer.outputs.size());
  ops::RunContext ctx(ln.node, in, &out,
                      [](const ir::Graph&, const std::vector<RtValue>&) -> Expected<std::vector<RtValue>> {
                        return internal_error("a layer run alone has no subgraphs");
                      });
  INGOT_RETURN_IF_ERROR(kernel.run(ctx));
  std::vector<Tensor> result;
  for (RtValue& v : out) result.push_back(std::move(v.tensor));
  return result;
}

Status select_tactics(engine::Plan& plan, const TuningOptions& options) {
  std::mt19937 rng(0x1a2b3c);
  for (engine::PlanLayer& layer : plan.layers) {
    layer.tactic = kReferenceTactic;
    if (layer.has_subgraph) continue;
    LayerDesc desc{layer, plan.tensors};
    std::vector<const Tactic*> candidates;
    for (const Tactic* t : all_tactics())
      if (t->supports && tactic_allowed(t->id) && t->supports(desc).empty()) candidates.push_back(t);
    if (candidates.empty()) continue;
    std::vector<Tensor> inputs;
    bool timeable = options.opt_level >= 1;
    for (size_t i = 0; timeable && i < layer.inputs.size(); ++i) {
      if (layer.inputs[i] < 0) {
        inputs.emplace_back();
        continue;
      }
      auto x = tuning_input(plan.tensors[layer.inputs[i]], rng);
      timeable = x.ok();
      if (timeable) inputs.push_back(std::move(*x));
    }
    if (timeable) {
      const std::string best = fastest_by_timing(desc, candidates, inputs, options);
      if (!best.empty()) layer.tactic = best;
      continue;
    }
    // The heuristic: the first supporting tactic that prepares for this layer.
    for (const Tactic* t : candidates) {
      if (t->prepare(desc).ok()) {
        layer.tactic = t->id;
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace ingot::backends
