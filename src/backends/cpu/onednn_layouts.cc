// The oneDNN tactics' layout pass (and ingot's Winograd convolution's): keeps an activation in oneDNN's
// blocked layout (nChw8c; nChw16c with AVX-512) where it goes from one oneDNN layer straight into others that
// take it blocked and nothing else reads it, so the reorders to plain NCHW and back between them go. Only
// where the blocked tensor has the plain one's size (channels a multiple of the block), so the memory plan
// holds. Each agreement is recorded in the layers' attributes (kSrcLayout, kDstLayout, kZLayout) and kept
// only if every layer it touches still prepares.
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/onednn_conv.h"
#include "core/platform.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanLayer;

// The tactics that take part, the input slots they read blocked, and the tactic a layer moves to when it
// joins: layers the tuner gave cpu.onednn.conv.nchw become cpu.onednn.conv, since the timing that
// preferred the plain layout charged the blocked tactic with the very reorders that go here.
struct Participant {
  const char* tactic;
  const char* joins_as;
  bool reads_z;  // slot 3, the residual, besides X in slot 0
};
constexpr Participant kParticipants[] = {
    {kConvTactic, kConvTactic, true},
    {kConvPlainTactic, kConvTactic, true},
    {kPoolTactic, kPoolTactic, false},
    // ingot's Winograd, im2col-gemm and depthwise convolutions read and write the blocked layout of its ISA's
    // vector width (an agreement on another block fails its prepare and is undone).
    {"cpu.ingot.winograd.avx512", "cpu.ingot.winograd.avx512", true},
    {"cpu.ingot.winograd.avx2", "cpu.ingot.winograd.avx2", true},
    {"cpu.ingot.conv_gemm.avx512", "cpu.ingot.conv_gemm.avx512", true},
    {"cpu.ingot.conv_gemm.avx2", "cpu.ingot.conv_gemm.avx2", true},
    {"cpu.ingot.depthwise.avx512", "cpu.ingot.depthwise.avx512", false},
    {"cpu.ingot.depthwise.avx2", "cpu.ingot.depthwise.avx2", false},
    // The fp16 im2col-gemm convolution runs only on AVX-512 CPUs: nChw16c.
    {"cpu.ingot.conv_gemm.fp16", "cpu.ingot.conv_gemm.fp16", true},
};

const Participant* participant(const std::string& tactic) {
  for (const Participant& p : kParticipants)
    if (tactic == p.tactic) return &p;
  return nullptr;
}
const Participant* participant(const PlanLayer& l) { return participant(l.tactic); }

struct Agreement {
  size_t tensor;
  std::vector<std::pair<int, const char*>> set;  // (layer, layout attribute)
  std::vector<std::string> before;               // their tactics before
};

void undo(engine::Plan& plan, const std::vector<std::pair<int, const char*>>& set,
          const std::vector<std::string>& before) {
  for (size_t i = set.size(); i-- > 0;) {  // backwards: a layer may be in the set twice (X and Z)
    PlanLayer& l = plan.layers[set[i].first];
    l.attrs.erase(set[i].second);
    // Its tactic as before, unless another agreement still has it read or write a blocked layout.
    if (!l.attrs.count(kSrcLayout) && !l.attrs.count(kDstLayout) && !l.attrs.count(kZLayout))
      l.tactic = before[i];
  }
}

int64_t channel_block() { return cpu_features().avx512f ? 16 : 8; }

ir::Attribute blocked_layout() {
  ir::Attribute layout;
  layout.kind = ir::Attribute::Kind::kString;
  layout.s = channel_block() == 16 ? "nChw16c" : "nChw8c";
  return layout;
}

// A tensor the pass below can keep blocked as far as its shape goes: an activation of a static 4-D shape with
// whole blocks of channels, not a model output or a view.
bool blockable(const engine::Plan& plan, const TensorUses& uses, size_t t) {
  const engine::PlanTensor& tensor = plan.tensors[t];
  return tensor.kind == engine::TensorKind::kActivation && !uses.fixed[t] && uses.producer[t] >= 0 &&
         tensor.dims.size() == 4 && dims_static(tensor.dims) && tensor.dims[1] % channel_block() == 0 &&
         !uses.readers[t].empty();
}

// The tuner's view of the pass below (TimingLayout in tactic.h): before tactics are chosen, a tensor is
// likely kept blocked when it is blockable and its producer and every reader are convolutions or poolings
// (in the slots they read blocked). A participating tactic is then also timed with those layout attributes.
bool likely_engine_layout(const engine::Plan& plan, size_t index, const Tactic& tactic, PlanLayer& layer) {
  const Participant* p = participant(tactic.id);
  // Not taking part, or it joins as another tactic, which is timed in this form itself.
  if (!p || std::string(p->tactic) != p->joins_as) return false;
  auto may_join = [](const PlanLayer& l) {
    return is_conv(l) || l.op_type == "MaxPool" || l.op_type == "AveragePool";
  };
  const TensorUses uses = tensor_uses(plan);
  auto likely = [&](int32_t t) {
    if (t < 0 || !blockable(plan, uses, static_cast<size_t>(t))) return false;
    if (!may_join(plan.layers[uses.producer[t]])) return false;
    for (const auto& [l, slot] : uses.readers[t])
      if (!may_join(plan.layers[l]) || !(slot == 0 || (slot == 3 && is_conv(plan.layers[l])))) return false;
    return true;
  };
  const PlanLayer& planned = plan.layers[index];
  bool any = false;
  auto set = [&](const char* attr, int32_t t) {
    if (!likely(t)) return;
    layer.attrs[attr] = blocked_layout();
    any = true;
  };
  if (!planned.inputs.empty()) set(kSrcLayout, planned.inputs[0]);
  if (!planned.outputs.empty()) set(kDstLayout, planned.outputs[0]);
  if (p->reads_z && planned.inputs.size() > 3) set(kZLayout, planned.inputs[3]);
  return any;
}

Status assign_blocked_layouts(engine::Plan& plan) {
  std::vector<Agreement> agreed;
  const ir::Attribute layout = blocked_layout();
  const size_t n = plan.tensors.size();
  const TensorUses uses = tensor_uses(plan);
  const std::vector<int>& producer = uses.producer;
  const auto& readers = uses.readers;
  for (size_t t = 0; t < n; ++t) {
    if (!blockable(plan, uses, t) || !participant(plan.layers[producer[t]])) continue;
    bool ok = true;
    for (const auto& [l, slot] : readers[t]) {
      const Participant* p = participant(plan.layers[l]);
      ok &= p && (slot == 0 || (slot == 3 && p->reads_z));
    }
    if (!ok) continue;
    // Agree, then check that every layer involved still prepares; undo otherwise.
    std::vector<std::pair<int, const char*>> set = {{producer[t], kDstLayout}};
    for (const auto& [l, slot] : readers[t]) set.push_back({l, slot == 0 ? kSrcLayout : kZLayout});
    std::vector<std::string> before;
    for (const auto& [l, attr] : set) {
      PlanLayer& layer = plan.layers[l];
      before.push_back(layer.tactic);
      layer.attrs[attr] = layout;
      layer.tactic = participant(layer)->joins_as;
    }
    for (const auto& [l, _] : set) {
      const Tactic* tactic = find_tactic(plan.layers[l].tactic);
      ok &= tactic && tactic->prepare(LayerDesc{plan.layers[l], plan.tensors}).ok();
    }
    if (ok) {
      agreed.push_back({t, set, before});
      continue;
    }
    undo(plan, set, before);
  }
  // An agreement can leave a convolution with a blocked input and a plain output (its output goes to a layer
  // of another kind), which oneDNN only serves with its reference implementation on some CPUs (AVX-512:
  // efficientnet_b0's depthwise layers, 300 ms each instead of 1 ms, and a wrong output at one thread).
  // Undo every agreement that touches such a layer, last first, until none is left.
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t a = agreed.size(); a-- > 0;) {
      bool bad = false;
      for (const auto& [l, _] : agreed[a].set)
        bad = bad ||
              (is_conv(plan.layers[l]) && conv_runs_reference_impl(LayerDesc{plan.layers[l], plan.tensors}));
      if (!bad) continue;
      undo(plan, agreed[a].set, agreed[a].before);
      agreed.erase(agreed.begin() + static_cast<std::ptrdiff_t>(a));
      changed = true;
    }
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_PLAN_PASS(cpu_onednn_layouts, assign_blocked_layouts);
INGOT_REGISTER_TIMING_LAYOUT(cpu_onednn_layouts, likely_engine_layout);

}  // namespace ingot::backends::cpu
