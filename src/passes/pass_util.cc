#include "passes/pass_util.h"

#include <algorithm>
#include <cstring>

namespace ingot::passes {

bool is_graph_output(const ir::Graph& g, const ir::Value* v) {
  return std::find(g.outputs.begin(), g.outputs.end(), v) != g.outputs.end();
}

bool forward_value(ir::Graph& g, ir::Value* out, ir::Value* in) {
  if (!is_graph_output(g, out)) {
    g.replace_all_uses(out, in);
    return true;
  }
  const bool in_is_boundary = is_graph_output(g, in) ||
                              std::find(g.inputs.begin(), g.inputs.end(), in) != g.inputs.end();
  if (!in->producer || in_is_boundary || in->consumers.size() != 1 || in->owner != &g) return false;
  for (ir::Value*& o : in->producer->outputs)
    if (o == in) o = out;
  out->type = in->type;
  g.rebuild_uses();
  return true;
}

bool attrs_key(const ir::Node& n, std::string* key) {
  std::string& k = *key;
  for (const auto& [name, a] : n.attrs) {
    if (a.g || !a.graphs.empty()) return false;
    k += name + "=" + std::to_string(static_cast<int>(a.kind)) + ":";
    k += std::to_string(a.i) + "," + std::to_string(a.f) + "," + a.s + ";";
    for (int64_t i : a.ints) k += std::to_string(i) + ",";
    for (float f : a.floats) k += std::to_string(f) + ",";
    for (const auto& s : a.strings) k += s + "\x1f";
    if (a.t.defined()) {
      k += std::string(dtype_name(a.t.dtype())) + dims_to_string(a.t.dims());
      if (a.t.dtype() != DType::kString) k.append(static_cast<const char*>(a.t.raw()), a.t.nbytes());
      else for (int64_t i = 0; i < a.t.numel(); ++i) k += a.t.strings()[i] + "\x1f";
    }
    if (!a.tensors.empty()) return false;
    k += "|";
  }
  return true;
}

}  // namespace ingot::passes
