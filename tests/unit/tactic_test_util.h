// What the tactic tests share: a layer built by hand (LayerCase: attributes, inputs, weights), its
// reference output, and the check that every tactic named matches it, with static shapes and with a
// dynamic batch.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/tactic.h"
#include "ops/op.h"

namespace ingot::backends::tactic_test {

using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

constexpr double kTolerance = 1e-4;  // max |got - want| / max |want|, as tests/models measure

inline Tensor random_tensor(const Dims& dims, uint32_t seed) {
  Tensor t = Tensor::create(DType::kF32, dims).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

inline double relative_error(const Tensor& got, const Tensor& want) {
  EXPECT_EQ(got.dims(), want.dims());
  if (got.dims() != want.dims()) return INFINITY;
  double diff = 0, scale = 1e-6;
  for (int64_t i = 0; i < want.numel(); ++i) {
    diff = std::max(diff, std::abs(double(got.data<float>()[i]) - double(want.data<float>()[i])));
    scale = std::max(scale, std::abs(double(want.data<float>()[i])));
  }
  return diff / scale;
}

// The epilogue of the fused layers, computed here in double as the oracle: act(y + bias[c] + z).
inline double activate(const std::string& act, double x, double a, double b) {
  if (act.empty()) return x;
  if (act == "Relu") return std::max(x, 0.0);
  if (act == "LeakyRelu") return x < 0 ? a * x : x;
  if (act == "Clip") return std::min(std::max(x, a), b);
  if (act == "Sigmoid") return 1 / (1 + std::exp(-x));
  if (act == "HardSigmoid") return std::clamp(a * x + b, 0.0, 1.0);
  if (act == "HardSwish") return x * std::clamp(x / 6 + 0.5, 0.0, 1.0);
  if (act == "Silu") return x / (1 + std::exp(-x));
  if (act == "Gelu") return 0.5 * x * (1 + std::erf(x / std::sqrt(2.0)));
  if (act == "GeluTanh") return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
  if (act == "Tanh") return std::tanh(x);
  ADD_FAILURE() << "unknown activation " << act;
  return x;
}

// The tensors of a one-layer plan: one per defined value (the weights constant), then the output; sets
// `layer`'s inputs (-1 for an undefined value) and outputs. Non-weight inputs and the output get a dynamic
// batch dim when `dynamic`.
inline std::vector<PlanTensor> one_layer_plan(PlanLayer& layer, const std::vector<Tensor>& values,
                                              const std::vector<bool>& weight, const Dims& out_dims,
                                              bool dynamic = false) {
  std::vector<PlanTensor> tensors;
  layer.inputs.clear();
  layer.outputs.clear();
  for (size_t i = 0; i < values.size(); ++i) {
    if (!values[i].defined()) {
      layer.inputs.push_back(-1);
      continue;
    }
    PlanTensor t;
    t.name = "in" + std::to_string(i);
    t.dtype = DType::kF32;
    t.dims = values[i].dims();
    t.dim_symbols.assign(t.dims.size(), "");
    t.kind = weight[i] ? TensorKind::kWeight : TensorKind::kInput;
    if (weight[i]) t.weight = values[i];
    if (dynamic && !weight[i] && !t.dims.empty()) {
      t.dims[0] = -1;
      t.dim_symbols[0] = "batch";
    }
    layer.inputs.push_back(static_cast<int32_t>(tensors.size()));
    tensors.push_back(std::move(t));
  }
  PlanTensor y;
  y.name = "out";
  y.dtype = DType::kF32;
  y.kind = TensorKind::kOutput;
  y.dims = out_dims;
  y.dim_symbols.assign(out_dims.size(), "");
  if (dynamic && !y.dims.empty()) y.dims[0] = -1;
  layer.outputs.push_back(static_cast<int32_t>(tensors.size()));
  tensors.push_back(std::move(y));
  return tensors;
}

// One layer, its tensors and its inputs' values.
class LayerCase {
 public:
  LayerCase(std::string domain, std::string op) {
    layer_.name = "layer";
    layer_.domain = std::move(domain);
    layer_.op_type = std::move(op);
    layer_.opset = layer_.domain.empty() ? 17 : 1;
  }
  LayerCase& attr(const std::string& name, int64_t v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInt;
    a.i = v;
    layer_.attrs[name] = a;
    return *this;
  }
  LayerCase& attr(const std::string& name, std::vector<int64_t> v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kInts;
    a.ints = std::move(v);
    layer_.attrs[name] = a;
    return *this;
  }
  LayerCase& attr(const std::string& name, float v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kFloat;
    a.f = v;
    layer_.attrs[name] = a;
    return *this;
  }
  LayerCase& attr(const std::string& name, const std::string& v) {
    ir::Attribute a;
    a.kind = ir::Attribute::Kind::kString;
    a.s = v;
    layer_.attrs[name] = a;
    return *this;
  }
  LayerCase& input(const Dims& dims, bool weight = false) {
    values_.push_back(random_tensor(dims, seed_++));
    weight_.push_back(weight);
    return *this;
  }
  LayerCase& weight(const Dims& dims) { return input(dims, true); }
  LayerCase& none() {
    values_.emplace_back();
    weight_.push_back(false);
    return *this;
  }
  LayerCase& batch_dynamic(bool on) {
    dynamic_batch_ = on;
    return *this;
  }

  // The plan for the layer; non-weight inputs with their batch dim dynamic when `dynamic`.
  void make_plan(bool dynamic, const Dims& out_dims) {
    tensors_ = one_layer_plan(layer_, values_, weight_, out_dims, dynamic);
  }

  LayerDesc desc() const { return LayerDesc{layer_, tensors_}; }

  // The reference output of the plain op this layer stands for, with the epilogue applied in double
  // for the fused ops (their own reference is checked too where it is registered).
  Tensor expected() {
    // The fused conv / matmul layers: the plain op plus the epilogue; other layers: their own reference.
    const bool fused =
        layer_.domain == "ingot" && (layer_.op_type == "FusedConv" || layer_.op_type == "FusedMatMul");
    PlanLayer base = layer_;
    std::vector<Tensor> base_inputs = values_;
    if (fused) {
      base.domain.clear();
      base.op_type = layer_.op_type == "FusedConv" ? "Conv" : "MatMul";
      base.inputs.resize(layer_.op_type == "FusedConv" ? 3 : 2);
      base_inputs.resize(base.inputs.size());
    }
    LayerDesc d{base, tensors_};
    auto ref = prepare_reference(d);
    EXPECT_TRUE(ref.ok()) << ref.status().message();
    auto out = run_kernel(d, **ref, base_inputs);
    EXPECT_TRUE(out.ok()) << out.status().message();
    Tensor y = (*out)[0];
    if (!fused) return y;
    const std::string act = attr_string("activation");
    const double a = attr_float("activation_alpha"), b = attr_float("activation_beta");
    const bool conv = layer_.op_type == "FusedConv";
    const Tensor* bias =
        conv ? nullptr : (values_.size() > 2 && values_[2].defined() ? &values_[2] : nullptr);
    const Tensor* z = values_.size() > 3 && values_[3].defined() ? &values_[3] : nullptr;
    const int64_t n = y.dim(-1);
    for (int64_t i = 0; i < y.numel(); ++i) {
      double v = y.data<float>()[i];
      if (bias) v += bias->data<float>()[i % n];
      if (z) v += z->data<float>()[i];
      y.data<float>()[i] = static_cast<float>(activate(act, v, a, b));
    }
    return y;
  }

  // Each tactic supports the layer, static and (when asked) with a dynamic batch, and matches within `tol`.
  void check(const std::vector<std::string>& tactics, double tol = kTolerance) {
    make_plan(false, {});
    // FusedConv's bias rides in the conv; the reference of the plain op gets it.
    const Tensor want = expected();
    ASSERT_TRUE(want.defined());
    ASSERT_GT(want.numel(), 0);
    if (const ops::OpDef* def = ops::find_op(layer_.domain, layer_.op_type);
        def && layer_.domain == "ingot" && want_is_not_own_reference()) {
      make_plan(false, want.dims());
      auto ref = prepare_reference(desc());
      ASSERT_TRUE(ref.ok());
      auto out = run_kernel(desc(), **ref, values_);
      ASSERT_TRUE(out.ok()) << out.status().message();
      EXPECT_LE(relative_error((*out)[0], want), kTolerance) << "the op's own reference";
    }
    for (bool dynamic : {false, true}) {
      if (dynamic && !dynamic_batch_) continue;
      make_plan(dynamic, want.dims());
      for (const std::string& id : tactics) {
        SCOPED_TRACE(id + (dynamic ? " (dynamic batch)" : ""));
        const Tactic* t = find_tactic(id);
        ASSERT_NE(t, nullptr);
        ASSERT_EQ(t->supports(desc()), "");
        auto kernel = t->prepare(desc());
        ASSERT_TRUE(kernel.ok()) << kernel.status().message();
        // Twice: the second run reuses what the first built (and the scratch it grew).
        for (int run = 0; run < 2; ++run) {
          auto out = run_kernel(desc(), **kernel, values_);
          ASSERT_TRUE(out.ok()) << out.status().message();
          EXPECT_LE(relative_error((*out)[0], want), tol);
        }
      }
    }
  }

  // Why `id` does not support the layer (after a static plan with the reference's output shape).
  std::string why_not(const std::string& id, Dims out_dims) {
    make_plan(false, out_dims);
    return find_tactic(id)->supports(desc());
  }

  std::vector<Tensor>& values() { return values_; }
  PlanLayer& layer() { return layer_; }

 private:
  bool want_is_not_own_reference() const {
    return layer_.op_type == "FusedConv" || layer_.op_type == "FusedMatMul";
  }
  std::string attr_string(const std::string& n) const {
    auto it = layer_.attrs.find(n);
    return it == layer_.attrs.end() ? "" : it->second.s;
  }
  double attr_float(const std::string& n) const {
    auto it = layer_.attrs.find(n);
    return it == layer_.attrs.end() ? 0 : it->second.f;
  }

  PlanLayer layer_;
  std::vector<PlanTensor> tensors_;
  std::vector<Tensor> values_;
  std::vector<bool> weight_;
  uint32_t seed_ = 1;
  bool dynamic_batch_ = true;
};

}  // namespace ingot::backends::tactic_test

namespace ingot::backends::tactic_test {

// [N, C, H, W] <-> nChw<b>c (back: from it): the layout the layout pass agrees on between blocked layers.
inline Tensor to_blocked(const Tensor& t, int64_t b, bool back) {
  Tensor out = Tensor::create(DType::kF32, t.dims()).value();
  const int64_t N = t.dim(0), C = t.dim(1), HW = t.dim(2) * t.dim(3);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < HW; ++i) {
        const int64_t plain = (n * C + c) * HW + i, blocked = ((n * C + c / b * b) * HW + i * b) + c % b;
        out.data<float>()[back ? plain : blocked] = t.data<float>()[back ? blocked : plain];
      }
  return out;
}

// The ids "cpu.<name>.<isa>" of ingot's SIMD tactics whose ISA this CPU runs; each of the others must
// refuse every layer, saying so.
inline std::vector<std::string> simd_tactic_ids(const std::string& name, const LayerDesc& any_layer) {
  std::vector<std::string> ids;
  for (const char* isa : {"avx512", "avx2"}) {
    const std::string id = "cpu." + name + "." + isa;
    const Tactic* t = find_tactic(id);
    EXPECT_NE(t, nullptr) << id;
    if (!t) continue;
    const std::string why = t->supports(any_layer);
    if (why.find("this CPU does not run") != std::string::npos) continue;
    ids.push_back(id);
  }
  return ids;
}

}  // namespace ingot::backends::tactic_test
