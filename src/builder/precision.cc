#include "builder/precision.h"

#include <unistd.h>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <set>

#include "quant/calib_cache.h"
#include "quant/histogram.h"

namespace ingot::builder {
namespace {

// Layers that have reduced-precision kernels: convolutions and products with a constant float weight.
bool is_compute_layer(const ir::Node& n) {
  const bool conv =
      (n.domain.empty() && n.op_type == "Conv") || (n.domain == "ingot" && n.op_type == "FusedConv");
  const bool mm = (n.domain.empty() && (n.op_type == "MatMul" || n.op_type == "Gemm")) ||
                  (n.domain == "ingot" && n.op_type == "FusedMatMul");
  if (!conv && !mm) return false;
  if (n.inputs.size() < 2 || !n.inputs[0] || !n.inputs[1] || !n.inputs[1]->constant) return false;
  return n.inputs[0]->type.dtype == DType::kF32 && n.inputs[1]->constant->dtype() == DType::kF32;
}

// The precision asked for `n`: a --layer-precision naming the node or one of the model nodes fused into
// it ("Op:name" or "name"), else the build's.
std::string requested(const ir::Node& n, const BuildConfig& config, std::set<std::string>& used) {
  auto match = [&](const std::string& name) -> const std::string* {
    auto it = config.layer_precision.find(name);
    if (it == config.layer_precision.end()) return nullptr;
    used.insert(name);
    return &it->second;
  };
  if (const std::string* p = match(n.name)) return *p;
  auto fused = n.attrs.find("fused_from");
  if (fused != n.attrs.end()) {
    for (const std::string& f : fused->second.strings) {
      if (const std::string* p = match(f)) return *p;
      const size_t colon = f.find(':');
      if (colon != std::string::npos)
        if (const std::string* p = match(f.substr(colon + 1))) return *p;
    }
  }
  return config.precision;
}

void set_string(ir::Node& n, const char* name, const std::string& v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = v;
  n.attrs[name] = a;
}

void progress(const std::string& label, size_t done, size_t total, int pass) {
  static const bool tty = isatty(STDERR_FILENO);
  if (!tty) return;
  std::fprintf(stderr, "\rcalibrating %s: pass %d/2, batch %zu/%zu", label.c_str(), pass, done, total);
  if (pass == 2 && done == total) std::fprintf(stderr, "\n");
}

// Runs the calibration data through the FP32 model twice (ranges, then 2048-bin histograms) and returns
// each tensor's threshold and minimum.
Expected<std::map<std::string, quant::TensorCalibration>> calibrate(const std::vector<std::string>& tensors,
                                                                    const std::vector<std::string>& inputs,
                                                                    const CalibrationConfig& cc,
                                                                    const std::string& label,
                                                                    const RunnerFactory& make_runner) {
  Calibrator& data = *cc.calibrator;
  const size_t n = data.num_batches();
  if (n == 0) return invalid_argument(label + ": the calibration data has no batches");
  INGOT_ASSIGN_OR_RETURN(ActivationRunner run, make_runner(tensors));
  std::map<std::string, quant::TensorRange> ranges;
  std::map<std::string, quant::Histogram> hists;
  for (int pass = 1; pass <= 2; ++pass) {
    for (size_t b = 0; b < n; ++b) {
      progress(label, b, n, pass);
      INGOT_ASSIGN_OR_RETURN(auto batch, data.batch(b, inputs));
      auto out = run(batch);
      if (!out.ok()) return out.status().with_context(label + ": calibration batch " + std::to_string(b));
      for (const std::string& name : tensors) {
        auto it = out->find(name);
        if (it == out->end() || it->second.dtype() != DType::kF32)
          return internal_error(label + ": calibration did not produce float tensor '" + name + "'");
        const float* x = it->second.data<float>();
        const int64_t count = it->second.numel();
        if (pass == 1) {
          ranges[name].add(x, count);
        } else {
          auto h = hists.find(name);
          if (h == hists.end()) h = hists.emplace(name, quant::Histogram(ranges[name].amax)).first;
          h->second.add(x, count);
        }
      }
    }
    progress(label, n, n, pass);
  }
  std::map<std::string, quant::TensorCalibration> out;
  for (const std::string& name : tensors) {
    const quant::TensorRange& r = ranges[name];
    const bool is_unsigned = r.min >= 0;
    out[name] = {quant::compute_amax(hists.at(name), cc.method, is_unsigned, cc.percentile), r.min};
  }
  return out;
}

// The activations of an int8 layer that are calibrated: X, and a fused convolution's residual Z (kept
// int8 between layers where the backend can, see the cpu backend's int8 plan pass).
std::vector<const ir::Value*> quantized_inputs(const ir::Node& n) {
  std::vector<const ir::Value*> out = {n.inputs[0]};
  if (n.domain == "ingot" && n.op_type == "FusedConv" && n.inputs.size() > 3 && n.inputs[3] &&
      !n.inputs[3]->constant && n.inputs[3]->type.dtype == DType::kF32)
    out.push_back(n.inputs[3]);
  return out;
}

void set_scale(ir::Node& n, const quant::TensorCalibration& t, const char* scale_attr,
               const char* unsigned_attr) {
  const bool is_unsigned = t.min >= 0;
  ir::Attribute s;
  s.kind = ir::Attribute::Kind::kFloat;
  s.f = quant::activation_scale(t.amax, is_unsigned);
  n.attrs[scale_attr] = s;
  ir::Attribute u;
  u.kind = ir::Attribute::Kind::kInt;
  u.i = is_unsigned ? 1 : 0;
  n.attrs[unsigned_attr] = u;
}

// A Q/DQ pair's scale and zero point (u8 terms) as the int8 tactics read them.
void set_qdq_scale(ir::Node& n, const ir::Graph::QdqParams& p, const char* scale_attr,
                   const char* unsigned_attr) {
  ir::Attribute s;
  s.kind = ir::Attribute::Kind::kFloat;
  s.f = p.scale;
  n.attrs[scale_attr] = s;
  ir::Attribute i;
  i.kind = ir::Attribute::Kind::kInt;
  i.i = p.zero_point == 0 ? 1 : 0;
  n.attrs[unsigned_attr] = i;
  i.i = p.zero_point;
  n.attrs[engine::zero_point_attr(scale_attr)] = i;
}

}  // namespace

Status check_precision_name(const std::string& p, const std::string& what) {
  static const std::set<std::string> kNames = {"fp32", "fp16", "bf16", "int8", "best"};
  if (!kNames.count(p))
    return Status(StatusCode::kUsage,
                  what + ": unknown precision '" + p + "' (fp32, fp16, bf16, int8, best)");
  return Status::Ok();
}

Status assign_precision(ir::Graph& g, const BuildConfig& config, const std::string& label,
                        const RunnerFactory& make_runner, ScaleMemo* memo) {
  INGOT_RETURN_IF_ERROR(check_precision_name(config.precision, "--precision"));
  for (const auto& [name, p] : config.layer_precision) {
    INGOT_RETURN_IF_ERROR(check_precision_name(p, "--layer-precision " + name));
    if (p == "best")
      return Status(StatusCode::kUsage, "--layer-precision " + name + ": 'best' is for whole builds");
  }
  std::set<std::string> used;
  // Per node the precision it asks for; INT8 ones need their input 0's scale.
  std::vector<std::pair<ir::Node*, std::string>> wanted;
  std::vector<std::string> to_calibrate;
  std::set<std::string> seen;
  // Explicit quantization (fold_qdq kept the model's Q/DQ scales): the layers whose X a Q/DQ pair rounds run
  // in int8 at that scale unless a --layer-precision says otherwise; the others as the build asks, int8
  // excepted (no data to calibrate them with).
  const bool explicit_q = !g.qdq.empty();
  std::vector<ir::Node*> explicit_int8;
  for (const auto& node : g.nodes()) {
    std::string p = requested(*node, config, used);
    if (explicit_q && is_compute_layer(*node)) {
      const bool overridden = p != config.precision;
      if (g.qdq.count(node->inputs[0]->name()) && (!overridden || p == "int8")) {
        explicit_int8.push_back(node.get());
        continue;
      }
      if (p == "int8" || p == "best") {
        set_string(*node, kPrecisionNoteAttr, "no Q/DQ pair on its input in this Q/DQ model: runs in fp32");
        continue;
      }
    }
    if (p == "fp32") continue;
    if (!is_compute_layer(*node)) {
      if (p != config.precision) {
        set_string(*node, kPrecisionNoteAttr,
                   p + " asked for, but only Conv, MatMul and Gemm with constant float weights have " + p +
                       " kernels");
      }
      continue;
    }
    if (p == "best")
      p = config.calibration.calibrator || !config.calibration.cache_path.empty() ? "int8" : "fp16";
    wanted.emplace_back(node.get(), p);
    if (p == "int8")
      for (const ir::Value* v : quantized_inputs(*node))
        if (seen.insert(v->name()).second) to_calibrate.push_back(v->name());
  }
  for (const auto& [name, _] : config.layer_precision)
    if (!used.count(name))
      return invalid_argument(label + ": --layer-precision names '" + name +
                              "', which is no layer or node of the model");

  std::map<std::string, quant::TensorCalibration> scales;
  if (!to_calibrate.empty()) {
    const CalibrationConfig& cc = config.calibration;
    bool cache_read = false;
    if (memo && !memo->empty()) {
      scales = *memo;
    } else if (!cc.cache_path.empty()) {
      auto cache = quant::read_calibration_cache(cc.cache_path);
      if (cache.ok()) {
        scales = cache->tensors;
        cache_read = true;
      } else if (cache.status().code() != StatusCode::kNotFound || !cc.calibrator) {
        return cache.status().with_context(label);
      }
    }
    std::vector<std::string> missing;
    for (const std::string& t : to_calibrate)
      if (!scales.count(t)) missing.push_back(t);
    if (!missing.empty()) {
      if (!cc.calibrator) {
        std::string list;
        for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
        if (missing.size() > 5) list += ", ...";
        return invalid_argument(
            label + ": INT8 needs calibration data (--calib DIR)" +
            (cache_read ? ": the cache " + cc.cache_path + " has no scale for " + list : std::string()));
      }
      std::vector<std::string> inputs;
      for (const ir::Value* v : g.inputs) inputs.push_back(v->name());
      INGOT_ASSIGN_OR_RETURN(auto fresh, calibrate(to_calibrate, inputs, cc, label, make_runner));
      for (auto& [name, t] : fresh) scales[name] = t;
      if (!cc.cache_path.empty()) {
        quant::CalibrationCache cache{cc.method, scales};
        INGOT_RETURN_IF_ERROR(quant::write_calibration_cache(cc.cache_path, cache));
      }
    }
    if (memo) *memo = scales;
  }
  for (ir::Node* node : explicit_int8) {
    set_string(*node, kPrecisionAttr, "int8");
    const std::vector<const ir::Value*> q = quantized_inputs(*node);
    set_qdq_scale(*node, g.qdq.at(q[0]->name()), kQuantScaleAttr, kQuantUnsignedAttr);
    if (q.size() > 1 && g.qdq.count(q[1]->name()))
      set_qdq_scale(*node, g.qdq.at(q[1]->name()), engine::kQuantZCalibScaleAttr,
                    engine::kQuantZCalibUnsignedAttr);
  }
  for (auto& [node, p] : wanted) {
    set_string(*node, kPrecisionAttr, p);
    if (p != "int8") continue;
    const std::vector<const ir::Value*> q = quantized_inputs(*node);
    set_scale(*node, scales.at(q[0]->name()), kQuantScaleAttr, kQuantUnsignedAttr);
    if (q.size() > 1)
      set_scale(*node, scales.at(q[1]->name()), engine::kQuantZCalibScaleAttr,
                engine::kQuantZCalibUnsignedAttr);
  }
  return Status::Ok();
}

}  // namespace ingot::builder
