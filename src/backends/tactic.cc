#include "backends/tactic.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <random>

#include "backends/timing_cache.h"
#include "core/platform.h"
#include "core/threading.h"
#include "core/value.h"

namespace ingot::backends {
namespace {

std::vector<Tactic>& registry() {
  static std::vector<Tactic> r;
  return r;
}

std::vector<TimingLayout>& timing_layouts() {
  static std::vector<TimingLayout> f;
  return f;
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

bool log_tuning() {
  static const bool on = [] {
    const char* e = std::getenv("INGOT_LOG_TUNING");
    return e && *e && std::string(e) != "0";
  }();
  return on;
}

// Output memory reused from run to run and zero-filled before each where the kernel may not write all of it,
// as an engine's arena is: timing fresh allocations would time the page faults too.
class ReusedOutputs {
 public:
  ops::RunContext::OutputAllocator allocator(bool zero) {
    return [this, zero](size_t i, DType dtype, Dims dims) -> Expected<Tensor> {
      INGOT_ASSIGN_OR_RETURN(int64_t numel, checked_numel(dims));
      const size_t bytes = static_cast<size_t>(numel) * dtype_size(dtype);
      if (dtype == DType::kString) return Tensor::create(dtype, std::move(dims));
      if (buffers_.size() <= i) buffers_.resize(i + 1);
      auto& [buffer, size] = buffers_[i];
      if (size < bytes || !buffer) {
        void* p = std::aligned_alloc(64, (bytes + 63) / 64 * 64 + 64);
        if (!p) return internal_error("out of memory for a tuning output");
        buffer = std::shared_ptr<void>(p, [](void* q) { std::free(q); });
        size = bytes;
      }
      if (zero) std::memset(buffer.get(), 0, bytes);
      return Tensor::wrap(dtype, std::move(dims), buffer, buffer.get());
    };
  }

 private:
  std::vector<std::pair<std::shared_ptr<void>, size_t>> buffers_;
};

Expected<std::vector<Tensor>> run_with(const LayerDesc& desc, const Kernel& kernel,
                                       const std::vector<Tensor>& inputs,
                                       const ops::RunContext::OutputAllocator* allocate);

// Times every candidate on the layer and returns the id of the fastest by its best run (and sets *best_ms),
// or "" when none ran. The best run, not the median: on a machine shared with other work, a multi-threaded
// candidate whose thread another process preempts waits at its barrier for milliseconds, while the
// single-threaded reference does not, and medians taken under such load picked the reference over
// oneDNN (resnet50 at 2 threads, load 4: 17 of 53 convolutions). The fastest run is the one least
// disturbed, which is what the layer costs on the idle machine the engine is tuned for.
// One warm-up run each (a candidate more than give_up_ratio times slower than the fastest warm-up is
// dropped there: the reference, mostly), then `repeats` rounds that run each remaining candidate once
// in turn, so that a burst of load on a busy machine falls on all of them alike.
std::string fastest_by_timing(const engine::Plan& plan, size_t index,
                              const std::vector<const Tactic*>& tactics, const std::vector<Tensor>& inputs,
                              const TuningOptions& options, double* best_ms) {
  const LayerDesc desc{plan.layers[index], plan.tensors};
  struct Candidate {
    const char* id;
    // The layer in an engine form (timing_forms); null: as planned.
    std::unique_ptr<engine::PlanLayer> layer;
    std::unique_ptr<Kernel> kernel;
    ReusedOutputs outputs;
    std::vector<double> times;
    std::string note;
  };
  std::vector<Candidate> all;
  auto add = [&](const char* id, std::unique_ptr<engine::PlanLayer> layer,
                 Expected<std::unique_ptr<Kernel>> kernel) {
    Candidate& c = all.emplace_back();
    c.id = id;
    c.layer = std::move(layer);
    if (kernel.ok())
      c.kernel = std::move(*kernel);
    else
      c.note = "(" + kernel.status().message() + ")";
  };
  for (const Tactic* t : tactics) {
    add(t->id, nullptr, t->prepare(desc));
    for (engine::PlanLayer& form : timing_forms(plan, index, *t)) {
      auto layer = std::make_unique<engine::PlanLayer>(std::move(form));
      auto kernel = t->prepare(LayerDesc{*layer, plan.tensors});
      if (kernel.ok()) add(t->id, std::move(layer), std::move(kernel));
    }
  }
  // The reference computes in fp32: a candidate only for fp32 layers.
  if (desc.layer.precision == "fp32") add(kReferenceTactic, nullptr, prepare_reference(desc));
  // Seconds of one run, or a negative number when it failed.
  auto time_once = [&](Candidate& c) {
    const ops::RunContext::OutputAllocator allocate = c.outputs.allocator(!c.kernel->overwrites_outputs());
    const LayerDesc run_desc{c.layer ? *c.layer : desc.layer, desc.tensors};
    const auto t0 = std::chrono::steady_clock::now();
    const bool ok = run_with(run_desc, *c.kernel, inputs, &allocate).ok();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return ok ? s : -1.0;
  };
  std::vector<double> warm(all.size(), -1);
  double fastest_warm = -1;
  for (size_t i = 0; i < all.size(); ++i) {
    if (!all[i].kernel) continue;
    warm[i] = time_once(all[i]);
    if (warm[i] < 0) all[i].note = "(failed)";
    if (warm[i] >= 0 && (fastest_warm < 0 || warm[i] < fastest_warm)) fastest_warm = warm[i];
  }
  std::vector<Candidate*> live;
  for (size_t i = 0; i < all.size(); ++i) {
    if (warm[i] < 0) continue;
    if (warm[i] > options.give_up_ratio * fastest_warm) {
      all[i].note = "(warm-up " + std::to_string(warm[i] * 1e3) + "ms, not timed)";
      continue;
    }
    live.push_back(&all[i]);
  }
  for (int r = 0; r < std::max(1, options.repeats); ++r) {
    for (Candidate* c : live) {
      if (c->times.size() < static_cast<size_t>(r)) continue;  // failed before
      const double s = time_once(*c);
      if (s >= 0) c->times.push_back(s);
    }
  }
  std::string best_id, log;
  double best = 0;
  for (Candidate& c : all) {
    if (!c.times.empty()) {
      std::sort(c.times.begin(), c.times.end());
      const double fastest = c.times.front();
      c.note = std::to_string(fastest * 1e3) + "ms (median " +
               std::to_string(c.times[c.times.size() / 2] * 1e3) + "ms)";
      if (best_id.empty() || fastest < best) {
        best_id = c.id;
        best = fastest;
      }
    }
    log += std::string(" ") + c.id + (c.layer ? "[engine layout]" : "") + "=" + c.note;
  }
  if (log_tuning())
    std::fprintf(stderr, "tune %s (%s):%s -> %s\n", desc.layer.name.c_str(), desc.layer.op_type.c_str(),
                 log.c_str(), best_id.c_str());
  *best_ms = best * 1e3;
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

namespace {
std::vector<std::pair<int, PlanPass>>& plan_passes() {
  static std::vector<std::pair<int, PlanPass>> p;
  return p;
}
}  // namespace

TimingLayoutRegistrar::TimingLayoutRegistrar(TimingLayout f) { timing_layouts().push_back(f); }

std::vector<engine::PlanLayer> timing_forms(const engine::Plan& plan, size_t index, const Tactic& tactic) {
  std::vector<engine::PlanLayer> forms;
  for (TimingLayout f : timing_layouts()) {
    engine::PlanLayer layer = plan.layers[index];
    if (f(plan, index, tactic, layer)) forms.push_back(std::move(layer));
  }
  return forms;
}

PlanPassRegistrar::PlanPassRegistrar(PlanPass pass, int order) {
  auto& passes = plan_passes();
  passes.emplace_back(order, pass);
  std::stable_sort(passes.begin(), passes.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

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
                                         const std::vector<Tensor>& inputs,
                                         const ops::RunContext::OutputAllocator* allocate) {
  return run_with(desc, kernel, inputs, allocate);
}

namespace {

Expected<std::vector<Tensor>> run_with(const LayerDesc& desc, const Kernel& kernel,
                                       const std::vector<Tensor>& inputs,
                                       const ops::RunContext::OutputAllocator* allocate) {
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
  ctx.set_allocator(allocate);
  INGOT_RETURN_IF_ERROR(kernel.run(ctx));
  std::vector<Tensor> result;
  for (RtValue& v : out) result.push_back(std::move(v.tensor));
  return result;
}

}  // namespace

namespace {

// "\rtuning [#####.....] 12/57" on stderr, redrawn as layers are done.
void draw_progress(size_t done, size_t total) {
  constexpr int kWidth = 30;
  const int filled = total ? static_cast<int>(kWidth * done / total) : kWidth;
  std::fprintf(stderr, "\rtuning [%s%s] %zu/%zu", std::string(filled, '#').c_str(),
               std::string(kWidth - filled, '.').c_str(), done, total);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

// The cached choice for the layer when it is one of the candidates (or the reference) and prepares.
const char* cached_choice(const TimingCache::Entry* e, const LayerDesc& desc,
                          const std::vector<const Tactic*>& candidates) {
  if (!e) return nullptr;
  if (e->tactic == kReferenceTactic) return kReferenceTactic;
  for (const Tactic* t : candidates)
    if (e->tactic == t->id && t->prepare(desc).ok()) return t->id;
  return nullptr;
}

}  // namespace

Status select_tactics(engine::Plan& plan, const TuningOptions& options) {
  std::mt19937 rng(0x1a2b3c);
  TuningStats local_stats;
  TuningStats& stats = options.stats ? *options.stats : local_stats;
  size_t done = 0;
  for (engine::PlanLayer& layer : plan.layers) {
    if (options.progress) draw_progress(done++, plan.layers.size());
    layer.tactic = kReferenceTactic;
    if (layer.has_subgraph) continue;
    LayerDesc desc{layer, plan.tensors};
    std::vector<const Tactic*> candidates;
    std::string reasons;
    bool any_of_precision = false;
    for (const Tactic* t : all_tactics()) {
      if (layer.precision != t->precision || !t->supports || !tactic_allowed(t->id)) continue;
      any_of_precision = true;
      const std::string why = t->supports(desc);
      if (why.empty())
        candidates.push_back(t);
      else
        reasons += std::string(reasons.empty() ? "" : "; ") + t->id + ": " + why;
    }
    if (candidates.empty() && layer.precision != "fp32") {
      layer.precision_note = "no " + layer.precision + " kernel, runs in fp32 (" +
                             (any_of_precision ? reasons
                                               : "this CPU has no " + layer.precision +
                                                     " tactics; CPU features: " + cpu_feature_list()) +
                             ")";
      layer.precision = "fp32";
      for (const Tactic* t : all_tactics())
        if (layer.precision == t->precision && t->supports && tactic_allowed(t->id) &&
            t->supports(desc).empty())
          candidates.push_back(t);
    }
    // bf16 and fp16 are a permission, not a requirement (as in TensorRT): the fp32 tactics compete too, and
    // the layer runs in fp32 where one of them is faster (below).
    if (!candidates.empty() && (layer.precision == "bf16" || layer.precision == "fp16")) {
      for (const Tactic* t : all_tactics())
        if (std::string(t->precision) == "fp32" && t->supports && tactic_allowed(t->id) &&
            t->supports(desc).empty())
          candidates.push_back(t);
    }
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
      std::string key;
      if (options.cache) {
        key = TimingCache::key(desc, candidates, num_threads());
        if (const char* id = cached_choice(options.cache->find(key), desc, candidates)) {
          layer.tactic = id;
          ++stats.cached;
          continue;
        }
      }
      double ms = 0;
      const std::string best = fastest_by_timing(plan, static_cast<size_t>(&layer - plan.layers.data()),
                                                 candidates, inputs, options, &ms);
      ++stats.timed;
      if (!best.empty()) {
        layer.tactic = best;
        if (options.cache) options.cache->put(key, TimingCache::Entry{best, ms, layer.name});
      }
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
  for (engine::PlanLayer& layer : plan.layers) {
    if (layer.tactic == kReferenceTactic && layer.precision != "fp32") {
      layer.precision_note = "the " + layer.precision + " kernels failed on this layer, runs in fp32";
      layer.precision = "fp32";
    } else if (const Tactic* t = find_tactic(layer.tactic);
               t && layer.precision != "fp32" && std::string(t->precision) == "fp32") {
      layer.precision_note = "an fp32 kernel (" + layer.tactic + ") was faster than the " + layer.precision +
                             " ones on this layer";
      layer.precision = "fp32";
    }
  }
  if (options.progress) draw_progress(plan.layers.size(), plan.layers.size());
  for (const auto& [_, pass] : plan_passes()) INGOT_RETURN_IF_ERROR(pass(plan));
  return Status::Ok();
}

}  // namespace ingot::backends
