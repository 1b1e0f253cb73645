// Removes nodes that no graph output depends on (subgraph reads of outer values count as uses).
#include <unordered_set>

#include "passes/pass.h"

namespace ingot::passes {
namespace {

void outer_reads(const ir::Graph& sub, std::vector<const ir::Value*>& out) {
  for (const auto& n : sub.nodes()) {
    for (const ir::Value* v : n->inputs)
      if (v && v->owner != &sub) out.push_back(v);
    for (const auto& [_, a] : n->attrs) {
      if (a.g) outer_reads(*a.g, out);
      for (const auto& g : a.graphs) outer_reads(*g, out);
    }
  }
}

}  // namespace

Expected<bool> eliminate_dead_code(ir::Graph& graph, const PassOptions&) {
  std::unordered_set<const ir::Value*> live(graph.outputs.begin(), graph.outputs.end());
  std::unordered_set<const ir::Node*> live_nodes;
  for (auto it = graph.nodes().rbegin(); it != graph.nodes().rend(); ++it) {
    const ir::Node& n = **it;
    bool needed = false;
    for (const ir::Value* v : n.outputs)
      if (v && live.count(v)) needed = true;
    if (!needed) continue;
    live_nodes.insert(&n);
    std::vector<const ir::Value*> reads(n.inputs.begin(), n.inputs.end());
    for (const auto& [_, a] : n.attrs) {
      if (a.g) outer_reads(*a.g, reads);
      for (const auto& g : a.graphs) outer_reads(*g, reads);
    }
    for (const ir::Value* v : reads)
      if (v) live.insert(v);
  }
  std::vector<ir::Node*> dead;
  for (const auto& n : graph.nodes())
    if (!live_nodes.count(n.get())) dead.push_back(n.get());
  if (dead.empty()) return false;
  graph.remove_nodes(dead);
  return true;
}

}  // namespace ingot::passes
