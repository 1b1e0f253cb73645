#include "backends/tactic.h"

#include <mutex>

namespace ingot::backends {
namespace {

std::vector<Tactic>& registry() {
  static std::vector<Tactic> r;
  return r;
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

Status select_tactics(engine::Plan& plan, const TuningOptions& options) {
  // Until timing lands, the heuristic: the first registered tactic that supports the layer.
  (void)options;
  for (engine::PlanLayer& layer : plan.layers) {
    layer.tactic = kReferenceTactic;
    LayerDesc desc{layer, plan.tensors};
    for (const Tactic* t : all_tactics()) {
      if (t->supports && t->supports(desc).empty()) {
        layer.tactic = t->id;
        break;
      }
    }
  }
  return Status::Ok();
}

}  // namespace ingot::backends
