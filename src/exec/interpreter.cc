#include "exec/interpreter.h"

#include <unordered_map>

#include "ops/op.h"

namespace ingot::exec {

namespace {

void collect_unsupported(const ir::Graph& g, std::vector<std::string>& out) {
  for (const auto& n : g.nodes()) {
    if (!ops::find_op(n->domain, n->op_type) || !ops::find_op(n->domain, n->op_type)->run) {
      out.push_back((n->domain.empty() ? "" : n->domain + ".") + n->op_type + " (node '" + n->name + "')");
    }
    for (const auto& [_, a] : n->attrs) {
      if (a.g) collect_unsupported(*a.g, out);
      for (const auto& sg : a.graphs) collect_unsupported(*sg, out);
    }
  }
}

}  // namespace

void subgraph_reads(const ir::Node& n, std::vector<const ir::Value*>& out) {
  for (const auto& [_, a] : n.attrs) {
    std::vector<const ir::Graph*> subs;
    if (a.g) subs.push_back(a.g.get());
    for (const auto& sg : a.graphs) subs.push_back(sg.get());
    for (const ir::Graph* sg : subs) {
      for (const auto& sn : sg->nodes()) {
        for (const ir::Value* v : sn->inputs)
          if (v) out.push_back(v);
        subgraph_reads(*sn, out);
      }
      for (const ir::Value* v : sg->outputs) out.push_back(v);
    }
  }
}

namespace {

// For each node, the values of this graph it reads for the last time (graph outputs are never
// freed). A value read inside an If/Loop/Scan body counts as read by that node.
std::vector<std::vector<const ir::Value*>> last_reads(const ir::Graph& g) {
  std::unordered_map<const ir::Value*, size_t> last;
  std::vector<const ir::Value*> reads;
  for (size_t i = 0; i < g.nodes().size(); ++i) {
    reads.assign(g.nodes()[i]->inputs.begin(), g.nodes()[i]->inputs.end());
    subgraph_reads(*g.nodes()[i], reads);
    for (const ir::Value* v : reads)
      if (v && v->owner == &g) last[v] = i;
  }
  for (const ir::Value* v : g.outputs) last.erase(v);
  std::vector<std::vector<const ir::Value*>> frees(g.nodes().size());
  for (const auto& [v, i] : last) frees[i].push_back(v);
  return frees;
}

}  // namespace

std::vector<std::string> unsupported_ops(const ir::Graph& graph) {
  std::vector<std::string> out;
  collect_unsupported(graph, out);
  return out;
}

Expected<std::vector<RtValue>> run_graph(const ir::Graph& graph, const std::vector<RtValue>& inputs,
                                         const Frame* outer) {
  if (inputs.size() != graph.inputs.size()) {
    return invalid_argument("graph '" + graph.name + "' takes " + std::to_string(graph.inputs.size()) +
                            " inputs, got " + std::to_string(inputs.size()));
  }
  Frame frame(outer);
  for (size_t i = 0; i < inputs.size(); ++i) frame.set(graph.inputs[i], inputs[i]);

  auto lookup = [&](const ir::Value* v) -> const RtValue* {
    if (const RtValue* r = frame.find(v)) return r;
    return nullptr;
  };
  // Constants live in the IR; wrap them once per run.
  std::unordered_map<const ir::Value*, RtValue> constants;
  auto resolve = [&](const ir::Value* v) -> const RtValue* {
    if (const RtValue* r = lookup(v)) return r;
    if (v->constant) {
      auto [it, _] = constants.emplace(v, RtValue(*v->constant));
      return &it->second;
    }
    return nullptr;
  };

  const auto frees = last_reads(graph);
  for (size_t idx = 0; idx < graph.nodes().size(); ++idx) {
    const ir::Node& node = *graph.nodes()[idx];
    const ops::OpDef* def = ops::find_op(node.domain, node.op_type);
    if (!def || !def->run) return unsupported(node.describe() + ": no implementation");
    std::vector<const RtValue*> in(node.inputs.size(), nullptr);
    for (size_t i = 0; i < node.inputs.size(); ++i) {
      const ir::Value* v = node.inputs[i];
      if (!v) continue;
      in[i] = resolve(v);
      if (!in[i]) return internal_error(node.describe() + ": input '" + v->name() + "' has no value");
    }
    std::vector<RtValue> out(node.outputs.size());
    ops::RunContext ctx(node, std::move(in), &out,
                        [&frame](const ir::Graph& g, const std::vector<RtValue>& sub_inputs) {
                          return run_graph(g, sub_inputs, &frame);
                        });
    INGOT_RETURN_IF_ERROR(def->run(ctx));
    for (size_t i = 0; i < node.outputs.size(); ++i) {
      if (!node.outputs[i]) continue;
      if (out[i].is_tensor() && !out[i].tensor.defined()) {
        return internal_error(node.describe() + ": output " + std::to_string(i) + " was not written");
      }
      frame.set(node.outputs[i], std::move(out[i]));
    }
    for (const ir::Value* v : frees[idx]) frame.erase(v);
  }
  std::vector<RtValue> results;
  results.reserve(graph.outputs.size());
  for (const ir::Value* v : graph.outputs) {
    const RtValue* r = resolve(v);
    if (!r) return internal_error("graph output '" + v->name() + "' has no value");
    results.push_back(*r);
  }
  return results;
}

}  // namespace ingot::exec
