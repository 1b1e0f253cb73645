#include "ingot/quantize.h"

#include <unistd.h>
#include <cmath>
#include <cstdio>
#include <set>

#include "onnx/exporter.h"
#include "onnx/importer.h"
#include "quant/calib_cache.h"
#include "quant/histogram.h"

namespace ingot {
namespace {

Tensor scalar_tensor(float v) {
  Tensor t = *Tensor::create(DType::kF32, {});
  t.data<float>()[0] = v;
  return t;
}

// Inserts x -> QuantizeLinear -> DequantizeLinear -> (every former reader of x).
Status insert_qdq(ir::Graph& g, ir::Value* x, float scale, int32_t zero_point) {
  Tensor zp = *Tensor::create(DType::kU8, {});
  zp.data<uint8_t>()[0] = static_cast<uint8_t>(zero_point);
  ir::Value* s = g.add_constant(x->name() + "_scale", scalar_tensor(scale));
  ir::Value* z = g.add_constant(x->name() + "_zero_point", zp);
  INGOT_ASSIGN_OR_RETURN(ir::Value * q, g.add_value(g.unique_name(x->name() + "_quantized")));
  INGOT_ASSIGN_OR_RETURN(ir::Value * dq, g.add_value(g.unique_name(x->name() + "_dequantized")));
  q->type = x->type;
  q->type.dtype = DType::kU8;
  dq->type = x->type;
  const std::vector<ir::Node*> readers = x->consumers;
  for (ir::Node* r : readers)
    for (ir::Value*& in : r->inputs)
      if (in == x) in = dq;
  for (auto [op, in, out] : {std::tuple{"QuantizeLinear", x, q}, {"DequantizeLinear", q, dq}}) {
    auto n = std::make_unique<ir::Node>();
    n->name = g.unique_name(out->name());
    n->op_type = op;
    n->opset = g.opsets.count("") ? g.opsets.at("") : 13;
    n->inputs = {in, s, z};
    n->outputs = {out};
    g.add_node(std::move(n));
  }
  g.rebuild_uses();
  return Status::Ok();
}

// W (a constant input of `node`) as int8 per output channel (axis) + DequantizeLinear.
Status quantize_weight(ir::Graph& g, ir::Node& node, int64_t axis) {
  ir::Value* w = node.inputs[1];
  const Tensor& t = *w->constant;
  if (t.dtype() != DType::kF32 || t.rank() < 2) return Status::Ok();
  const int64_t channels = t.dim(axis);
  int64_t inner = 1;
  for (int64_t d = axis + 1; d < t.rank(); ++d) inner *= t.dim(d);
  const int64_t outer = t.numel() / (channels * inner);
  Tensor q = *Tensor::create(DType::kI8, t.dims());
  Tensor scale = *Tensor::create(DType::kF32, {channels});
  Tensor zp = *Tensor::create(DType::kI8, {channels});
  const float* src = t.data<float>();
  auto at = [&](int64_t o, int64_t c, int64_t i) { return (o * channels + c) * inner + i; };
  for (int64_t c = 0; c < channels; ++c) {
    float amax = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) amax = std::max(amax, std::fabs(src[at(o, c, i)]));
    const float s = amax > 0 ? amax / 127.f : 1.f;
    scale.data<float>()[c] = s;
    zp.data<int8_t>()[c] = 0;
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const float v = std::nearbyint(src[at(o, c, i)] / s);
        q.data<int8_t>()[at(o, c, i)] = static_cast<int8_t>(std::max(-127.f, std::min(127.f, v)));
      }
  }
  ir::Value* qv = g.add_constant(w->name() + "_quantized", q);
  ir::Value* sv = g.add_constant(w->name() + "_scale", scale);
  ir::Value* zv = g.add_constant(w->name() + "_zero_point", zp);
  INGOT_ASSIGN_OR_RETURN(ir::Value * dq, g.add_value(g.unique_name(w->name() + "_dequantized")));
  dq->type = w->type;
  auto n = std::make_unique<ir::Node>();
  n->name = g.unique_name(dq->name());
  n->op_type = "DequantizeLinear";
  n->opset = g.opsets.count("") ? g.opsets.at("") : 13;
  n->inputs = {qv, sv, zv};
  n->outputs = {dq};
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = axis;
  n->attrs["axis"] = a;
  g.add_node(std::move(n));
  node.inputs[1] = dq;
  g.rebuild_uses();
  return Status::Ok();
}

}  // namespace

Expected<QuantizeReport> quantize_onnx_file(const std::string& in_path, const std::string& out_path,
                                            const BuildConfig& config) {
  // Calibrate through the int8 build, its scales landing in a calibration cache.
  BuildConfig cfg = config;
  cfg.precision = "int8";
  const bool own_cache = cfg.calibration.cache_path.empty();
  if (own_cache) cfg.calibration.cache_path = out_path + ".calib." + std::to_string(getpid()) + ".tmp";
  struct Remove {
    std::string path;
    ~Remove() {
      if (!path.empty()) std::remove(path.c_str());
    }
  } remove{own_cache ? cfg.calibration.cache_path : std::string()};
  INGOT_ASSIGN_OR_RETURN(auto engine, Engine::from_onnx_file(in_path, cfg));
  INGOT_ASSIGN_OR_RETURN(quant::CalibrationCache cache,
                         quant::read_calibration_cache(cfg.calibration.cache_path));
  // The model's nodes that run in int8 (a layer's first fused node is its Conv / MatMul / Gemm).
  std::set<std::string> int8_nodes;
  for (const LayerInfo& l : engine->layers()) {
    if (l.precision != "int8" || l.fused.empty()) continue;
    const std::string& f = l.fused.front();
    int8_nodes.insert(f.substr(f.find(':') + 1));
  }
  INGOT_ASSIGN_OR_RETURN(onnx_import::Model model, onnx_import::import_file(in_path));
  ir::Graph& g = *model.graph;
  QuantizeReport report;
  for (const auto& [name, t] : cache.tensors) {
    ir::Value* x = g.find_local(name);
    // Types of intermediate values are only known after shape inference, which this graph has not had.
    if (!x || x->constant || (x->type.dtype != DType::kF32 && x->type.dtype != DType::kUndefined) ||
        x->consumers.empty())
      continue;
    const bool is_unsigned = t.min >= 0;
    INGOT_RETURN_IF_ERROR(
        insert_qdq(g, x, quant::activation_scale(t.amax, is_unsigned), is_unsigned ? 0 : 128));
    ++report.activations;
  }
  std::vector<ir::Node*> nodes;
  for (const auto& n : g.nodes()) nodes.push_back(n.get());
  for (ir::Node* n : nodes) {
    if (!int8_nodes.count(n->name) || !n->domain.empty() || n->inputs.size() < 2 || !n->inputs[1] ||
        !n->inputs[1]->constant)
      continue;
    int64_t axis = -1;
    if (n->op_type == "Conv") axis = 0;
    if (n->op_type == "MatMul" && n->inputs[1]->constant->rank() == 2) axis = 1;
    if (n->op_type == "Gemm") axis = n->attr_int("transB", 0) ? 0 : 1;
    if (axis < 0) continue;
    INGOT_RETURN_IF_ERROR(quantize_weight(g, *n, axis));
    ++report.weights;
  }
  INGOT_RETURN_IF_ERROR(g.topological_sort().with_context(in_path));
  onnx_import::ExportOptions eo;
  eo.ir_version = std::max<int64_t>(model.ir_version, 7);
  INGOT_RETURN_IF_ERROR(onnx_import::export_model_file(g, out_path, eo));
  return report;
}

}  // namespace ingot
