// INT8: the calibrators on known distributions, the calibration cache (round trip and bad files), and the
// int8 tactics against an oracle: the fp32 reference run on the fake-quantized input and weights (the same
// rounding the tactic does), which int8 arithmetic must match up to fp32 summation order; and against the
// plain fp32 reference within int8's tolerance.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "backends/cpu/onednn_conv.h"
#include "backends/tactic.h"
#include "quant/calib_cache.h"
#include "quant/histogram.h"
#include "tactic_test_util.h"

namespace ingot {
namespace {

using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

quant::Histogram histogram_of(const std::vector<float>& x) {
  quant::TensorRange r;
  r.add(x.data(), static_cast<int64_t>(x.size()));
  quant::Histogram h(r.amax);
  h.add(x.data(), static_cast<int64_t>(x.size()));
  return h;
}

std::vector<float> gaussian_with_outliers(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> g(0.f, 1.f);
  std::vector<float> x(n);
  for (float& v : x) v = g(rng);
  x[0] = 40.f;  // a few far outliers, as activations have
  x[1] = -35.f;
  return x;
}

TEST(Calibration, MethodsOnAGaussianWithOutliers) {
  const auto x = gaussian_with_outliers(200000, 1);
  const quant::Histogram h = histogram_of(x);
  const float minmax = quant::compute_amax(h, CalibrationMethod::kMinMax, false, 0);
  EXPECT_FLOAT_EQ(minmax, 40.f);
  // The 99.99th percentile of |N(0,1)| is about 3.9.
  const float pct = quant::compute_amax(h, CalibrationMethod::kPercentile, false, 99.99);
  EXPECT_GT(pct, 3.5f);
  EXPECT_LT(pct, 4.5f);
  // Entropy clips the outliers, keeping the bulk of the Gaussian.
  const float entropy = quant::compute_amax(h, CalibrationMethod::kEntropy, false, 0);
  EXPECT_GT(entropy, 2.5f);
  EXPECT_LT(entropy, 10.f);
  // MSE weighs two outliers against 200000 rounding errors: it clips them only part of the way.
  const float mse = quant::compute_amax(h, CalibrationMethod::kMse, false, 0);
  EXPECT_GT(mse, 10.f);
  EXPECT_LT(mse, 35.f);
}

TEST(Calibration, UniformKeepsItsRange) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> u(0.f, 6.f);
  std::vector<float> x(100000);
  for (float& v : x) v = u(rng);
  const quant::Histogram h = histogram_of(x);
  // Nothing to clip: every method keeps (nearly) the whole range.
  for (auto m : {CalibrationMethod::kEntropy, CalibrationMethod::kMse, CalibrationMethod::kMinMax}) {
    SCOPED_TRACE(calibration_method_name(m));
    EXPECT_GT(quant::compute_amax(h, m, true, 0), 5.7f);
    EXPECT_LE(quant::compute_amax(h, m, true, 0), 6.f);
  }
}

TEST(Calibration, ZerosAndScales) {
  const quant::Histogram h = histogram_of(std::vector<float>(100, 0.f));
  EXPECT_EQ(quant::compute_amax(h, CalibrationMethod::kEntropy, false, 0), 0.f);
  EXPECT_EQ(quant::activation_scale(0.f, false), 1.f);
  EXPECT_FLOAT_EQ(quant::activation_scale(12.7f, false), 0.1f);
  EXPECT_FLOAT_EQ(quant::activation_scale(25.5f, true), 0.1f);
}

TEST(CalibrationCache, RoundTripsExactly) {
  quant::CalibrationCache c;
  c.method = CalibrationMethod::kPercentile;
  c.tensors["conv1 out"] = {3.14159274f, -0.5f};
  c.tensors["x"] = {1e-20f, 0.f};
  c.tensors["/layer.0/Relu_output_0"] = {6.0f, 0.f};
  auto text = quant::serialize_calibration_cache(c);
  ASSERT_TRUE(text.ok()) << text.status().message();
  auto back = quant::parse_calibration_cache(*text, "c");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->method, c.method);
  EXPECT_EQ(back->tensors, c.tensors);
}

TEST(CalibrationCache, BadFilesAreErrorsNamingTheLine) {
  const std::string head = "ingot-calibration-cache 1\nmethod entropy\n";
  const std::pair<std::string, std::string> cases[] = {
      {"", "empty"},
      {"TRT-8600-EntropyCalibration2\n", "line 1: not an ingot calibration cache"},
      {"ingot-calibration-cache 1\n", "no 'method' line"},
      {"ingot-calibration-cache 1\nmethod magic\n", "line 2: unknown calibration method 'magic'"},
      {head + "0x1p+0 0x0p+0\n", "line 3: expected 'AMAX MIN TENSOR'"},
      {head + "-0x1p+0 0x0p+0 t\n", "line 3: bad threshold"},
      {head + "nan 0x0p+0 t\n", "line 3: bad threshold"},
      {head + "0x1p+0 inf t\n", "line 3: bad minimum"},
      {head + "0x1p+0 0 t\n0x1p+1 0 t\n", "line 4: tensor 't' appears twice"},
  };
  for (const auto& [text, want] : cases) {
    auto c = quant::parse_calibration_cache(text, "my.cache");
    ASSERT_FALSE(c.ok()) << text;
    EXPECT_EQ(c.status().message().rfind("my.cache: ", 0), 0u) << c.status().message();
    EXPECT_NE(c.status().message().find(want), std::string::npos) << c.status().message();
  }
  quant::CalibrationCache c;
  c.tensors["a\nb"] = {1.f, 0.f};
  EXPECT_FALSE(quant::serialize_calibration_cache(c).ok());
}

// ---- int8 tactics ----

Tensor random_tensor(const Dims& dims, uint32_t seed, float lo, float hi) {
  Tensor t = Tensor::create(DType::kF32, dims).value();
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(lo, hi);
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = u(rng);
  return t;
}

// x rounded to the grid of `scale`, clamped to [lo, hi] steps: what the tactic's quantization keeps.
float fake_quant(float x, float scale, float lo, float hi) {
  return std::min(hi, std::max(lo, std::nearbyint(x / scale))) * scale;
}

// W with each output channel (dim 0, or dim 1 of a [K, N] matmul weight) fake-quantized per channel.
Tensor fake_quant_weights(const Tensor& w, bool channel_last) {
  Tensor q = w.clone();
  const int64_t channels = channel_last ? w.dim(1) : w.dim(0), inner = w.numel() / channels;
  const float qmax = static_cast<float>(backends::cpu::int8_weight_qmax());
  for (int64_t c = 0; c < channels; ++c) {
    auto at = [&](int64_t i) { return channel_last ? i * channels + c : c * inner + i; };
    float amax = 0;
    for (int64_t i = 0; i < inner; ++i) amax = std::max(amax, std::fabs(w.data<float>()[at(i)]));
    const float s = amax > 0 ? amax / qmax : 1.f;
    for (int64_t i = 0; i < inner; ++i)
      q.data<float>()[at(i)] = fake_quant(w.data<float>()[at(i)], s, -qmax, qmax);
  }
  return q;
}

struct Int8Case {
  std::string op;  // "Conv", "FusedConv", "MatMul", "FusedMatMul", "Gemm"
  Dims x, w;
  std::map<std::string, ir::Attribute> attrs;
  bool bias = false, residual = false, is_unsigned = false;
};

ir::Attribute attr_i(int64_t v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInt;
  a.i = v;
  return a;
}
ir::Attribute attr_is(std::vector<int64_t> v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kInts;
  a.ints = std::move(v);
  return a;
}
ir::Attribute attr_s(const std::string& v) {
  ir::Attribute a;
  a.kind = ir::Attribute::Kind::kString;
  a.s = v;
  return a;
}

// Runs a layer through `kernel` on `values` (plan built from their shapes, weights constant).
Expected<Tensor> run_layer(PlanLayer layer, const std::vector<Tensor>& values,
                           const std::vector<bool>& weight, const Dims& out_dims, backends::Kernel* kernel,
                           const std::string& tactic) {
  const std::vector<PlanTensor> tensors =
      backends::tactic_test::one_layer_plan(layer, values, weight, out_dims);
  backends::LayerDesc desc{layer, tensors};
  std::unique_ptr<backends::Kernel> owned;
  if (!kernel) {
    if (tactic.empty()) {
      INGOT_ASSIGN_OR_RETURN(owned, backends::prepare_reference(desc));
    } else {
      const backends::Tactic* t = backends::find_tactic(tactic);
      if (!t) return not_found(tactic);
      const std::string why = t->supports(desc);
      if (!why.empty()) return unsupported(why);
      INGOT_ASSIGN_OR_RETURN(owned, t->prepare(desc));
    }
    kernel = owned.get();
  }
  INGOT_ASSIGN_OR_RETURN(auto out, backends::run_kernel(desc, *kernel, values));
  return out[0];
}

double max_rel(const Tensor& got, const Tensor& want) {
  if (got.dims() != want.dims()) return INFINITY;
  double diff = 0, scale = 1e-6;
  for (int64_t i = 0; i < want.numel(); ++i) {
    diff = std::max(diff, std::abs(double(got.data<float>()[i]) - double(want.data<float>()[i])));
    scale = std::max(scale, std::abs(double(want.data<float>()[i])));
  }
  return diff / scale;
}

void check_int8(const Int8Case& c, uint32_t seed) {
  const bool conv = c.op == "Conv" || c.op == "FusedConv", fused = c.op.rfind("Fused", 0) == 0;
  const bool gemm_tb = c.op == "Gemm" && c.attrs.count("transB") && c.attrs.at("transB").i;
  PlanLayer layer;
  layer.name = "layer";
  layer.domain = fused ? "ingot" : "";
  layer.op_type = c.op;
  layer.opset = fused ? 1 : 17;
  layer.attrs = c.attrs;
  layer.precision = "int8";
  const Tensor x = random_tensor(c.x, seed, c.is_unsigned ? 0.f : -2.f, 2.f);
  const Tensor w = random_tensor(c.w, seed + 1, -0.5f, 0.5f);
  const int64_t channels = conv || gemm_tb ? c.w[0] : c.w[1];
  const Tensor b = c.bias ? random_tensor({channels}, seed + 2, -1.f, 1.f) : Tensor();
  // The input's scale as calibration would set it: its range over the levels.
  const float amax = 2.f, scale = amax / (c.is_unsigned ? 255.f : 127.f);
  ir::Attribute s;
  s.kind = ir::Attribute::Kind::kFloat;
  s.f = scale;
  layer.attrs[engine::kQuantScaleAttr] = s;
  layer.attrs[engine::kQuantUnsignedAttr] = attr_i(c.is_unsigned);
  // The oracle: the base op (Conv / MatMul / Gemm) on fake-quantized x and w, then the epilogue.
  PlanLayer base = layer;
  base.domain.clear();
  base.opset = 17;
  base.op_type = c.op == "FusedConv" ? "Conv" : c.op == "FusedMatMul" ? "MatMul" : c.op;
  Tensor xq = x.clone();
  for (int64_t i = 0; i < xq.numel(); ++i)
    xq.data<float>()[i] =
        fake_quant(x.data<float>()[i], scale, c.is_unsigned ? 0.f : -128.f, c.is_unsigned ? 255.f : 127.f);
  const Tensor wq = fake_quant_weights(w, !(conv || gemm_tb));
  std::vector<Tensor> base_in = {xq, wq};
  std::vector<bool> base_w = {false, true};
  if (c.bias && (conv || c.op == "Gemm")) {
    base_in.push_back(b);
    base_w.push_back(true);
  }
  auto want_q = run_layer(base, base_in, base_w, {}, nullptr, "");
  ASSERT_TRUE(want_q.ok()) << want_q.status().message();
  base_in[0] = x;
  base_in[1] = w;
  auto want = run_layer(base, base_in, base_w, {}, nullptr, "");
  ASSERT_TRUE(want.ok());
  const Tensor z = c.residual ? random_tensor(want_q->dims(), seed + 3, -1.f, 1.f) : Tensor();
  const std::string act = c.attrs.count("activation") ? c.attrs.at("activation").s : "";
  for (Tensor* t : {&*want_q, &*want}) {
    const int64_t n = t->dim(-1), hw = conv ? t->numel() / t->dim(0) / t->dim(1) : 1;
    for (int64_t i = 0; i < t->numel(); ++i) {
      float v = t->data<float>()[i];
      if (c.bias && c.op == "FusedMatMul") v += b.data<float>()[i % n];
      if (c.residual) v += z.data<float>()[i];
      if (act == "Relu") v = std::max(v, 0.f);
      t->data<float>()[i] = v;
    }
    (void)hw;
  }
  std::vector<Tensor> in = {x, w};
  std::vector<bool> is_w = {false, true};
  if (c.bias || c.residual) {
    in.push_back(b);
    is_w.push_back(c.bias);
  }
  if (c.residual) {
    in.push_back(z);
    is_w.push_back(false);
  }
  const std::string tactic = conv ? "cpu.onednn.conv.int8" : "cpu.onednn.matmul.int8";
  auto got = run_layer(layer, in, is_w, want_q->dims(), nullptr, tactic);
  ASSERT_TRUE(got.ok()) << got.status().message();
  // Integer products summed exactly; only the fp32 scaling and epilogue round.
  EXPECT_LE(max_rel(*got, *want_q), 2e-5) << "against the fake-quantized reference";
  // Against fp32: 7- or 8-bit weights and 8-bit inputs over random data.
  EXPECT_LE(max_rel(*got, *want), 0.05) << "against the fp32 reference";
}

TEST(Int8Tactics, ConvAgainstTheReference) {
  int seed = 10;
  for (bool is_unsigned : {false, true}) {
    for (bool bias : {false, true}) {
      SCOPED_TRACE(std::string(is_unsigned ? "u8" : "s8") + (bias ? " bias" : ""));
      check_int8(
          {"Conv", {1, 3, 9, 9}, {8, 3, 3, 3}, {{"pads", attr_is({1, 1, 1, 1})}}, bias, false, is_unsigned},
          seed++);
      check_int8({"Conv", {2, 16, 7, 5}, {32, 16, 1, 1}, {}, bias, false, is_unsigned}, seed++);
      check_int8(
          {"Conv", {1, 8, 11, 11}, {16, 8, 3, 3}, {{"strides", attr_is({2, 2})}}, bias, false, is_unsigned},
          seed++);
      check_int8({"Conv",
                  {1, 16, 8, 8},
                  {16, 1, 3, 3},
                  {{"group", attr_i(16)}, {"pads", attr_is({1, 1, 1, 1})}},
                  bias,
                  false,
                  is_unsigned},
                 seed++);
      check_int8({"Conv", {1, 4, 20}, {6, 4, 5}, {}, bias, false, is_unsigned}, seed++);
      check_int8({"FusedConv",
                  {1, 24, 6, 6},
                  {24, 24, 3, 3},
                  {{"pads", attr_is({1, 1, 1, 1})}, {"activation", attr_s("Relu")}},
                  bias,
                  true,
                  is_unsigned},
                 seed++);
    }
  }
}

TEST(Int8Tactics, MatMulAgainstTheReference) {
  int seed = 100;
  for (bool is_unsigned : {false, true}) {
    SCOPED_TRACE(is_unsigned ? "u8" : "s8");
    check_int8({"MatMul", {5, 17}, {17, 9}, {}, false, false, is_unsigned}, seed++);
    check_int8({"MatMul", {2, 3, 64}, {64, 33}, {}, false, false, is_unsigned}, seed++);
    check_int8({"FusedMatMul", {4, 40}, {40, 10}, {{"activation", attr_s("Relu")}}, true, true, is_unsigned},
               seed++);
    check_int8({"Gemm", {3, 31}, {12, 31}, {{"transB", attr_i(1)}}, true, false, is_unsigned}, seed++);
    check_int8({"Gemm", {1, 256}, {256, 64}, {}, true, false, is_unsigned}, seed++);
  }
}

TEST(Int8Tactics, OnlyForInt8LayersWithAScale) {
  PlanLayer layer;
  layer.name = "l";
  layer.op_type = "MatMul";
  layer.opset = 17;
  const Tensor a = random_tensor({2, 4}, 1, -1, 1), b = random_tensor({4, 3}, 2, -1, 1);
  auto r = run_layer(layer, {a, b}, {false, true}, {2, 3}, nullptr, "cpu.onednn.matmul.int8");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "the layer is not int8");
  layer.precision = "int8";
  r = run_layer(layer, {a, b}, {false, true}, {2, 3}, nullptr, "cpu.onednn.matmul.int8");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "no calibrated scale for input 0");
}

}  // namespace
}  // namespace ingot
