// Tactics: the ways to run a layer on a backend (DESIGN.md, "Key abstractions"). Each has a stable id
// ("cpu.onednn.conv"), says whether it supports a layer (with a reason when not), prepares a Kernel for a
// layer once per engine (packing weights, creating primitives), and the Kernel runs the layer. Kernels
// are shared by every execution context of an engine, so run() must be safe to call from several
// threads at once. The reference tactic (the op's own reference evaluation) supports every layer.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "engine/plan.h"
#include "ingot/status.h"
#include "ops/op.h"

namespace ingot::backends {

// A layer as tactics see it: the plan layer and its tensors (shapes, weights).
struct LayerDesc {
  const engine::PlanLayer& layer;
  const std::vector<engine::PlanTensor>& tensors;
  const engine::PlanTensor* input(size_t i) const {
    return i < layer.inputs.size() && layer.inputs[i] >= 0 ? &tensors[layer.inputs[i]] : nullptr;
  }
  const engine::PlanTensor* output(size_t i) const {
    return i < layer.outputs.size() && layer.outputs[i] >= 0 ? &tensors[layer.outputs[i]] : nullptr;
  }
};

class Kernel {
 public:
  virtual ~Kernel() = default;
  // Reads ctx's inputs, allocates outputs with ctx.alloc_output (the context's arena) and writes them.
  virtual Status run(ops::RunContext& ctx) const = 0;
  // Layout reorders of activations (into or out of a blocked layout) each run makes at the layer's
  // boundaries, at the layer's build-time shapes (`ingot inspect` counts them).
  virtual int reorders() const { return 0; }
  // True when run() writes every element of each output it allocates: the runtime then skips zeroing
  // the output's arena place first (for the arena's memory traffic, not to save a kernel's work).
  virtual bool overwrites_outputs() const { return false; }
};

struct Tactic {
  const char* id = "";
  // Empty when the tactic can run the layer, else why not (shown by `inspect --verbose` and the tuner).
  std::string (*supports)(const LayerDesc& desc) = nullptr;
  Expected<std::unique_ptr<Kernel>> (*prepare)(const LayerDesc& desc) = nullptr;
  // The layer precision it implements ("fp32", "fp16", "bf16", "int8"): the builder offers a layer only
  // the tactics of its precision, and falls back to fp32 (saying why) where none supports it.
  const char* precision = "fp32";
};

const Tactic* find_tactic(const std::string& id);
std::vector<const Tactic*> all_tactics();  // registration order

struct TacticRegistrar {
  explicit TacticRegistrar(const Tactic& t);
};

inline constexpr const char* kReferenceTactic = "reference";

// The layer as an ir::Node (name, op, attributes, a placeholder value per present input and output):
// what the op's attribute readers and reference evaluation take.
struct LayerNode {
  LayerNode(const engine::PlanLayer& layer, const std::vector<engine::PlanTensor>& tensors);
  ir::Node node;
  std::vector<std::unique_ptr<ir::Value>> slots;
};

// The reference tactic as a Kernel: the op's own evaluation. Fails for ops without one.
Expected<std::unique_ptr<Kernel>> prepare_reference(const LayerDesc& desc);

// Runs `kernel` on the layer outside an engine: one tensor per layer input (undefined for an omitted
// one), outputs in memory of their own. For the tuner and the tests; layers with subgraphs cannot run.
// `allocate`, when given, places the outputs (an engine's arena does: an output over an input, say).
Expected<std::vector<Tensor>> run_kernel(const LayerDesc& desc, const Kernel& kernel,
                                         const std::vector<Tensor>& inputs,
                                         const ops::RunContext::OutputAllocator* allocate = nullptr);

// Chooses a tactic for every layer of the plan (sets layer.tactic). opt_level 0: the first supporting
// tactic in registration order (fast tactics register before the reference) that prepares; >= 1: every
// supporting tactic (the reference included) is timed on the layer at the plan's shapes, on random
// inputs and the plan's weights, and the fastest by its best of the repeats kept. Layers whose shapes are
// only known at run time, or that only the reference supports, are not timed.
class TimingCache;
struct TuningStats {
  int timed = 0;   // layers timed
  int cached = 0;  // layers whose choice came from the timing cache
};
struct TuningOptions {
  int opt_level = 1;
  int repeats = 5;
  // A tactic whose warm-up run is this many times slower than the best so far is not timed further.
  double give_up_ratio = 5.0;
  // Consulted before timing a layer, and given every new choice (backends/timing_cache.h); nullable.
  TimingCache* cache = nullptr;
  bool progress = false;         // a progress bar on stderr
  TuningStats* stats = nullptr;  // nullable
};
Status select_tactics(engine::Plan& plan, const TuningOptions& options);

// Falls back to fp32 when no tactic of a layer's precision supports it; the layer's precision_note
// says why (the reasons of each tactic, or that this CPU has none of that precision).
// Runs after select_tactics has given every layer its tactic (from it, in registration order): lets a
// backend agree on layouts between neighbouring layers of its own, recorded in their attributes (which
// go into the engine file and which their tactics read when they prepare).
// Passes run by ascending `order`, then registration order (which across files is the link order): a pass
// that needs the layouts settled (weight packing) registers with a higher order.
using PlanPass = Status (*)(engine::Plan& plan);
struct PlanPassRegistrar {
  explicit PlanPassRegistrar(PlanPass pass, int order = 0);
};

// The form a backend's plan passes will most likely give a layer once they agree layouts with its
// neighbours (a blocked layout kept between layers, say): sets those layout attributes on `layer` (a copy of
// plan.layers[index]) and returns true, or returns false where `tactic` would run it as the plan has it. The
// tuner times such a tactic in both forms and keeps its faster time, so that a tactic is not charged with
// the reorders its layout pass removes, nor one that cannot take part (the reference) preferred for that.
using TimingLayout = bool (*)(const engine::Plan& plan, size_t index, const Tactic& tactic,
                              engine::PlanLayer& layer);
struct TimingLayoutRegistrar {
  explicit TimingLayoutRegistrar(TimingLayout f);
};
// The forms the registered TimingLayouts give plan.layers[index] for `tactic` (none: it is timed as planned).
std::vector<engine::PlanLayer> timing_forms(const engine::Plan& plan, size_t index, const Tactic& tactic);

}  // namespace ingot::backends

#define INGOT_REGISTER_TACTIC(ID, ...)                                        \
  static const ::ingot::backends::TacticRegistrar INGOT_CONCAT(kIngotTactic_, \
                                                               ID)(::ingot::backends::Tactic{__VA_ARGS__})
#define INGOT_REGISTER_TIMING_LAYOUT(ID, FN) \
  static const ::ingot::backends::TimingLayoutRegistrar INGOT_CONCAT(kIngotTimingLayout_, ID)(FN)
#define INGOT_REGISTER_PLAN_PASS(ID, FN, ...)                                     \
  static const ::ingot::backends::PlanPassRegistrar INGOT_CONCAT(kIngotPlanPass_, \
                                                                 ID)(FN __VA_OPT__(, ) __VA_ARGS__)
