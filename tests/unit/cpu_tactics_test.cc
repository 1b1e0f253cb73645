// Every CPU tactic against the reference evaluation on random data over a grid of shapes: each layer is
// run alone (backends::run_kernel) with its static shapes, and again with a dynamic batch, where the
// tactic builds its primitives at run time.
#include <gtest/gtest.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <numeric>
#include <thread>

#include "backends/tactic.h"
#include "core/platform.h"
#include "core/threading.h"
#include "ops/op.h"

#include "tactic_test_util.h"

namespace ingot::backends {
namespace {

using engine::PlanLayer;
using engine::PlanTensor;
using engine::TensorKind;

using namespace tactic_test;  // NOLINT(google-build-using-namespace)

const std::vector<std::string> kConvTactics = {"cpu.onednn.conv", "cpu.onednn.conv.nchw"};
const std::vector<std::string> kMatMulTactics = {"cpu.onednn.matmul"};

struct ConvParams {
  Dims x;  // N, C, spatial...
  int64_t out_channels;
  Dims kernel;
  std::vector<int64_t> strides, pads, dilations;
  int64_t group = 1;
  std::string auto_pad;
  bool bias = true;
};

LayerCase conv_case(const ConvParams& p, const std::string& domain = "", const std::string& op = "Conv") {
  LayerCase c(domain, op);
  Dims w = {p.out_channels, p.x[1] / p.group};
  w.insert(w.end(), p.kernel.begin(), p.kernel.end());
  c.input(p.x).weight(w);
  if (p.bias)
    c.weight({p.out_channels});
  else if (!domain.empty())
    c.none();
  if (!p.strides.empty()) c.attr("strides", p.strides);
  if (!p.pads.empty()) c.attr("pads", p.pads);
  if (!p.dilations.empty()) c.attr("dilations", p.dilations);
  if (p.group != 1) c.attr("group", p.group);
  if (!p.auto_pad.empty()) c.attr("auto_pad", p.auto_pad);
  return c;
}

class ConvTactics : public ::testing::TestWithParam<ConvParams> {};

TEST_P(ConvTactics, MatchTheReference) { conv_case(GetParam()).check(kConvTactics); }

INSTANTIATE_TEST_SUITE_P(
    Shapes, ConvTactics,
    ::testing::Values(
        ConvParams{{1, 16, 7, 7}, 32, {1, 1}},                                   // 1x1
        ConvParams{{1, 64, 14, 14}, 64, {1, 1}, {}, {}, {}, 1, "", false},       // 1x1 no bias
        ConvParams{{1, 8, 12, 10}, 16, {3, 3}, {}, {1, 1, 1, 1}},                // 3x3 padded
        ConvParams{{2, 3, 15, 15}, 8, {3, 3}, {2, 2}, {1, 1, 1, 1}},             // strided, C = 3, batch 2
        ConvParams{{1, 3, 32, 32}, 16, {7, 7}, {2, 2}, {3, 3, 3, 3}},            // resnet's stem
        ConvParams{{1, 8, 16, 16}, 8, {3, 3}, {}, {2, 2, 2, 2}, {2, 2}},         // dilated
        ConvParams{{1, 8, 17, 13}, 8, {3, 3}, {1, 2}, {0, 1, 2, 0}, {1, 3}},     // uneven everything
        ConvParams{{1, 16, 9, 9}, 32, {3, 3}, {}, {1, 1, 1, 1}, {}, 4},          // grouped
        ConvParams{{1, 32, 14, 14}, 32, {3, 3}, {}, {1, 1, 1, 1}, {}, 32},       // depthwise
        ConvParams{{1, 32, 15, 15}, 32, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 32},   // depthwise strided
        ConvParams{{1, 24, 10, 10}, 24, {5, 5}, {}, {2, 2, 2, 2}, {}, 24},       // depthwise 5x5
        ConvParams{{1, 8, 10, 10}, 16, {3, 3}, {}, {1, 1, 1, 1}, {}, 8},         // depth multiplier 2
        ConvParams{{1, 4, 10, 10}, 8, {3, 3}, {2, 2}, {}, {}, 1, "SAME_UPPER"},  // odd pad at the end
        ConvParams{{1, 4, 10, 10}, 8, {3, 3}, {2, 2}, {}, {}, 1, "SAME_LOWER"},  // odd pad at the start
        ConvParams{{1, 4, 11, 9}, 8, {3, 3}, {2, 2}, {}, {}, 1, "VALID"},
        ConvParams{{3, 5, 9, 5}, 7, {2, 2}},                                // odd sizes, batch 3
        ConvParams{{1, 4, 20}, 6, {3}, {1}, {1, 1}},                        // 1-D
        ConvParams{{1, 2, 6, 6, 6}, 4, {3, 3, 3}, {}, {1, 1, 1, 1, 1, 1}},  // 3-D
        ConvParams{{2, 64, 8, 8}, 128, {3, 3}, {2, 2}, {1, 1, 1, 1}}));

const std::vector<std::string> kActivations = {"",        "Relu",        "LeakyRelu", "Clip",
                                               "Sigmoid", "HardSigmoid", "HardSwish", "Silu",
                                               "Gelu",    "GeluTanh",    "Tanh"};

// alpha / beta as the fusion passes set them for each activation.
void set_activation(LayerCase& c, const std::string& act) {
  c.attr("activation", act);
  if (act == "LeakyRelu") c.attr("activation_alpha", 0.1f);
  if (act == "Clip") c.attr("activation_alpha", -0.5f).attr("activation_beta", 0.75f);
  if (act == "HardSigmoid") c.attr("activation_alpha", 0.2f).attr("activation_beta", 0.5f);
}

TEST(FusedConvTactics, EveryActivationWithBiasAndResidual) {
  for (const std::string& act : kActivations) {
    for (bool residual : {false, true}) {
      SCOPED_TRACE("activation '" + act + "'" + (residual ? " + Z" : ""));
      // Scaled up so that the activations see values well past their bends.
      LayerCase c = conv_case({{2, 16, 9, 9}, 32, {3, 3}, {}, {1, 1, 1, 1}}, "ingot", "FusedConv");
      for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] *= 3;
      if (residual) c.input({2, 32, 9, 9});
      set_activation(c, act);
      c.check(kConvTactics);
    }
  }
}

TEST(FusedConvTactics, DepthwiseAndStridedWithResidual) {
  LayerCase dw = conv_case({{1, 32, 14, 14}, 32, {3, 3}, {2, 2}, {1, 1, 1, 1}, {}, 32}, "ingot", "FusedConv");
  dw.input({1, 32, 7, 7});
  set_activation(dw, "Clip");
  dw.check(kConvTactics);
  LayerCase nobias = conv_case({{1, 8, 6, 6}, 8, {1, 1}, {}, {}, {}, 1, "", false}, "ingot", "FusedConv");
  nobias.input({1, 8, 6, 6});
  set_activation(nobias, "Relu");
  nobias.check(kConvTactics);
}

// BF16 layers: X and W rounded to bfloat16 (8 significant bits), fp32 accumulation, so a relative error of a
// few 1e-3 against the fp32 reference (checked against 2e-2). Only where oneDNN has a bf16 kernel for this
// CPU (AVX512-BF16 or AMX); elsewhere the tactic refuses the layer and the test says so.
TEST(ConvTactics, Bf16MatchesTheReferenceWithinItsRounding) {
  const Tactic* bf16 = find_tactic("cpu.onednn.conv.bf16");
  ASSERT_NE(bf16, nullptr);
  LayerCase probe = conv_case({{1, 16, 7, 7}, 32, {1, 1}});
  probe.layer().precision = "bf16";
  probe.make_plan(false, {1, 32, 7, 7});
  if (const std::string why = bf16->supports(probe.desc()); !why.empty())
    GTEST_SKIP() << "no bf16 convolution on this CPU (" << cpu_feature_list() << "): " << why;
  for (const ConvParams& p :
       {ConvParams{{1, 16, 7, 7}, 32, {1, 1}}, ConvParams{{2, 3, 15, 15}, 8, {3, 3}, {2, 2}, {1, 1, 1, 1}},
        ConvParams{{1, 64, 14, 14}, 64, {3, 3}, {}, {1, 1, 1, 1}},
        ConvParams{{1, 32, 14, 14}, 32, {3, 3}, {}, {1, 1, 1, 1}, {}, 32}}) {
    LayerCase c = conv_case(p);
    c.layer().precision = "bf16";
    c.check({"cpu.onednn.conv.bf16"}, 2e-2);
  }
  LayerCase fused = conv_case({{2, 16, 9, 9}, 32, {3, 3}, {}, {1, 1, 1, 1}}, "ingot", "FusedConv");
  fused.input({2, 32, 9, 9});
  set_activation(fused, "Relu");
  fused.layer().precision = "bf16";
  fused.check({"cpu.onednn.conv.bf16"}, 2e-2);
}

TEST(ConvTactics, RefuseWhatTheyCannotRunExactly) {
  LayerCase runtime_w("", "Conv");
  runtime_w.input({1, 4, 8, 8}).input({8, 4, 3, 3});
  EXPECT_NE(runtime_w.why_not("cpu.onednn.conv", {1, 8, 6, 6}), "");
  LayerCase clip = conv_case({{1, 4, 8, 8}, 8, {3, 3}}, "ingot", "FusedConv");
  clip.attr("activation", std::string("Clip")).attr("activation_alpha", 1.f).attr("activation_beta", -1.f);
  EXPECT_EQ(clip.why_not("cpu.onednn.conv", {1, 8, 6, 6}), "Clip with min > max");
  LayerCase unknown = conv_case({{1, 4, 8, 8}, 8, {3, 3}}, "ingot", "FusedConv");
  unknown.attr("activation", std::string("Softsign"));
  EXPECT_NE(unknown.why_not("cpu.onednn.conv", {1, 8, 6, 6}), "");
  LayerCase pool("", "MaxPool");
  pool.input({1, 4, 8, 8});
  EXPECT_EQ(pool.why_not("cpu.onednn.conv", {1, 4, 8, 8}), "not a Conv");
}

struct PoolParams {
  std::string op;
  Dims x;
  std::vector<int64_t> kernel, strides, pads, dilations;
  int64_t ceil_mode = 0, count_include_pad = 0;
  std::string auto_pad;
};

class PoolTactics : public ::testing::TestWithParam<PoolParams> {};

TEST_P(PoolTactics, MatchTheReference) {
  const PoolParams& p = GetParam();
  LayerCase c("", p.op);
  c.input(p.x);
  if (!p.kernel.empty()) c.attr("kernel_shape", p.kernel);
  if (!p.strides.empty()) c.attr("strides", p.strides);
  if (!p.pads.empty()) c.attr("pads", p.pads);
  if (!p.dilations.empty()) c.attr("dilations", p.dilations);
  if (p.ceil_mode) c.attr("ceil_mode", p.ceil_mode);
  if (p.count_include_pad) c.attr("count_include_pad", p.count_include_pad);
  if (!p.auto_pad.empty()) c.attr("auto_pad", p.auto_pad);
  c.check({"cpu.onednn.pool"});
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, PoolTactics,
    ::testing::Values(
        PoolParams{"MaxPool", {1, 16, 112, 112}, {3, 3}, {2, 2}, {1, 1, 1, 1}},  // resnet's
        PoolParams{"MaxPool", {2, 3, 9, 8}, {2, 2}, {2, 2}},
        PoolParams{"MaxPool", {1, 4, 10, 10}, {3, 3}, {2, 2}, {}, {}, 1},             // ceil_mode
        PoolParams{"MaxPool", {1, 4, 12, 12}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {2, 2}},  // dilated
        PoolParams{"MaxPool", {1, 4, 11, 11}, {3, 3}, {2, 2}, {}, {}, 0, 0, "SAME_UPPER"},
        PoolParams{"MaxPool", {1, 4, 20}, {3}, {2}, {1, 1}},                                // 1-D
        PoolParams{"AveragePool", {1, 8, 10, 10}, {3, 3}, {1, 1}, {1, 1, 1, 1}},            // pads excluded
        PoolParams{"AveragePool", {1, 8, 10, 10}, {3, 3}, {1, 1}, {1, 1, 1, 1}, {}, 0, 1},  // included
        PoolParams{"AveragePool", {1, 8, 9, 9}, {2, 2}, {2, 2}, {}, {}, 1},                 // ceil_mode
        PoolParams{"AveragePool", {1, 2, 6, 6, 6}, {2, 2, 2}, {2, 2, 2}},                   // 3-D
        PoolParams{"GlobalAveragePool", {2, 32, 7, 7}}, PoolParams{"GlobalMaxPool", {1, 16, 5, 9}},
        PoolParams{"GlobalAveragePool", {1, 8, 13}}));

TEST(PoolTactics, RefuseWhatTheyCannotRunExactly) {
  LayerCase lp("", "LpPool");
  lp.input({1, 4, 8, 8}).attr("kernel_shape", std::vector<int64_t>{2, 2});
  EXPECT_EQ(lp.why_not("cpu.onednn.pool", {1, 4, 7, 7}), "not a pooling layer");
  LayerCase ceil_incl("", "AveragePool");
  ceil_incl.input({1, 4, 9, 9})
      .attr("kernel_shape", std::vector<int64_t>{2, 2})
      .attr("strides", std::vector<int64_t>{2, 2});
  ceil_incl.attr("ceil_mode", int64_t(1)).attr("count_include_pad", int64_t(1));
  EXPECT_NE(ceil_incl.why_not("cpu.onednn.pool", {1, 4, 5, 5}), "");
}

struct MatMulParams {
  Dims a, b;
  bool b_const = true;
};

// The oneDNN matmul, and ingot's packed SIMD matmul (each ISA this CPU runs) where `packed` says it
// runs the layer; where not, it must refuse.
std::vector<std::string> matmul_tactics(LayerCase& c, const Dims& out, bool packed) {
  c.make_plan(false, out);
  std::vector<std::string> ids = kMatMulTactics;
  for (const std::string& id : simd_tactic_ids("ingot.matmul", c.desc())) {
    const std::string why = find_tactic(id)->supports(c.desc());
    EXPECT_EQ(why.empty(), packed) << id << ": " << why;
    if (packed) ids.push_back(id);
  }
  return ids;
}

// The reference output's dims.
Dims reference_dims(LayerCase& c) {
  c.make_plan(false, {});
  return c.expected().dims();
}

class MatMulTactics : public ::testing::TestWithParam<MatMulParams> {};

TEST_P(MatMulTactics, MatchTheReference) {
  const MatMulParams& p = GetParam();
  LayerCase c("", "MatMul");
  c.input(p.a).input(p.b, p.b_const);
  c.check(matmul_tactics(c, reference_dims(c), p.b_const && p.b.size() == 2));
}

INSTANTIATE_TEST_SUITE_P(Shapes, MatMulTactics,
                         ::testing::Values(MatMulParams{{5, 7}, {7, 9}},         // 2-D
                                           MatMulParams{{1, 64}, {64, 1000}},    // a classifier
                                           MatMulParams{{130, 300}, {300, 77}},  // K blocks, tails
                                           MatMulParams{{203, 40}, {40, 70}},    // row blocks, 11-row tail
                                           MatMulParams{{2, 3, 5, 7}, {7, 9}},   // leading dims fold into M
                                           MatMulParams{{7}, {7, 9}},            // 1-D A
                                           MatMulParams{{4, 7}, {7}},            // 1-D B
                                           MatMulParams{{4, 7}, {7, 3}, false},  // runtime B
                                           MatMulParams{{2, 3, 4, 5}, {2, 3, 5, 6}, false},  // batched
                                           MatMulParams{{3, 4, 5}, {2, 1, 5, 6}, false},     // broadcast
                                           MatMulParams{{2, 1, 4, 5}, {1, 3, 5, 6}, false},  // both broadcast
                                           MatMulParams{{4, 5}, {3, 5, 6}, false},           // A broadcast
                                           MatMulParams{{2, 4, 5}, {2, 5, 6}},     // constant batched B
                                           MatMulParams{{6}, {2, 6, 3}, false}));  // 1-D A, batched B

struct GemmParams {
  int64_t M, N, K;
  bool ta = false, tb = false;
  float alpha = 1, beta = 1;
  Dims c;  // empty: no C
  bool c_const = true;
  bool b_const = true;
  bool has_c = true;
};

class GemmTactics : public ::testing::TestWithParam<GemmParams> {};

TEST_P(GemmTactics, MatchTheReference) {
  const GemmParams& p = GetParam();
  LayerCase c("", "Gemm");
  c.input(p.ta ? Dims{p.K, p.M} : Dims{p.M, p.K});
  c.input(p.tb ? Dims{p.N, p.K} : Dims{p.K, p.N}, p.b_const);
  if (p.has_c) c.input(p.c, p.c_const);
  c.attr("transA", int64_t(p.ta)).attr("transB", int64_t(p.tb)).attr("alpha", p.alpha).attr("beta", p.beta);
  // A runtime C of the output's shape cannot have a dynamic M (the tactic needs it static).
  c.batch_dynamic(!p.ta && (!p.has_c || p.c_const));
  const bool row_c = p.c_const && p.c.size() <= 2 && (p.c.size() < 2 || p.c[0] == 1) &&
                     (p.c.empty() || p.c.back() == 1 || p.c.back() == p.N);
  c.check(matmul_tactics(c, {p.M, p.N}, p.b_const && !p.ta && (!p.has_c || p.beta == 1 || row_c)));
}

INSTANTIATE_TEST_SUITE_P(
    Flags, GemmTactics,
    ::testing::Values(GemmParams{3, 5, 4, false, false, 1, 1, {5}},               // bias
                      GemmParams{3, 5, 4, false, true, 1, 1, {1, 5}},             // transB, the Linear form
                      GemmParams{3, 5, 4, true, false, 0.5f, 2.f, {5}},           // transA, alpha, beta
                      GemmParams{6, 5, 4, true, true, -1.5f, 0.25f, {}},          // scalar C
                      GemmParams{3, 5, 4, false, false, 1, 1, {1}},               // one-element C
                      GemmParams{3, 5, 4, false, true, 2.f, 3.f, {3, 5}},         // C of Y's shape
                      GemmParams{3, 5, 4, false, false, 1, 0.5f, {3, 5}, false},  // runtime C
                      GemmParams{1, 1000, 512, false, true, 1, 1, {1000}},        // resnet's fc
                      GemmParams{3, 5, 4, true, true, 1, 1, {}, true, false},     // runtime B
                      GemmParams{4, 6, 5, false, true, 0.75f, 1, {}, true, true, false}));  // no C

TEST(GemmTactics, RefuseWhatTheyCannotRunExactly) {
  LayerCase alpha_runtime_b("", "Gemm");
  alpha_runtime_b.input({3, 4}).input({4, 5}).attr("alpha", 2.f);
  EXPECT_NE(alpha_runtime_b.why_not("cpu.onednn.matmul", {3, 5}), "");
  LayerCase column_c("", "Gemm");
  column_c.input({3, 4}).weight({4, 5}).weight({3, 1});
  EXPECT_NE(column_c.why_not("cpu.onednn.matmul", {3, 5}), "");
  LayerCase matmul("", "MatMul");
  matmul.input({3, 4}).weight({4, 5});
  EXPECT_EQ(matmul.why_not("cpu.onednn.conv", {3, 5}), "not a Conv");
}

TEST(FusedMatMulTactics, EveryActivationWithBiasAndResidual) {
  for (const std::string& act : kActivations) {
    for (bool residual : {false, true}) {
      SCOPED_TRACE("activation '" + act + "'" + (residual ? " + Z" : ""));
      LayerCase c("ingot", "FusedMatMul");
      c.input({2, 6, 24}).weight({24, 40}).weight({40});
      for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] *= 2;
      if (residual) c.input({2, 6, 40});
      set_activation(c, act);
      const bool packed = act.empty() || act == "Relu" || act == "Gelu";
      std::vector<std::string> tactics = matmul_tactics(c, {2, 6, 40}, packed);
      if (act == "Gelu") {
        for (const std::string& id : simd_tactic_ids("onednn.matmul.ingot_gelu", c.desc()))
          tactics.push_back(id);
        EXPECT_GE(tactics.size(), cpu_features().avx2 && cpu_features().fma ? 3u : 1u);
      }
      c.check(tactics);
    }
  }
  LayerCase no_bias("ingot", "FusedMatMul");
  no_bias.input({5, 16}).weight({16, 8}).none().input({5, 8});
  set_activation(no_bias, "Gelu");
  std::vector<std::string> tactics = matmul_tactics(no_bias, {5, 8}, true);
  for (const std::string& id : simd_tactic_ids("onednn.matmul.ingot_gelu", no_bias.desc()))
    tactics.push_back(id);
  no_bias.check(tactics);
  // Only the erf GELU goes to the SIMD epilogue.
  LayerCase relu("ingot", "FusedMatMul");
  relu.input({5, 16}).weight({16, 8});
  set_activation(relu, "Relu");
  for (const std::string& id : simd_tactic_ids("onednn.matmul.ingot_gelu", no_bias.desc()))
    EXPECT_EQ(relu.why_not(id, {5, 8}), "activation is not the erf GELU");
}

// The tuner records a tactic that supports the layer, and the heuristic (opt level 0) the first one.
// A bf16 tactic that only this test's layer takes, slower than the fp32 ones: the reference after a pause.
class SlowKernel : public Kernel {
 public:
  explicit SlowKernel(std::unique_ptr<Kernel> k) : k_(std::move(k)) {}
  Status run(ops::RunContext& ctx) const override {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return k_->run(ctx);
  }

 private:
  std::unique_ptr<Kernel> k_;
};
constexpr const char* kSlowBf16Layer = "slow_bf16_probe";
INGOT_REGISTER_TACTIC(
    test_slow_bf16, .id = "test.slow_bf16",
    .supports = [](const LayerDesc& d) -> std::string { return d.layer.name == kSlowBf16Layer ? "" : "-"; },
    .prepare = [](const LayerDesc& d) -> Expected<std::unique_ptr<Kernel>> {
      INGOT_ASSIGN_OR_RETURN(auto k, prepare_reference(d));
      return std::unique_ptr<Kernel>(std::make_unique<SlowKernel>(std::move(k)));
    },
    .precision = "bf16");

// bf16 is a permission: the fp32 tactics compete with the layer's bf16 ones, and where one is faster the
// layer runs in fp32 and says why. The slow test tactic never wins a timed choice; on a CPU with bf16
// instructions oneDNN's bf16 convolution may (then the layer stays bf16).
TEST(SelectTactics, Bf16LayersFallToFasterFp32Tactics) {
  LayerCase c = conv_case({{1, 16, 16, 16}, 32, {3, 3}, {}, {1, 1, 1, 1}});
  c.layer().name = kSlowBf16Layer;
  c.layer().precision = "bf16";
  c.make_plan(false, {1, 32, 16, 16});
  engine::Plan plan;
  plan.tensors = c.desc().tensors;
  plan.layers.push_back(c.desc().layer);
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.opt_level = 0}).ok());
  EXPECT_EQ(plan.layers[0].precision, "bf16");  // untimed: the first bf16 tactic
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.opt_level = 1, .repeats = 3}).ok());
  const PlanLayer& l = plan.layers[0];
  EXPECT_NE(l.tactic, "test.slow_bf16");
  const Tactic* t = find_tactic(l.tactic);
  ASSERT_NE(t, nullptr) << l.tactic;
  EXPECT_EQ(l.precision, t->precision);
  if (l.precision == "fp32")
    EXPECT_NE(l.precision_note.find("was faster than the bf16 ones"), std::string::npos) << l.precision_note;
}

TEST(SelectTactics, TimesTheSupportingTacticsAndKeepsOne) {
  LayerCase c = conv_case({{1, 16, 16, 16}, 32, {3, 3}, {}, {1, 1, 1, 1}});
  c.make_plan(false, {1, 32, 16, 16});
  engine::Plan plan;
  const LayerDesc d = c.desc();
  plan.tensors = d.tensors;
  plan.layers.push_back(d.layer);
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.opt_level = 0}).ok());
  EXPECT_EQ(plan.layers[0].tactic, "cpu.onednn.conv");
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.opt_level = 1, .repeats = 3}).ok());
  const std::string chosen = plan.layers[0].tactic;
  EXPECT_TRUE(chosen == "cpu.onednn.conv" || chosen == "cpu.onednn.conv.nchw" || chosen == kReferenceTactic)
      << chosen;
  // A layer no fast tactic supports keeps the reference.
  plan.layers[0].op_type = "Relu";
  plan.layers[0].inputs.resize(1);
  ASSERT_TRUE(select_tactics(plan, TuningOptions{}).ok());
  EXPECT_EQ(plan.layers[0].tactic, kReferenceTactic);
}

// A float32 tensor of static dims added to the plan (random values for a weight); its id.
int32_t add_tensor(engine::Plan& plan, const std::string& name, const Dims& dims, TensorKind kind,
                   uint32_t seed) {
  PlanTensor t;
  t.name = name;
  t.dtype = DType::kF32;
  t.kind = kind;
  t.dims = dims;
  t.dim_symbols.assign(dims.size(), "");
  t.max_bytes = 4 * std::accumulate(dims.begin(), dims.end(), int64_t{1}, std::multiplies<>());
  if (kind == TensorKind::kWeight) t.weight = random_tensor(dims, seed);
  plan.tensors.push_back(std::move(t));
  return static_cast<int32_t>(plan.tensors.size() - 1);
}

// Two convolutions in a chain, the second also reading the first's output as its residual: the tensor
// between them is kept in oneDNN's blocked layout, and the chain still computes the reference's result.
TEST(ConvLayouts, BlockedBetweenTwoConvolutions) {
  const Dims xd = {1, 8, 10, 10}, wd = {16, 8, 3, 3}, w2d = {16, 16, 1, 1}, yd = {1, 16, 10, 10};
  engine::Plan plan;
  auto tensor = [&](const std::string& name, Dims dims, TensorKind kind, uint32_t seed) {
    return add_tensor(plan, name, dims, kind, seed);
  };
  const int32_t x = tensor("x", xd, TensorKind::kInput, 0), w1 = tensor("w1", wd, TensorKind::kWeight, 1),
                b1 = tensor("b1", {16}, TensorKind::kWeight, 2),
                t = tensor("t", yd, TensorKind::kActivation, 0),
                w2 = tensor("w2", w2d, TensorKind::kWeight, 3),
                b2 = tensor("b2", {16}, TensorKind::kWeight, 4), y = tensor("y", yd, TensorKind::kOutput, 0);
  plan.inputs = {x};
  plan.outputs = {y};
  PlanLayer conv1;
  conv1.name = "conv1";
  conv1.op_type = "Conv";
  conv1.opset = 17;
  conv1.attrs["pads"].kind = ir::Attribute::Kind::kInts;
  conv1.attrs["pads"].ints = {1, 1, 1, 1};
  conv1.inputs = {x, w1, b1};
  conv1.outputs = {t};
  PlanLayer conv2;
  conv2.name = "conv2";
  conv2.domain = "ingot";
  conv2.op_type = "FusedConv";
  conv2.opset = 1;
  conv2.attrs["activation"].kind = ir::Attribute::Kind::kString;
  conv2.attrs["activation"].s = "Relu";
  conv2.inputs = {t, w2, b2, t};
  conv2.outputs = {y};
  plan.layers = {conv1, conv2};
  const std::vector<PlanTensor> plain_tensors = plan.tensors;  // before the weights are packed
  ASSERT_TRUE(select_tactics(plan, TuningOptions{.opt_level = 0}).ok());
  ASSERT_EQ(plan.layers[0].tactic, "cpu.onednn.conv");
  ASSERT_EQ(plan.layers[1].tactic, "cpu.onednn.conv");
  // Both W are packed into the primitives' formats (u8 bytes, at least the plain floats' size).
  for (int32_t w : {w1, w2}) {
    EXPECT_EQ(plan.tensors[w].dtype, DType::kU8) << plan.tensors[w].name;
    EXPECT_GE(plan.tensors[w].weight.nbytes(), plain_tensors[w].weight.nbytes());
  }
  EXPECT_EQ(plan.layers[0].attrs.at("ingot_packed_w_dims").ints, wd);
  {
    // Packed in a format this machine's kernels do not pick (a file from elsewhere): refused, not misread.
    PlanLayer tampered = plan.layers[0];
    tampered.attrs.at("ingot_packed_w_format").i ^= 1;
    auto k = find_tactic("cpu.onednn.conv")->prepare(LayerDesc{tampered, plan.tensors});
    ASSERT_FALSE(k.ok());
    EXPECT_NE(k.status().message().find("rebuild the engine"), std::string::npos) << k.status().message();
  }
  const std::string layout =
      plan.layers[0].attrs.count("tactic_dst_layout") ? plan.layers[0].attrs["tactic_dst_layout"].s : "";
  EXPECT_TRUE(layout == "nChw8c" || layout == "nChw16c") << layout;
  EXPECT_EQ(plan.layers[1].attrs["tactic_src_layout"].s, layout);
  EXPECT_EQ(plan.layers[1].attrs["tactic_z_layout"].s, layout);
  EXPECT_EQ(plan.layers[1].attrs.count("tactic_dst_layout"), 0u);  // y is the model's output

  const Tensor xv = random_tensor(xd, 5);
  const LayerDesc d1{plan.layers[0], plan.tensors}, d2{plan.layers[1], plan.tensors};
  auto k1 = find_tactic("cpu.onednn.conv")->prepare(d1);
  auto k2 = find_tactic("cpu.onednn.conv")->prepare(d2);
  ASSERT_TRUE(k1.ok() && k2.ok());
  auto tv = run_kernel(d1, **k1, {xv, plan.tensors[w1].weight, plan.tensors[b1].weight});
  ASSERT_TRUE(tv.ok()) << tv.status().message();
  auto yv = run_kernel(d2, **k2, {(*tv)[0], plan.tensors[w2].weight, plan.tensors[b2].weight, (*tv)[0]});
  ASSERT_TRUE(yv.ok()) << yv.status().message();

  // The reference: both convolutions plain, then + t and Relu.
  PlanLayer plain2 = conv2;
  plain2.domain.clear();
  plain2.op_type = "Conv";
  plain2.attrs.clear();
  plain2.inputs.resize(3);
  for (PlanLayer* l : {&conv1, &plain2}) l->tactic = kReferenceTactic;
  auto r1 = prepare_reference(LayerDesc{conv1, plain_tensors});
  auto r2 = prepare_reference(LayerDesc{plain2, plain_tensors});
  auto tr = run_kernel(LayerDesc{conv1, plain_tensors}, **r1,
                       {xv, plain_tensors[w1].weight, plain_tensors[b1].weight});
  ASSERT_TRUE(tr.ok());
  auto yr = run_kernel(LayerDesc{plain2, plain_tensors}, **r2,
                       {(*tr)[0], plain_tensors[w2].weight, plain_tensors[b2].weight});
  ASSERT_TRUE(yr.ok());
  Tensor want = (*yr)[0];
  for (int64_t i = 0; i < want.numel(); ++i)
    want.data<float>()[i] = std::max(0.f, want.data<float>()[i] + (*tr)[0].data<float>()[i]);
  EXPECT_LE(relative_error((*yv)[0], want), kTolerance);
  // The tensor between them really is blocked: the same values, in another order.
  EXPECT_GT(relative_error((*tv)[0], (*tr)[0]), 0.1);
}

// x -> conv1 -> t -> conv2 -> u -> conv3 (+ residual t, ReLU) -> v -> conv4 -> y: C channels, static shapes.
struct ConvChain {
  engine::Plan plan;
  int32_t x, t, u, v, y;
  explicit ConvChain(int64_t C = 16) {
    auto tensor = [&](const std::string& name, Dims dims, TensorKind kind, uint32_t seed) {
      return add_tensor(plan, name, dims, kind, seed);
    };
    const Dims ad = {1, C, 8, 8};
    x = tensor("x", ad, TensorKind::kInput, 0);
    t = tensor("t", ad, TensorKind::kActivation, 0);
    u = tensor("u", ad, TensorKind::kActivation, 0);
    v = tensor("v", ad, TensorKind::kActivation, 0);
    y = tensor("y", ad, TensorKind::kOutput, 0);
    plan.inputs = {x};
    plan.outputs = {y};
    auto conv = [&](const std::string& name, int32_t in, int32_t out, int32_t z) {
      PlanLayer l;
      l.name = name;
      l.op_type = "Conv";
      l.opset = 17;
      l.attrs["pads"].kind = ir::Attribute::Kind::kInts;
      l.attrs["pads"].ints = {1, 1, 1, 1};
      const uint32_t seed = static_cast<uint32_t>(plan.layers.size()) * 2 + 1;
      l.inputs = {in, tensor(name + ".w", {C, C, 3, 3}, TensorKind::kWeight, seed),
                  tensor(name + ".b", {C}, TensorKind::kWeight, seed + 1)};
      if (z >= 0) {
        l.domain = "ingot";
        l.op_type = "FusedConv";
        l.opset = 1;
        l.attrs["activation"].kind = ir::Attribute::Kind::kString;
        l.attrs["activation"].s = "Relu";
        l.inputs.push_back(z);
      }
      l.outputs = {out};
      plan.layers.push_back(std::move(l));
    };
    conv("conv1", x, t, -1);
    conv("conv2", t, u, -1);
    conv("conv3", u, v, t);
    conv("conv4", v, y, -1);
  }
};

// The tuner times oneDNN's convolution also in the layout the layout pass will most likely agree: blocked
// where the tensor goes from a convolution to convolutions only; plain for the model's input and output.
TEST(SelectTactics, TimesLayoutTakingTacticsInTheirEngineLayout) {
  ConvChain c;
  const Tactic* onednn = find_tactic("cpu.onednn.conv");
  ASSERT_NE(onednn, nullptr);
  auto layouts = [&](size_t i) {
    const std::vector<PlanLayer> forms = timing_forms(c.plan, i, *onednn);
    std::string s;
    for (const PlanLayer& f : forms)
      for (const char* a : {"tactic_src_layout", "tactic_dst_layout", "tactic_z_layout"})
        s += std::string(a + 7) + "=" + (f.attrs.count(a) ? f.attrs.at(a).s : "-") + " ";
    return s;
  };
  const std::string b = cpu_features().avx512f ? "nChw16c" : "nChw8c";
  EXPECT_EQ(layouts(0), "src_layout=- dst_layout=" + b + " z_layout=- ");
  EXPECT_EQ(layouts(1), "src_layout=" + b + " dst_layout=" + b + " z_layout=- ");
  EXPECT_EQ(layouts(2), "src_layout=" + b + " dst_layout=" + b + " z_layout=" + b + " ");
  EXPECT_EQ(layouts(3), "src_layout=" + b + " dst_layout=- z_layout=- ");
  // Tactics that do not take part are timed as planned.
  EXPECT_TRUE(timing_forms(c.plan, 1, *find_tactic("cpu.onednn.conv.nchw")).empty());
  // A tensor also read by a layer of another kind stays plain.
  PlanLayer relu;
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.opset = 17;
  relu.inputs = {c.u};
  relu.outputs = {c.y};
  c.plan.layers.insert(c.plan.layers.begin() + 2, relu);
  EXPECT_EQ(layouts(1), "src_layout=" + b + " dst_layout=- z_layout=- ");
}

// A convolution whose residual dies there writes its output over it; the chain still computes the
// reference's result, the residual blocked (16 channels) or plain (12: not whole blocks).
TEST(ResidualInPlace, OutputOverTheResidualWhereItDies) {
  for (int64_t C : {16, 12}) {
    ConvChain c(C);
    const std::vector<PlanTensor> plain_tensors = c.plan.tensors;
    const std::vector<PlanLayer> plain_layers = c.plan.layers;
    ASSERT_TRUE(select_tactics(c.plan, TuningOptions{.opt_level = 0}).ok());
    const PlanLayer& conv3 = c.plan.layers[2];
    EXPECT_EQ(conv3.attrs.count("tactic_z_layout"), C == 16 ? 1u : 0u);
    EXPECT_EQ(conv3.in_place_input, 3) << C;
    EXPECT_EQ(c.plan.tensors[c.v].alias_of, c.t) << C;
    for (size_t i : {0, 1, 3}) EXPECT_EQ(c.plan.layers[i].in_place_input, -1) << i;
    // Run the layers as the engine does: conv3's output in t's memory.
    const Tensor xv = random_tensor({1, C, 8, 8}, 9);
    std::vector<Tensor> vals(c.plan.tensors.size());
    vals[c.x] = xv;
    for (const PlanLayer& l : c.plan.layers) {
      const LayerDesc d{l, c.plan.tensors};
      auto k = find_tactic(l.tactic)->prepare(d);
      ASSERT_TRUE(k.ok()) << k.status().message();
      std::vector<Tensor> in;
      for (int32_t i : l.inputs)
        in.push_back(c.plan.tensors[i].kind == TensorKind::kWeight ? c.plan.tensors[i].weight : vals[i]);
      Tensor z = l.in_place_input >= 0 ? in[3] : Tensor();
      ops::RunContext::OutputAllocator over_z = [&](size_t, DType dtype, Dims dims) -> Expected<Tensor> {
        return Tensor::wrap(dtype, std::move(dims), nullptr, z.raw());  // vals keeps z alive
      };
      auto out = run_kernel(d, **k, in, l.in_place_input >= 0 ? &over_z : nullptr);
      ASSERT_TRUE(out.ok()) << out.status().message();
      vals[l.outputs[0]] = (*out)[0];
    }
    EXPECT_EQ(vals[c.v].raw(), vals[c.t].raw());
    // The reference, layer by layer on the plain plan.
    std::vector<Tensor> ref(plain_tensors.size());
    ref[c.x] = xv;
    for (const PlanLayer& l : plain_layers) {
      const LayerDesc d{l, plain_tensors};
      auto k = prepare_reference(d);
      std::vector<Tensor> in;
      for (int32_t i : l.inputs)
        in.push_back(plain_tensors[i].kind == TensorKind::kWeight ? plain_tensors[i].weight : ref[i]);
      auto out = run_kernel(d, **k, in);
      ASSERT_TRUE(out.ok()) << out.status().message();
      ref[l.outputs[0]] = (*out)[0];
    }
    EXPECT_LE(relative_error(vals[c.y], ref[c.y]), kTolerance) << C;
  }
}

// Not over a residual that a later layer still reads.
TEST(ResidualInPlace, NotWhereTheResidualLivesOn) {
  ConvChain c(12);  // plain throughout
  PlanTensor y2 = c.plan.tensors[c.y];
  y2.name = "y2";
  c.plan.tensors.push_back(y2);
  c.plan.outputs.push_back(static_cast<int32_t>(c.plan.tensors.size() - 1));
  PlanLayer relu;  // reads t after conv3
  relu.name = "relu";
  relu.op_type = "Relu";
  relu.opset = 17;
  relu.inputs = {c.t};
  relu.outputs = {c.plan.outputs.back()};
  c.plan.layers.push_back(relu);
  ASSERT_TRUE(select_tactics(c.plan, TuningOptions{.opt_level = 0}).ok());
  EXPECT_EQ(c.plan.layers[2].in_place_input, -1);
  EXPECT_EQ(c.plan.tensors[c.v].alias_of, -1);
}

// Transpose keeping the last axis: attention's head split and merge, and odd sizes, against the reference.
struct TransposeParams {
  Dims x;
  std::vector<int64_t> perm;
};

class CopyTactics : public ::testing::TestWithParam<TransposeParams> {};

TEST_P(CopyTactics, TransposeMatchesTheReference) {
  const TransposeParams& p = GetParam();
  LayerCase c("", "Transpose");
  c.input(p.x).attr("perm", p.perm);
  Dims out(p.x.size());
  for (size_t i = 0; i < p.perm.size(); ++i) out[i] = p.x[p.perm[i]];
  const int before = num_threads();
  for (int t : {1, 2}) {
    set_num_threads(t);
    c.check({"cpu.ingot.transpose"});
  }
  set_num_threads(before);
  EXPECT_EQ(c.why_not("cpu.ingot.transpose", out), "");
}

INSTANTIATE_TEST_SUITE_P(Shapes, CopyTactics,
                         ::testing::Values(TransposeParams{{1, 128, 12, 64}, {0, 2, 1, 3}},
                                           TransposeParams{{2, 12, 128, 64}, {0, 2, 1, 3}},
                                           TransposeParams{{3, 5, 7, 2, 9}, {3, 1, 0, 2, 4}},
                                           TransposeParams{{4, 1}, {0, 1}},
                                           TransposeParams{{6, 5, 3}, {1, 0, 2}}));

TEST(CopyTactics, TransposeRefusesMovingTheLastAxis) {
  LayerCase c("", "Transpose");
  c.input({2, 3, 4}).attr("perm", std::vector<int64_t>{0, 2, 1});
  EXPECT_EQ(c.why_not("cpu.ingot.transpose", {2, 4, 3}), "the last axis moves");
}

// Split along each axis into uneven parts, bit for bit against the reference.
TEST(CopyTactics, SplitMatchesTheReference) {
  const int before = num_threads();
  for (int64_t axis : {0, 1, 2, -1}) {
    SCOPED_TRACE("axis " + std::to_string(axis));
    const Dims xd = {6, 10, 7};
    const int64_t a = axis < 0 ? axis + 3 : axis;
    const std::vector<int64_t> sizes = a == 0   ? std::vector<int64_t>{1, 2, 3}
                                       : a == 1 ? std::vector<int64_t>{5, 0, 5}
                                                : std::vector<int64_t>{3, 4};
    PlanLayer layer;
    layer.name = "split";
    layer.op_type = "Split";
    layer.opset = 18;
    layer.attrs["axis"].kind = ir::Attribute::Kind::kInt;
    layer.attrs["axis"].i = axis;
    Tensor split = Tensor::create(DType::kI64, {static_cast<int64_t>(sizes.size())}).value();
    for (size_t k = 0; k < sizes.size(); ++k) split.data<int64_t>()[k] = sizes[k];
    const Tensor x = random_tensor(xd, 3);
    std::vector<PlanTensor> tensors = one_layer_plan(layer, {x, split}, {false, true}, xd);
    tensors.back().dims[a] = sizes[0];
    for (size_t k = 1; k < sizes.size(); ++k) {
      PlanTensor o = tensors.back();
      o.name = "out" + std::to_string(k);
      o.dims[a] = sizes[k];
      layer.outputs.push_back(static_cast<int32_t>(tensors.size()));
      tensors.push_back(o);
    }
    const LayerDesc d{layer, tensors};
    ASSERT_EQ(find_tactic("cpu.ingot.split")->supports(d), "");
    auto fast = find_tactic("cpu.ingot.split")->prepare(d);
    auto ref = prepare_reference(d);
    ASSERT_TRUE(fast.ok() && ref.ok()) << fast.status().message();
    for (int t : {1, 2}) {
      set_num_threads(t);
      auto got = run_kernel(d, **fast, {x, split});
      auto want = run_kernel(d, **ref, {x, split});
      ASSERT_TRUE(got.ok() && want.ok()) << got.status().message();
      ASSERT_EQ(got->size(), sizes.size());
      for (size_t k = 0; k < sizes.size(); ++k) {
        ASSERT_EQ((*got)[k].dims(), (*want)[k].dims());
        EXPECT_EQ(std::memcmp((*got)[k].raw(), (*want)[k].raw(), (*want)[k].nbytes()), 0) << "output " << k;
      }
    }
  }
  set_num_threads(before);
}

TEST(Threading, SetsThePoolSize) {
  const int before = num_threads();
  set_num_threads(1);
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(0);  // ignored
  EXPECT_EQ(num_threads(), 1);
  set_num_threads(before);
  EXPECT_EQ(num_threads(), before);
}

}  // namespace
}  // namespace ingot::backends
