// The fp16 convolution (cpu.ingot.conv_gemm.fp16, src/backends/cpu/simd_conv_gemm_f16.cc) and its kernels
// (simd_f16_kernels.h), each check run with every flavour of the kernels this machine runs:
// - "emulated + avx2" and "emulated + avx512": the AVX512-FP16 algorithm in fp32 arithmetic rounded to fp16
//   after every FMA (AVX2 + F16C), with the fp32 table of that ISA for the epilogue and its block (nChw8c /
//   nChw16c): packing, im2col, blocking and chunked accumulation on CPUs without AVX512-FP16;
// - "avx512fp16": the kernels the tactic runs, only on a CPU with the instructions (skipped, saying so,
//   elsewhere).
// Tolerances: the gemm against its fp16-rounded operands summed in double, within 3e-3 of the largest |C|
// (measured 1.3e-3 at the chunk of 64: simd_f16_kernels_isa.inc), and exactly on small integers, whose fp16
// chunk sums are exact but whose whole sums are not representable in fp16; the convolution against the fp32
// reference within 3e-3 of the largest |sum| before the activation (6 units of fp16 roundoff, 2^-11: the
// operands' rounding plus the chunked accumulation, measured up to 1.4e-3 on these shapes).
#include <gtest/gtest.h>
#include <immintrin.h>

#include <functional>

#include "backends/cpu/simd_conv_gemm.h"
#include "backends/cpu/simd_f16_kernels.h"
#include "core/platform.h"
#include "core/threading.h"
#include "tactic_test_util.h"

namespace ingot::backends {
namespace {

using namespace tactic_test;  // NOLINT(google-build-using-namespace)
using cpu::F16Kernels;
using cpu::SimdKernels;

constexpr double kF16Tolerance = 3e-3;
constexpr const char* kTactic = "cpu.ingot.conv_gemm.fp16";

enum class Flavour { kEmulatedAvx2, kEmulatedAvx512, kAvx512Fp16 };

std::string flavour_name(const ::testing::TestParamInfo<Flavour>& info) {
  switch (info.param) {
    case Flavour::kEmulatedAvx2:
      return "EmulatedAvx2";
    case Flavour::kEmulatedAvx512:
      return "EmulatedAvx512";
    case Flavour::kAvx512Fp16:
      return "Avx512Fp16";
  }
  return "";
}

// The fp16 kernels and the fp32 table of a flavour, or why this machine does not run it.
struct Tables {
  const F16Kernels* h = nullptr;
  const SimdKernels* k = nullptr;
  std::string why_not;
};

Tables tables(Flavour f) {
  Tables t;
  const CpuFeatures& cpu = cpu_features();
  const bool emulation = cpu.avx2 && cpu.fma && cpu.f16c;
  switch (f) {
    case Flavour::kEmulatedAvx2:
      t.h = emulation ? &cpu::f16_kernels_emulated() : nullptr;
      t.k = cpu::simd_kernels_for("avx2");
      if (!t.h || !t.k) t.why_not = "this CPU lacks AVX2, FMA or F16C";
      break;
    case Flavour::kEmulatedAvx512:
      t.h = emulation ? &cpu::f16_kernels_emulated() : nullptr;
      t.k = cpu::simd_kernels_for("avx512");
      if (!t.h || !t.k) t.why_not = "this CPU does not run avx512 (the emulation with nChw16c blocks)";
      break;
    case Flavour::kAvx512Fp16:
      t.h = cpu::f16_kernels_for_this_cpu();
      t.k = cpu::simd_kernels_for("avx512");
      if (!cpu_features().avx512fp16)
        t.why_not = "this CPU has no AVX512-FP16 instructions: the AVX512-FP16 kernels are not run here";
      else if (!t.h || !t.k)
        t.why_not = "this build has no AVX512-FP16 kernels (the compiler did not take -mavx512fp16)";
      break;
  }
  if (!t.why_not.empty()) t.h = nullptr;
  return t;
}

#define INGOT_F16_TABLES_OR_SKIP(t)    \
  const Tables t = tables(GetParam()); \
  if (!t.h) GTEST_SKIP() << t.why_not;

// x rounded to the nearest half (F16C: the emulated and the real kernels both need it, so every CPU that runs
// these tests has it; clang before 15 has no _Float16 on x86).
__attribute__((target("f16c"))) double to_half(float x) {
  return static_cast<double>(_cvtsh_ss(_cvtss_sh(x, _MM_FROUND_TO_NEAREST_INT)));
}

// C = A B + bias through pack_a, pack_b and the gemm, in four calls (two row ranges x two panel ranges).
std::vector<float> f16_gemm(const F16Kernels& h, int64_t M, int64_t N, int64_t K, const std::vector<float>& a,
                            const std::vector<float>& b, const float* bias) {
  std::vector<uint16_t> pa(static_cast<size_t>(f16_packed_a_size(h, M, K)));
  std::vector<uint16_t> pb(static_cast<size_t>(f16_packed_b_size(h, K, N)));
  h.pack_a(M, K, a.data(), K, pa.data());
  h.pack_b(K, N, b.data(), N, pb.data());
  std::vector<float> c(static_cast<size_t>(M * N), NAN);
  const int64_t panels = (N + h.panel - 1) / h.panel, m_split = (M / h.mr / 2) * h.mr, p_split = panels / 2;
  for (auto [m0, m1] : {std::pair{int64_t{0}, m_split}, {m_split, M}})
    for (auto [p0, p1] : {std::pair{int64_t{0}, p_split}, {p_split, panels}})
      if (m0 < m1 && p0 < p1) h.gemm(N, K, pa.data(), pb.data(), m0, m1, p0, p1, bias, c.data(), N);
  return c;
}

struct GemmShape {
  int64_t M, N, K;
};

class F16Gemm : public ::testing::TestWithParam<Flavour> {};

// Random operands in [-1, 1] against their fp16 values summed in double: edges of every blocking (rows
// around the panel's 8 and the row block's 192, columns around the panel's 32, K odd, around the chunk's 64
// and the block's 256).
TEST_P(F16Gemm, MatchesTheFp16OperandsSummedInDouble) {
  INGOT_F16_TABLES_OR_SKIP(t);
  const GemmShape shapes[] = {{1, 1, 1},      {7, 31, 3},     {8, 32, 64},    {9, 33, 65},   {17, 64, 63},
                              {50, 100, 257}, {200, 40, 130}, {193, 65, 600}, {3, 2048, 96}, {49, 96, 4608}};
  for (const GemmShape& s : shapes) {
    SCOPED_TRACE(std::to_string(s.M) + " x " + std::to_string(s.N) + " x " + std::to_string(s.K));
    std::mt19937 rng(static_cast<uint32_t>(s.M * 131 + s.N * 7 + s.K));
    std::uniform_real_distribution<float> u(-1.f, 1.f);
    std::vector<float> a(static_cast<size_t>(s.M * s.K)), b(static_cast<size_t>(s.K * s.N)), bias(s.N);
    for (float& v : a) v = u(rng);
    for (float& v : b) v = u(rng);
    for (float& v : bias) v = u(rng);
    for (const float* bi : {static_cast<const float*>(nullptr), static_cast<const float*>(bias.data())}) {
      const std::vector<float> c = f16_gemm(*t.h, s.M, s.N, s.K, a, b, bi);
      double diff = 0, scale = 1e-6;
      for (int64_t m = 0; m < s.M; ++m)
        for (int64_t n = 0; n < s.N; ++n) {
          double want = bi ? bi[n] : 0;
          for (int64_t k = 0; k < s.K; ++k) want += to_half(a[m * s.K + k]) * to_half(b[k * s.N + n]);
          diff = std::max(diff, std::abs(c[m * s.N + n] - want));  // NaN (an unwritten C) fails below
          scale = std::max(scale, std::abs(want));
        }
      EXPECT_LE(diff / scale, kF16Tolerance) << (bi ? "with bias" : "no bias");
    }
  }
}

// Small integers (A in -1 .. 3, B in 1 .. 2): every fp16 chunk sum is exact (32 products of at most 6 per
// lane), and so is the fp32 sum of the chunks, so C must be exact; the whole sums (about 3 K) are not, in
// fp16 (integers past 2048), so this fails unless each chunk goes into fp32. It also checks every index of
// the packing to the last bit.
TEST_P(F16Gemm, IsExactOnSmallIntegers) {
  INGOT_F16_TABLES_OR_SKIP(t);
  for (const GemmShape& s : {GemmShape{13, 37, 5001}, GemmShape{8, 64, 4096}, GemmShape{21, 5, 1777}}) {
    SCOPED_TRACE(std::to_string(s.M) + " x " + std::to_string(s.N) + " x " + std::to_string(s.K));
    std::mt19937 rng(3);
    std::uniform_int_distribution<int> ia(-1, 3), ib(1, 2), ibias(-9, 9);
    std::vector<float> a(static_cast<size_t>(s.M * s.K)), b(static_cast<size_t>(s.K * s.N)), bias(s.N);
    for (float& v : a) v = static_cast<float>(ia(rng));
    for (float& v : b) v = static_cast<float>(ib(rng));
    for (float& v : bias) v = static_cast<float>(ibias(rng));
    const std::vector<float> c = f16_gemm(*t.h, s.M, s.N, s.K, a, b, bias.data());
    int64_t wrong = 0;
    double largest = 0;
    for (int64_t m = 0; m < s.M; ++m)
      for (int64_t n = 0; n < s.N; ++n) {
        double want = bias[n];
        for (int64_t k = 0; k < s.K; ++k) want += double(a[m * s.K + k]) * double(b[k * s.N + n]);
        wrong += c[m * s.N + n] != want;
        largest = std::max(largest, std::abs(want));
      }
    EXPECT_EQ(wrong, 0);
    EXPECT_GT(largest, 2048);  // past fp16's integers: the test needs the fp32 sums
  }
}

INSTANTIATE_TEST_SUITE_P(Flavours, F16Gemm,
                         ::testing::Values(Flavour::kEmulatedAvx2, Flavour::kEmulatedAvx512,
                                           Flavour::kAvx512Fp16),
                         flavour_name);

struct ConvParams {
  Dims x;  // N, C, H, W
  int64_t k, kernel, stride;
  std::vector<int64_t> pads;
  std::string
      activation;  // FusedConv's with a residual; empty: a plain Conv; "None": FusedConv, no activation
  bool bias = true;
};

void PrintTo(const ConvParams& p, std::ostream* os) {
  *os << dims_to_string(p.x) << " K " << p.k << " kernel " << p.kernel << " stride " << p.stride << " "
      << (p.activation.empty() ? "Conv" : p.activation);
}
void PrintTo(Flavour f, std::ostream* os) { *os << flavour_name({f, 0}); }

Dims conv_out(const ConvParams& p) {
  auto out = [&](int64_t in, int64_t a, int64_t b) { return (in + a + b - p.kernel) / p.stride + 1; };
  return {p.x[0], p.k, out(p.x[2], p.pads[0], p.pads[2]), out(p.x[3], p.pads[1], p.pads[3])};
}

LayerCase conv_case(const ConvParams& p) {
  const bool fused = !p.activation.empty();
  LayerCase c(fused ? "ingot" : "", fused ? "FusedConv" : "Conv");
  c.input(p.x).weight({p.k, p.x[1], p.kernel, p.kernel});
  if (p.bias)
    c.weight({p.k});
  else if (fused)
    c.none();
  if (fused) c.input(conv_out(p));
  if (fused && p.activation != "None") c.attr("activation", p.activation);
  if (p.activation == "Clip") c.attr("activation_alpha", -0.5f).attr("activation_beta", 0.5f);
  c.attr("strides", std::vector<int64_t>{p.stride, p.stride}).attr("pads", p.pads);
  return c;
}

double max_abs(const Tensor& t) {
  double m = 1e-6;
  for (int64_t i = 0; i < t.numel(); ++i) m = std::max(m, std::abs(double(t.data<float>()[i])));
  return m;
}

class F16Conv : public ::testing::TestWithParam<std::tuple<Flavour, ConvParams>> {
 protected:
  Flavour flavour() const { return std::get<0>(GetParam()); }
};

// Every shape at 1 and 2 threads, static and with a dynamic batch, each kernel run twice (the second reuses
// the scratch the first grew).
TEST_P(F16Conv, MatchesTheReference) {
  const Tables t = tables(flavour());
  if (!t.h) GTEST_SKIP() << t.why_not;
  const ConvParams& p = std::get<1>(GetParam());
  LayerCase c = conv_case(p);
  c.make_plan(false, {});
  const Tensor want = c.expected();
  ASSERT_GT(want.numel(), 0);
  // fp16's error scales with the sums, not with what the activation leaves of them (Clip to +-0.5 of sums
  // about 20): the error over the largest |sum + bias + Z|, which bounds the activations' too (their slopes
  // are at most 1.1).
  ConvParams linear = p;
  if (!linear.activation.empty()) linear.activation = "None";
  LayerCase sums = conv_case(linear);
  sums.make_plan(false, {});
  const double scale = max_abs(sums.expected());
  const int before = num_threads();
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    for (bool dynamic : {false, true}) {
      SCOPED_TRACE(std::to_string(threads) + " threads" + (dynamic ? ", dynamic batch" : ""));
      c.make_plan(dynamic, want.dims());
      auto kernel = cpu::prepare_conv_gemm_f16(c.desc(), *t.h, *t.k);
      ASSERT_TRUE(kernel.ok()) << kernel.status().message();
      for (int run = 0; run < 2; ++run) {
        auto out = run_kernel(c.desc(), **kernel, c.values());
        ASSERT_TRUE(out.ok()) << out.status().message();
        EXPECT_LE(relative_error((*out)[0], want) * max_abs(want) / scale, kF16Tolerance);
      }
    }
  }
  set_num_threads(before);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, F16Conv,
    ::testing::Combine(
        ::testing::Values(Flavour::kEmulatedAvx2, Flavour::kEmulatedAvx512, Flavour::kAvx512Fp16),
        ::testing::Values(
            ConvParams{{1, 64, 7, 7}, 128, 3, 1, {1, 1, 1, 1}, "Relu"},        // resnet50 layer4-like
            ConvParams{{1, 64, 14, 14}, 256, 1, 1, {0, 0, 0, 0}, "Relu"},      // 1x1, residual
            ConvParams{{1, 256, 8, 8}, 64, 1, 1, {0, 0, 0, 0}, ""},            // 1x1 reduce
            ConvParams{{1, 32, 28, 28}, 48, 3, 2, {1, 1, 1, 1}, ""},           // strided
            ConvParams{{2, 16, 9, 11}, 32, 5, 1, {2, 1, 0, 2}, "Clip"},        // uneven pads
            ConvParams{{1, 48, 10, 10}, 16, 1, 1, {0, 0, 0, 0}, "Silu"},       // 1x1, M not a multiple of 8
            ConvParams{{1, 32, 15, 13}, 16, 1, 2, {0, 0, 0, 0}, "Sigmoid"},    // 1x1 stride 2
            ConvParams{{1, 16, 5, 6}, 16, 3, 3, {0, 0, 0, 0}, "None"},         // one output row
            ConvParams{{3, 16, 3, 3}, 32, 7, 1, {3, 3, 3, 3}, "Relu", false},  // window past the input
            ConvParams{{1, 144, 6, 6}, 80, 3, 1, {1, 1, 1, 1}, ""})),          // K a chunk's odd multiple
    [](const ::testing::TestParamInfo<std::tuple<Flavour, ConvParams>>& info) {
      return flavour_name({std::get<0>(info.param), info.index}) + "_" + std::to_string(info.index);
    });

class F16ConvLayout : public ::testing::TestWithParam<Flavour> {};

// X, Z and Y in the blocked layout of the fp32 table's width, as the layout pass gives them: no reorders; a
// block other than that width is refused at prepare.
TEST_P(F16ConvLayout, ReadsAndWritesTheBlockedLayout) {
  INGOT_F16_TABLES_OR_SKIP(t);
  const ConvParams p{{2, 32, 9, 10}, 32, 3, 2, {1, 1, 1, 1}, "Relu"};
  const Dims y = conv_out(p);
  const int64_t b = t.k->width;
  LayerCase c = conv_case(p);
  c.make_plan(false, y);
  const Tensor want = c.expected();
  const std::string layout = "nChw" + std::to_string(b) + "c";
  c.attr("tactic_src_layout", layout).attr("tactic_dst_layout", layout).attr("tactic_z_layout", layout);
  c.make_plan(false, y);
  auto kernel = cpu::prepare_conv_gemm_f16(c.desc(), *t.h, *t.k);
  ASSERT_TRUE(kernel.ok()) << kernel.status().message();
  EXPECT_EQ((*kernel)->reorders(), 0);
  std::vector<Tensor> in = c.values();
  in[0] = to_blocked(in[0], b, false);
  in[3] = to_blocked(in[3], b, false);
  auto out = run_kernel(c.desc(), **kernel, in);
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_LE(relative_error(to_blocked((*out)[0], b, true), want), kF16Tolerance);
  LayerCase other = conv_case(p);
  other.attr("tactic_src_layout", std::string(b == 8 ? "nChw16c" : "nChw8c"));
  other.make_plan(false, y);
  EXPECT_FALSE(cpu::prepare_conv_gemm_f16(other.desc(), *t.h, *t.k).ok());
}

// What conv_gemm_config refuses, the fp16 kernel refuses too, saying why.
TEST_P(F16ConvLayout, RefusesWhatItCannotRun) {
  INGOT_F16_TABLES_OR_SKIP(t);
  const auto why = [&](LayerCase c, const Dims& y) {
    c.make_plan(false, y);
    auto k = cpu::prepare_conv_gemm_f16(c.desc(), *t.h, *t.k);
    return k.ok() ? std::string() : k.status().message();
  };
  LayerCase grouped = conv_case({{1, 32, 8, 8}, 32, 3, 1, {1, 1, 1, 1}, ""});
  grouped.attr("group", int64_t{2});
  LayerCase odd = conv_case({{1, 12, 8, 8}, 16, 3, 1, {1, 1, 1, 1}, ""});
  LayerCase gelu = conv_case({{1, 16, 8, 8}, 16, 1, 1, {0, 0, 0, 0}, "Gelu"});
  LayerCase dilated = conv_case({{1, 16, 8, 8}, 16, 3, 1, {0, 0, 0, 0}, ""});
  dilated.attr("dilations", std::vector<int64_t>{2, 2});
  EXPECT_NE(why(grouped, {1, 32, 8, 8}).find("grouped"), std::string::npos);
  EXPECT_NE(why(odd, {1, 16, 8, 8}).find("channels are not a multiple of 16"), std::string::npos);
  EXPECT_NE(why(gelu, {1, 16, 8, 8}).find("activation 'Gelu' is not ReLU, Clip, SiLU or Sigmoid"),
            std::string::npos);
  EXPECT_NE(why(dilated, {1, 16, 4, 4}).find("dilated"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(Flavours, F16ConvLayout,
                         ::testing::Values(Flavour::kEmulatedAvx2, Flavour::kEmulatedAvx512,
                                           Flavour::kAvx512Fp16),
                         flavour_name);

// The registered tactic: fp16, and on a CPU without AVX512-FP16 it refuses every layer, saying so; on one
// with them it supports and runs what the kernels run.
TEST(F16ConvTactic, RunsOnlyWithAvx512Fp16) {
  const Tactic* tactic = find_tactic(kTactic);
  ASSERT_NE(tactic, nullptr);
  EXPECT_STREQ(tactic->precision, "fp16");
  const ConvParams p{{1, 32, 8, 8}, 32, 3, 1, {1, 1, 1, 1}, "Relu"};
  LayerCase c = conv_case(p);
  if (!cpu_features().avx512fp16) {
    EXPECT_EQ(c.why_not(kTactic, conv_out(p)), "this CPU has no AVX512-FP16 instructions");
    EXPECT_FALSE(tactic->prepare(c.desc()).ok());
    return;
  }
  if (!cpu::f16_kernels_for_this_cpu()) GTEST_SKIP() << "this build has no AVX512-FP16 kernels";
  c.check({kTactic}, kF16Tolerance);
}

}  // namespace
}  // namespace ingot::backends
