// Executes an IR graph node by node with each op's reference evaluation. Used by the
// reference runtime, by constant folding, and for control-flow bodies.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/value.h"
#include "ingot/status.h"
#include "ir/graph.h"

namespace ingot::exec {

// Every node (subgraphs included) whose op ingot has no definition for, as
// "Op (node 'name')" entries; empty when all are supported.
std::vector<std::string> unsupported_ops(const ir::Graph& graph);

// Runs `graph` (topologically sorted) on `inputs` (one per graph input, in order) and returns the
// graph outputs in order. Values of enclosing graphs are read from `outer` frames when given.
// The values of one graph run, looked up through the enclosing runs' frames.
class Frame {
 public:
  explicit Frame(const Frame* parent) : parent_(parent) {}
  const RtValue* find(const ir::Value* v) const {
    for (const Frame* f = this; f; f = f->parent_) {
      auto it = f->values_.find(v);
      if (it != f->values_.end()) return &it->second;
    }
    return nullptr;
  }
  void set(const ir::Value* v, RtValue x) { values_[v] = std::move(x); }
  void erase(const ir::Value* v) { values_.erase(v); }

 private:
  const Frame* parent_;
  std::unordered_map<const ir::Value*, RtValue> values_;
};

// Every value a node's subgraphs (at any depth) read, the enclosing graphs' values among them.
void subgraph_reads(const ir::Node& n, std::vector<const ir::Value*>& out);

Expected<std::vector<RtValue>> run_graph(const ir::Graph& graph, const std::vector<RtValue>& inputs,
                                         const Frame* outer = nullptr);

}  // namespace ingot::exec
