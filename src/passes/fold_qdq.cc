// Explicit quantization (models from onnxruntime's quantize_static in QDQ format, PyTorch QAT exports):
// each QuantizeLinear -> DequantizeLinear pair on a float activation that int8 layers read goes (see
// read_by_int8_layers), its readers read the float
// value again, and the pair's scale and zero point are kept in Graph::qdq under that value's name. The
// precision stage then runs the Conv / MatMul / Gemm layers whose input such a pair rounded in int8 at
// exactly that scale, and the int8 plan pass hands those values over quantized. The weights' pairs
// (DequantizeLinear of a constant) are already float constants: fold_constants evaluated them.
#include "passes/fusion.h"
#include "passes/pass.h"

namespace ingot::passes {
namespace {

using namespace fusion;  // NOLINT(google-build-using-namespace)

// A per-tensor (scalar) scale and zero point of a Q or DQ node, the zero point in u8 terms.
std::optional<ir::Graph::QdqParams> qdq_params(const ir::Node& n) {
  if (n.inputs.size() < 2 || !n.inputs[1] || !n.inputs[1]->constant) return std::nullopt;
  const Tensor& s = *n.inputs[1]->constant;
  if (s.numel() != 1 || s.dtype() != DType::kF32 || !(s.data<float>()[0] > 0)) return std::nullopt;
  ir::Graph::QdqParams p;
  p.scale = s.data<float>()[0];
  if (n.inputs.size() < 3 || !n.inputs[2]) return p;  // no zero point: u8, 0
  if (!n.inputs[2]->constant || n.inputs[2]->constant->numel() != 1) return std::nullopt;
  const Tensor& z = *n.inputs[2]->constant;
  if (z.dtype() == DType::kU8) {
    p.zero_point = z.data<uint8_t>()[0];
  } else if (z.dtype() == DType::kI8) {
    p.zero_point = z.data<int8_t>()[0] + 128;
  } else {
    return std::nullopt;
  }
  return p;
}

bool is_dense(const ir::Node* n) { return is_op(n, "Conv") || is_op(n, "MatMul") || is_op(n, "Gemm"); }

// v, or the float value a Q -> DQ pair producing v rounds.
const ir::Value* through_qdq(const ir::Value* v) {
  const ir::Node* dq = v->producer;
  if (!is_op(dq, "DequantizeLinear") || !dq->has_input(0)) return v;
  const ir::Node* q = dq->inputs[0]->producer;
  return is_op(q, "QuantizeLinear") && q->has_input(0) ? q->inputs[0] : v;
}

// The pair may go where every reader will take `v` as an int8 layer's input: the X of a Conv / MatMul /
// Gemm, or the residual of an Add after one (which the epilogue fusion makes that layer's Z). Elsewhere the
// pair stays and rounds as the model says.
bool read_by_int8_layers(const ir::Value* v) {
  for (const ir::Node* r : v->consumers) {
    if (is_dense(r) && r->inputs[0] == v) continue;
    if (is_op(r, "Add") && r->inputs.size() == 2) {
      const ir::Value* other = r->inputs[0] == v ? r->inputs[1] : r->inputs[0];
      if (other && other != v && is_dense(through_qdq(other)->producer)) continue;
    }
    return false;
  }
  return true;
}

}  // namespace

Expected<bool> fold_qdq(ir::Graph& g, const PassOptions&) {
  bool changed = false;
  std::unordered_set<const ir::Node*> gone;
  Rewrite rw(g);
  for (ir::Node* dq : snapshot(g)) {
    if (gone.count(dq) || !is_op(dq, "DequantizeLinear") || !dq->has_input(0) || !dq->has_output(0)) continue;
    ir::Node* q = dq->inputs[0]->producer;
    if (!is_op(q, "QuantizeLinear") || gone.count(q) || !q->has_input(0)) continue;
    ir::Value* x = q->inputs[0];
    if (x->constant || x->type.dtype != DType::kF32 || dq->outputs[0]->type.dtype != DType::kF32) continue;
    const auto pq = qdq_params(*q), pdq = qdq_params(*dq);
    if (!pq || !pdq || pq->scale != pdq->scale || pq->zero_point != pdq->zero_point) continue;
    if (!read_by_int8_layers(dq->outputs[0])) continue;
    bool is_graph_output = false;
    for (const ir::Value* o : g.outputs) is_graph_output |= o == dq->outputs[0];
    if (is_graph_output) continue;
    // One value rounded by two different pairs: the first one's scale stands.
    g.qdq.emplace(x->name(), *pdq);
    g.replace_all_uses(dq->outputs[0], x);
    std::vector<ir::Node*> dead = {dq};
    if (q->outputs[0]->consumers.size() == 1) dead.push_back(q);
    rw.remove(dead, &gone);
    changed = true;
  }
  return finish(g, changed);
}

}  // namespace ingot::passes
