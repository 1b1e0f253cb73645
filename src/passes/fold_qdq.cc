// Explicit quantization (models from onnxruntime's quantize_static in QDQ format, PyTorch QAT exports):
// each QuantizeLinear -> DequantizeLinear pair on a float activation goes, its readers read the float
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
