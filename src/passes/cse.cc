// Merges nodes that apply the same op with the same attributes to the same inputs.
#include <unordered_map>
#include <unordered_set>

#include "passes/pass.h"
#include "passes/pass_util.h"

namespace ingot::passes {

Expected<bool> eliminate_common_subexpressions(ir::Graph& graph, const PassOptions&) {
  static const std::unordered_set<std::string> kNondeterministic = {
      "RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial", "Bernoulli"};
  std::unordered_map<std::string, ir::Node*> seen;
  std::vector<ir::Node*> dead;
  for (const auto& node : graph.nodes()) {
    if (kNondeterministic.count(node->op_type)) continue;
    std::string key = node->domain + "." + node->op_type + "(";
    for (const ir::Value* v : node->inputs) key += (v ? std::to_string(reinterpret_cast<uintptr_t>(v)) : "_") + ",";
    key += ")" + std::to_string(node->outputs.size()) + "{";
    if (!attrs_key(*node, &key)) continue;
    auto [it, fresh] = seen.emplace(key, node.get());
    if (fresh) continue;
    ir::Node* keep = it->second;
    bool ok = true;
    for (size_t i = 0; i < node->outputs.size(); ++i) {
      ir::Value* out = node->outputs[i];
      if (!out) continue;
      if (!keep->outputs[i] || is_graph_output(graph, out)) {
        ok = false;
        break;
      }
    }
    if (!ok) continue;
    for (size_t i = 0; i < node->outputs.size(); ++i)
      if (node->outputs[i]) graph.replace_all_uses(node->outputs[i], keep->outputs[i]);
    dead.push_back(node.get());
  }
  if (dead.empty()) return false;
  graph.remove_nodes(dead);
  return true;
}

}  // namespace ingot::passes
