// Rewrites shared by passes.
#pragma once

#include "ir/graph.h"

namespace ingot::passes {

bool is_graph_output(const ir::Graph& g, const ir::Value* v);
// Makes every reader of `out` read `in` instead, so the node producing `out` can go. When `out` is a
// graph output (its name must survive), the producer of `in` is made to write `out` directly — legal only
// when `in` has no other reader and is not a graph input/output. Returns false when neither is possible.
bool forward_value(ir::Graph& g, ir::Value* out, ir::Value* in);
// A canonical text of a node's attributes (for CSE); empty optional when an attribute holds a subgraph.
bool attrs_key(const ir::Node& n, std::string* key);

}  // namespace ingot::passes
