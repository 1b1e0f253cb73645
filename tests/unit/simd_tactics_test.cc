// ingot's own SIMD tactics (src/backends/cpu/simd_*.cc) against the reference on random data over a grid
// of shapes: odd sizes around the vector widths, broadcast masks, K given transposed, several axes, and
// each through the pool at 1 and 2 threads. Tactics of an ISA this CPU lacks must refuse, saying so.
#include <gtest/gtest.h>

#include <functional>

#include "core/platform.h"
#include "core/threading.h"
#include "tactic_test_util.h"

namespace ingot::backends {
namespace {

using namespace tactic_test;  // NOLINT(google-build-using-namespace)

// The SIMD tactics of `name` this CPU runs: at least one on a CPU with AVX2 and FMA.
std::vector<std::string> runnable(const std::string& name, LayerCase& c, const Dims& out) {
  c.make_plan(false, out);
  std::vector<std::string> ids = simd_tactic_ids(name, c.desc());
  if (cpu_features().avx2 && cpu_features().fma) EXPECT_FALSE(ids.empty());
  return ids;
}

// Checks at 1 and 2 threads (the pool splits heads or rows), restoring the pool's size.
void check_threads(LayerCase& c, const std::vector<std::string>& ids) {
  const int before = num_threads();
  for (int t : {1, 2}) {
    SCOPED_TRACE(std::to_string(t) + " threads");
    set_num_threads(t);
    c.check(ids);
  }
  set_num_threads(before);
}

struct AttentionParams {
  Dims q;  // [B, H, Sq, D] or [B, Sq, D]
  int64_t sk, dv;
  bool k_transposed = false;
  Dims mask;  // empty: none
  float scale = 0.125f;
};

class SimdAttention : public ::testing::TestWithParam<AttentionParams> {};

TEST_P(SimdAttention, MatchesTheReference) {
  const AttentionParams& p = GetParam();
  const size_t r = p.q.size();
  Dims k = p.q, v = p.q, out = p.q;
  k[r - 2] = p.sk;
  if (p.k_transposed) std::swap(k[r - 2], k[r - 1]);
  v[r - 2] = p.sk;
  v[r - 1] = p.dv;
  out[r - 1] = p.dv;
  LayerCase c("ingot", "Attention");
  c.input(p.q).input(k).input(v);
  if (!p.mask.empty()) c.input(p.mask);
  // Scores of a few units, so that the softmax is far from uniform.
  for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] *= 8;
  if (!p.mask.empty())
    for (int64_t i = 0; i < c.values()[3].numel(); ++i) c.values()[3].data<float>()[i] *= 5;
  c.attr("scale", p.scale).attr("k_transposed", int64_t(p.k_transposed ? 1 : 0));
  check_threads(c, runnable("ingot.attention", c, out));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SimdAttention,
    ::testing::Values(AttentionParams{{1, 12, 128, 64}, 128, 64, false, {1, 1, 1, 128}},  // BERT-base
                      AttentionParams{{2, 3, 17, 7}, 19, 5},                              // odd everything
                      AttentionParams{{2, 3, 17, 7}, 19, 5, true},                        // K^T given
                      AttentionParams{{1, 2, 1, 16}, 33, 16, false, {33}},                // one query
                      AttentionParams{{3, 5, 9}, 1, 4},                                   // one key, 3-D
                      AttentionParams{{2, 9, 24}, 40, 24, false, {2, 9, 40}},             // full mask
                      AttentionParams{{2, 4, 6, 32}, 6, 32, true, {2, 1, 6, 6}},          // per-batch mask
                      AttentionParams{{1, 2, 5, 8}, 13, 8, false, {5, 1}, 1.f},  // mask broadcasts keys
                      AttentionParams{{1, 2, 70, 40}, 130, 33, false, {2, 1, 130}, 0.5f}));  // past the tiles

// Q, K and V read through strided views of packed (S, B, 3E) projections and the output written as
// (S * B, E), as fold_attention_views makes the layer for torch's nn.MultiheadAttention: the reference
// must equal the plain layer over contiguous copies, and the SIMD tactic the reference.
struct ViewParams {
  int64_t b, h, s, hd;
  bool mask = false;
  bool rank3 = false;  // [B, S, E] operands (h must be 1)
};

class SimdAttentionViews : public ::testing::TestWithParam<ViewParams> {};

TEST_P(SimdAttentionViews, MatchTheContiguousLayer) {
  const ViewParams& p = GetParam();
  const int64_t B = p.b, H = p.h, S = p.s, hd = p.hd, E = H * hd;
  LayerCase c("ingot", "Attention");
  c.input({S, B, 3 * E}).input({S, B, 3 * E}).input({S, B, 3 * E});
  if (p.mask) c.input(p.rank3 ? Dims{B, 1, S} : Dims{B, 1, 1, S});
  for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] *= 8;
  const Dims logical = p.rank3 ? Dims{B, S, E} : Dims{B, H, S, hd};
  auto view = [&](int64_t offset, int64_t sb, int64_t ss) {
    Dims v = logical;
    v.push_back(offset);
    v.push_back(sb);
    if (!p.rank3) v.push_back(hd);
    v.push_back(ss);
    return v;
  };
  c.attr("scale", 0.3f).attr("k_transposed", int64_t{0});
  // Q, K and V at their thirds of three different tensors.
  c.attr("q_view", view(0, 3 * E, B * 3 * E)).attr("k_view", view(E, 3 * E, B * 3 * E));
  c.attr("v_view", view(2 * E, 3 * E, B * 3 * E));
  c.attr("y_view", view(0, E, B * E)).attr("y_shape", Dims{S * B, E});

  // The plain layer over contiguous copies, its output moved to (S * B, E) by hand.
  LayerCase plain("ingot", "Attention");
  plain.input(logical).input(logical).input(logical);
  if (p.mask) plain.input(c.values()[3].dims());
  plain.attr("scale", 0.3f).attr("k_transposed", int64_t{0});
  for (int i = 0; i < 3; ++i) {
    float* dst = plain.values()[i].data<float>();
    const float* src = c.values()[i].data<float>();
    for (int64_t b = 0; b < B; ++b)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t s = 0; s < S; ++s)
          for (int64_t d = 0; d < hd; ++d) *dst++ = src[(s * B + b) * 3 * E + i * E + h * hd + d];
  }
  if (p.mask) plain.values()[3] = c.values()[3];
  plain.make_plan(false, logical);
  auto ref = prepare_reference(plain.desc());
  ASSERT_TRUE(ref.ok());
  auto out = run_kernel(plain.desc(), **ref, plain.values());
  ASSERT_TRUE(out.ok()) << out.status().message();
  Tensor want = random_tensor({S * B, E}, 99);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t s = 0; s < S; ++s)
        for (int64_t d = 0; d < hd; ++d)
          want.data<float>()[(s * B + b) * E + h * hd + d] =
              (*out)[0].data<float>()[((b * H + h) * S + s) * hd + d];

  c.make_plan(false, {S * B, E});
  auto vref = prepare_reference(c.desc());
  ASSERT_TRUE(vref.ok());
  auto got = run_kernel(c.desc(), **vref, c.values());
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_LE(relative_error((*got)[0], want), kTolerance) << "the reference through the views";
  check_threads(c, runnable("ingot.attention", c, {S * B, E}));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdAttentionViews,
                         ::testing::Values(ViewParams{2, 4, 5, 16},               // the tiny ViT at batch 2
                                           ViewParams{3, 2, 17, 8, true},         // odd, masked
                                           ViewParams{1, 3, 9, 7},                // odd head dim
                                           ViewParams{2, 1, 6, 12, false, true},  // rank 3
                                           ViewParams{2, 1, 7, 5, true, true}));  // rank 3, masked

TEST(SimdAttention, RefusesWhatItCannotRun) {
  LayerCase c("ingot", "Attention");
  c.input({1, 4, 8}).input({1, 4, 8}).input({1, 4, 8});
  const std::vector<std::string> ids = runnable("ingot.attention", c, {1, 4, 8});
  for (const std::string& id : ids) {
    LayerCase other("", "MatMul");
    other.input({4, 8}).input({8, 4});
    EXPECT_EQ(other.why_not(id, {4, 4}), "not an ingot.Attention");
    LayerCase two_d("ingot", "Attention");
    two_d.input({4, 8}).input({4, 8}).input({4, 8});
    EXPECT_EQ(two_d.why_not(id, {4, 8}), "Q is not 3-D or 4-D");
  }
}

struct RowParams {
  Dims x;
  int64_t axis;
  int opset = 17;
};

class SimdSoftmax : public ::testing::TestWithParam<RowParams> {};

TEST_P(SimdSoftmax, MatchesTheReference) {
  const RowParams& p = GetParam();
  LayerCase c("", "Softmax");
  c.layer().opset = p.opset;
  c.input(p.x).attr("axis", p.axis);
  for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] *= 20;
  check_threads(c, runnable("ingot.softmax", c, p.x));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdSoftmax,
                         ::testing::Values(RowParams{{1, 12, 128, 128}, -1}, RowParams{{3, 1}, 1},
                                           RowParams{{5, 7}, -1}, RowParams{{2, 3, 17}, 2},
                                           RowParams{{4, 1000}, 1}, RowParams{{2, 3, 5}, 1, 11},
                                           RowParams{{2, 3, 5}, 0, 11}, RowParams{{300, 33}, -1}));

TEST(SimdSoftmax, RefusesAnAxisThatIsNotTheLast) {
  LayerCase c("", "Softmax");
  c.input({2, 3, 5}).attr("axis", int64_t(1));
  for (const std::string& id : runnable("ingot.softmax", c, {2, 3, 5}))
    EXPECT_EQ(c.why_not(id, {2, 3, 5}), "axis is not the last");
}

class SimdLayerNorm : public ::testing::TestWithParam<RowParams> {};

TEST_P(SimdLayerNorm, MatchesTheReference) {
  const RowParams& p = GetParam();
  const int64_t axis = p.axis < 0 ? p.axis + static_cast<int64_t>(p.x.size()) : p.axis;
  const Dims norm(p.x.begin() + axis, p.x.end());
  for (bool bias : {true, false}) {
    SCOPED_TRACE(bias ? "with B" : "without B");
    LayerCase c("", "LayerNormalization");
    c.input(p.x).weight(norm);
    if (bias) c.weight(norm);
    c.attr("axis", p.axis).attr("epsilon", 1e-5f);
    // An offset, so that the mean is far from zero.
    for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] += 3;
    check_threads(c, runnable("ingot.layernorm", c, p.x));
  }
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdLayerNorm,
                         ::testing::Values(RowParams{{1, 128, 768}, -1}, RowParams{{3, 1}, -1},
                                           RowParams{{5, 7}, 1}, RowParams{{2, 3, 17}, -2},
                                           RowParams{{2, 9, 3, 5}, 1}, RowParams{{257, 33}, -1}));

TEST(SimdLayerNorm, RefusesStatisticsOutputsAndOtherScaleShapes) {
  LayerCase c("", "LayerNormalization");
  c.input({4, 6}).weight({6});
  const std::vector<std::string> ids = runnable("ingot.layernorm", c, {4, 6});
  for (const std::string& id : ids) {
    LayerCase scalar_scale("", "LayerNormalization");
    scalar_scale.input({4, 6}).weight({1});
    EXPECT_EQ(scalar_scale.why_not(id, {4, 6}), "scale or B does not have the normalized shape 6");
    LayerCase stats("", "LayerNormalization");
    stats.input({4, 6}).weight({6});
    stats.make_plan(false, {4, 6});
    stats.layer().outputs.push_back(0);  // a Mean output
    EXPECT_EQ(find_tactic(id)->supports(stats.desc()), "more than one output");
  }
}

class SimdGelu : public ::testing::TestWithParam<Dims> {};

TEST_P(SimdGelu, MatchesTheReference) {
  LayerCase c("", "Gelu");
  c.layer().opset = 20;
  c.input(GetParam());
  // Up to |x| = 6: both tails of erf.
  for (int64_t i = 0; i < c.values()[0].numel(); ++i) c.values()[0].data<float>()[i] *= 6;
  check_threads(c, runnable("ingot.gelu", c, GetParam()));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdGelu,
                         ::testing::Values(Dims{1, 128, 3072}, Dims{1}, Dims{7}, Dims{3, 17}, Dims{2, 4099}));

TEST(SimdGelu, RefusesTheTanhApproximation) {
  LayerCase c("", "Gelu");
  c.layer().opset = 20;
  c.input({4, 6}).attr("approximate", std::string("tanh"));
  for (const std::string& id : runnable("ingot.gelu", c, {4, 6}))
    EXPECT_EQ(c.why_not(id, {4, 6}), "only the exact (erf) GELU");
}

struct WinogradParams {
  Dims x;  // N, C, H, W
  int64_t k;
  std::vector<int64_t> pads = {1, 1, 1, 1};
  bool fused = true;  // ingot.FusedConv with ReLU and a residual, else a plain Conv
  bool bias = true;
};

// [N, K, OH, OW] of a square `kernel` over x [N, C, H, W] at `stride` with ONNX-ordered `pads`.
Dims conv_out(const Dims& x, int64_t k, int64_t kernel, int64_t stride, const std::vector<int64_t>& pads) {
  auto out = [&](int64_t in, int64_t a, int64_t b) { return (in + a + b - kernel) / stride + 1; };
  return {x[0], k, out(x[2], pads[0], pads[2]), out(x[3], pads[1], pads[3])};
}

Dims winograd_out(const WinogradParams& p) { return conv_out(p.x, p.k, 3, 1, p.pads); }

LayerCase winograd_case(const WinogradParams& p) {
  LayerCase c(p.fused ? "ingot" : "", p.fused ? "FusedConv" : "Conv");
  c.input(p.x).weight({p.k, p.x[1], 3, 3});
  if (p.bias)
    c.weight({p.k});
  else if (p.fused)
    c.none();
  if (p.fused) c.input(winograd_out(p)).attr("activation", std::string("Relu"));
  c.attr("pads", p.pads);
  return c;
}

class SimdWinograd : public ::testing::TestWithParam<WinogradParams> {};

TEST_P(SimdWinograd, MatchesTheReference) {
  LayerCase c = winograd_case(GetParam());
  check_threads(c, runnable("ingot.winograd", c, winograd_out(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SimdWinograd,
    ::testing::Values(WinogradParams{{1, 16, 8, 8}, 16},                             // one tile row
                      WinogradParams{{1, 64, 56, 56}, 64},                           // resnet50 layer1
                      WinogradParams{{2, 32, 7, 7}, 48},                             // partial tiles
                      WinogradParams{{1, 16, 13, 9}, 32, {0, 0, 0, 0}},              // no padding
                      WinogradParams{{1, 32, 10, 11}, 16, {2, 0, 1, 2}, false},      // uneven pads
                      WinogradParams{{3, 16, 3, 5}, 16, {0, 1, 0, 1}, true, false},  // one output row
                      WinogradParams{{1, 128, 14, 14}, 256, {1, 1, 1, 1}, false, false}));

TEST(SimdWinograd, RefusesWhatItCannotRun) {
  WinogradParams p{{1, 16, 8, 8}, 16};
  LayerCase ok = winograd_case(p);
  const std::vector<std::string> ids = runnable("ingot.winograd", ok, winograd_out(p));
  for (const std::string& id : ids) {
    LayerCase strided = winograd_case(p);
    strided.attr("strides", std::vector<int64_t>{2, 2});
    EXPECT_EQ(strided.why_not(id, {1, 16, 4, 4}), "strides are not 1");
    LayerCase odd = winograd_case({{1, 12, 8, 8}, 16});
    EXPECT_EQ(odd.why_not(id, {1, 16, 8, 8}), "channels are not a multiple of 16");
    LayerCase sigmoid = winograd_case(p);
    sigmoid.attr("activation", std::string("Sigmoid"));
    EXPECT_EQ(sigmoid.why_not(id, {1, 16, 8, 8}), "activation 'Sigmoid' is not ReLU");
    LayerCase five("", "Conv");
    five.input({1, 16, 8, 8}).weight({16, 16, 5, 5});
    EXPECT_EQ(five.why_not(id, {1, 16, 4, 4}), "kernel is not 3x3");
  }
}

// The SIMD convolution tactics of `name` with X, Y and (when `residual`, input 3) Z in the blocked layout of
// their vector width, as the layout pass gives them: no reorders, the reference's values; and a block other
// than the ISA's is refused at prepare. `make` builds the layer case afresh.
void check_blocked_layout(const std::string& name, const std::function<LayerCase()>& make, const Dims& y,
                          bool residual) {
  LayerCase probe = make();
  for (const std::string& id : runnable(name, probe, y)) {
    SCOPED_TRACE(id);
    const int64_t b = id.find("avx512") != std::string::npos ? 16 : 8;
    LayerCase c = make();
    c.make_plan(false, y);
    const Tensor want = c.expected();
    const std::string layout = "nChw" + std::to_string(b) + "c";
    c.attr("tactic_src_layout", layout).attr("tactic_dst_layout", layout);
    if (residual) c.attr("tactic_z_layout", layout);
    c.make_plan(false, y);
    auto kernel = find_tactic(id)->prepare(c.desc());
    ASSERT_TRUE(kernel.ok()) << kernel.status().message();
    EXPECT_EQ((*kernel)->reorders(), 0);
    std::vector<Tensor> in = c.values();
    in[0] = to_blocked(in[0], b, false);
    if (residual) in[3] = to_blocked(in[3], b, false);
    auto out = run_kernel(c.desc(), **kernel, in);
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_LE(relative_error(to_blocked((*out)[0], b, true), want), kTolerance);
    LayerCase other = make();
    other.attr("tactic_src_layout", std::string(b == 8 ? "nChw16c" : "nChw8c"));
    other.make_plan(false, y);
    EXPECT_FALSE(find_tactic(id)->prepare(other.desc()).ok());
  }
}

// X, Z and Y in the blocked layout of the tactic's vector width, as the layout pass gives them.
TEST(SimdWinograd, ReadsAndWritesTheBlockedLayout) {
  const WinogradParams p{{2, 32, 9, 10}, 32};
  check_blocked_layout(
      "ingot.winograd", [&] { return winograd_case(p); }, winograd_out(p), true);
}

struct DepthwiseParams {
  Dims x;  // N, C, H, W
  int64_t kernel;
  int64_t stride;
  std::vector<int64_t> pads;
  std::string activation;  // FusedConv's; empty: a plain Conv
  bool bias = true;
};

LayerCase depthwise_case(const DepthwiseParams& p) {
  const bool fused = !p.activation.empty();
  LayerCase c(fused ? "ingot" : "", fused ? "FusedConv" : "Conv");
  c.input(p.x).weight({p.x[1], 1, p.kernel, p.kernel});
  if (p.bias)
    c.weight({p.x[1]});
  else if (fused)
    c.none();
  c.attr("group", p.x[1]).attr("strides", std::vector<int64_t>{p.stride, p.stride}).attr("pads", p.pads);
  if (fused && p.activation != "None") c.attr("activation", p.activation);
  if (p.activation == "Clip") c.attr("activation_alpha", 0.f).attr("activation_beta", 0.5f);
  return c;
}

Dims depthwise_out(const DepthwiseParams& p) { return conv_out(p.x, p.x[1], p.kernel, p.stride, p.pads); }

class SimdDepthwise : public ::testing::TestWithParam<DepthwiseParams> {};

TEST_P(SimdDepthwise, MatchesTheReference) {
  LayerCase c = depthwise_case(GetParam());
  check_threads(c, runnable("ingot.depthwise", c, depthwise_out(GetParam())));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SimdDepthwise,
    ::testing::Values(DepthwiseParams{{1, 32, 112, 112}, 3, 1, {1, 1, 1, 1}, "Clip"},  // mobilenet_v2's first
                      DepthwiseParams{{1, 96, 112, 112}, 3, 2, {1, 1, 1, 1}, "Clip"},  // strided
                      DepthwiseParams{{2, 16, 7, 9}, 3, 1, {1, 1, 1, 1}, "Relu"},      // narrow rows
                      DepthwiseParams{{1, 48, 15, 15}, 5, 2, {2, 2, 2, 2}, "Silu"},    // efficientnet 5x5
                      DepthwiseParams{{1, 32, 14, 14}, 5, 1, {2, 2, 2, 2}, "Sigmoid"},
                      DepthwiseParams{{1, 16, 6, 5}, 3, 1, {0, 2, 1, 0}, ""},      // uneven pads
                      DepthwiseParams{{1, 16, 3, 3}, 7, 1, {3, 3, 3, 3}, "None"},  // kernel past the input
                      DepthwiseParams{{3, 64, 10, 12}, 3, 2, {0, 0, 0, 0}, "Relu", false}));

TEST(SimdDepthwise, RefusesWhatItCannotRun) {
  DepthwiseParams p{{1, 16, 8, 8}, 3, 1, {1, 1, 1, 1}, "Relu"};
  LayerCase ok = depthwise_case(p);
  for (const std::string& id : runnable("ingot.depthwise", ok, depthwise_out(p))) {
    LayerCase dense("", "Conv");
    dense.input({1, 16, 8, 8}).weight({16, 16, 3, 3});
    EXPECT_EQ(dense.why_not(id, {1, 16, 6, 6}),
              "not depthwise (one input channel per group, one output channel per input channel)");
    LayerCase gelu = depthwise_case(p);
    gelu.attr("activation", std::string("Gelu"));
    EXPECT_EQ(gelu.why_not(id, {1, 16, 8, 8}), "activation 'Gelu' is not ReLU, Clip, SiLU or Sigmoid");
    LayerCase dilated = depthwise_case(p);
    dilated.attr("dilations", std::vector<int64_t>{2, 2});
    EXPECT_EQ(dilated.why_not(id, {1, 16, 4, 4}), "dilated");
  }
}

// X and Y in the blocked layout of the tactic's vector width, as the layout pass gives them.
TEST(SimdDepthwise, ReadsAndWritesTheBlockedLayout) {
  const DepthwiseParams p{{2, 32, 9, 10}, 3, 2, {1, 1, 1, 1}, "Clip"};
  check_blocked_layout(
      "ingot.depthwise", [&] { return depthwise_case(p); }, depthwise_out(p), false);
}

struct ConvGemmParams {
  Dims x;  // N, C, H, W
  int64_t k, kernel, stride;
  std::vector<int64_t> pads;
  std::string activation;  // FusedConv's with a residual; empty: a plain Conv
};

LayerCase conv_gemm_case(const ConvGemmParams& p, const Dims& y) {
  const bool fused = !p.activation.empty();
  LayerCase c(fused ? "ingot" : "", fused ? "FusedConv" : "Conv");
  c.input(p.x).weight({p.k, p.x[1], p.kernel, p.kernel}).weight({p.k});
  if (fused) c.input(y).attr("activation", p.activation);
  if (p.activation == "Clip") c.attr("activation_alpha", -0.5f).attr("activation_beta", 0.5f);
  c.attr("strides", std::vector<int64_t>{p.stride, p.stride}).attr("pads", p.pads);
  return c;
}

Dims conv_gemm_out(const ConvGemmParams& p) { return conv_out(p.x, p.k, p.kernel, p.stride, p.pads); }

class SimdConvGemm : public ::testing::TestWithParam<ConvGemmParams> {};

TEST_P(SimdConvGemm, MatchesTheReference) {
  const Dims y = conv_gemm_out(GetParam());
  LayerCase c = conv_gemm_case(GetParam(), y);
  check_threads(c, runnable("ingot.conv_gemm", c, y));
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, SimdConvGemm,
    ::testing::Values(ConvGemmParams{{1, 64, 7, 7}, 128, 3, 1, {1, 1, 1, 1}, "Relu"},  // resnet50 layer4-like
                      ConvGemmParams{{1, 32, 28, 28}, 48, 3, 2, {1, 1, 1, 1}, ""},     // strided
                      ConvGemmParams{{2, 16, 9, 11}, 32, 5, 1, {2, 1, 0, 2}, "Clip"},  // uneven pads
                      ConvGemmParams{{1, 48, 10, 10}, 16, 1, 1, {0, 0, 0, 0}, "Silu"},     // 1x1
                      ConvGemmParams{{1, 16, 5, 6}, 16, 3, 3, {0, 0, 0, 0}, "Sigmoid"}));  // one row

TEST(SimdConvGemm, ReadsAndWritesTheBlockedLayout) {
  const ConvGemmParams p{{2, 32, 9, 10}, 32, 3, 2, {1, 1, 1, 1}, "Relu"};
  check_blocked_layout(
      "ingot.conv_gemm", [&] { return conv_gemm_case(p, conv_gemm_out(p)); }, conv_gemm_out(p), true);
}

struct ChannelScaleParams {
  Dims x, s;
  bool s_first = false;  // S * X rather than X * S
};

class SimdChannelScale : public ::testing::TestWithParam<ChannelScaleParams> {};

TEST_P(SimdChannelScale, MatchesTheReference) {
  const ChannelScaleParams& p = GetParam();
  LayerCase c("", "Mul");
  if (p.s_first)
    c.input(p.s).input(p.x);
  else
    c.input(p.x).input(p.s);
  check_threads(c, runnable("ingot.channel_scale", c, p.x));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdChannelScale,
                         ::testing::Values(ChannelScaleParams{{1, 96, 56, 56},
                                                              {1, 96, 1, 1}},  // efficientnet SE
                                           ChannelScaleParams{{2, 16, 7, 7}, {2, 16, 1, 1}, true},
                                           ChannelScaleParams{{3, 5, 1, 3}, {1, 5, 1, 1}},
                                           ChannelScaleParams{{2, 8, 9, 1}, {1, 8, 1, 1}, true}));

TEST(SimdChannelScale, RefusesOtherBroadcasts) {
  LayerCase ok("", "Mul");
  ok.input({1, 8, 4, 4}).input({1, 8, 1, 1});
  for (const std::string& id : runnable("ingot.channel_scale", ok, {1, 8, 4, 4})) {
    LayerCase row("", "Mul");
    row.input({1, 8, 4, 4}).input({1, 1, 1, 4});
    EXPECT_EQ(row.why_not(id, {1, 8, 4, 4}), "not [N, C, H, W] times [N or 1, C, 1, 1]");
    LayerCase same("", "Mul");
    same.input({1, 8, 4, 4}).input({1, 8, 4, 4});
    EXPECT_EQ(same.why_not(id, {1, 8, 4, 4}), "not [N, C, H, W] times [N or 1, C, 1, 1]");
  }
}

class SimdGlobalAvgPool : public ::testing::TestWithParam<Dims> {};

TEST_P(SimdGlobalAvgPool, MatchesTheReference) {
  LayerCase c("", "GlobalAveragePool");
  c.input(GetParam());
  Dims out = GetParam();
  for (size_t i = 2; i < out.size(); ++i) out[i] = 1;
  check_threads(c, runnable("ingot.global_avg_pool", c, out));
}

INSTANTIATE_TEST_SUITE_P(Shapes, SimdGlobalAvgPool,
                         ::testing::Values(Dims{1, 1280, 7, 7}, Dims{2, 96, 112, 112}, Dims{3, 5, 17},
                                           Dims{1, 4, 3, 2, 5}, Dims{2, 3, 1, 1}));

// A tactic of an ISA this CPU lacks refuses every layer and does not prepare.
TEST(SimdTactics, RefuseAnIsaTheCpuLacks) {
  LayerCase c("", "Gelu");
  c.layer().opset = 20;
  c.input({4, 6});
  c.make_plan(false, {4, 6});
  const CpuFeatures& f = cpu_features();
  const bool has[] = {f.avx512f && f.avx512dq && f.avx512bw && f.avx512vl && f.fma, f.avx2 && f.fma};
  const char* isas[] = {"avx512", "avx2"};
  for (int i = 0; i < 2; ++i) {
    const Tactic* t = find_tactic(std::string("cpu.ingot.gelu.") + isas[i]);
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->supports(c.desc()), has[i] ? "" : std::string("this CPU does not run ") + isas[i]);
    EXPECT_EQ(t->prepare(c.desc()).ok(), has[i]);
  }
}

}  // namespace
}  // namespace ingot::backends
