// Microbenchmarks of ingot's hot CPU kernels beside oneDNN's, one thread, each printing its GFLOP/s or
// GB/s and the share of this machine's ceiling, measured first in the same binary: the FMA peak (a loop
// of independent fused multiply-adds at the widest ISA the CPU has) and the DRAM read bandwidth (a sum
// over 256 MiB). Rates are per CPU second of the benchmark's thread (Google Benchmark's default).
// INGOT_MICRO_THREADS=N runs the products on a pool of N threads (the matmul pair, oneDNN's on the same
// OpenMP pool): their rates are then per second of wall time, and peak% is against one thread's ceiling.
#include <benchmark/benchmark.h>
#include <immintrin.h>

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <oneapi/dnnl/dnnl.hpp>
#include <random>
#include <vector>

#include "backends/cpu/simd_gemm.h"
#include "backends/cpu/simd_kernels.h"
#include "core/platform.h"
#include "core/threading.h"

namespace {

using ingot::backends::cpu::SimdKernels;

// 12 independent accumulators hide the FMA latency on both FMA pipes.
__attribute__((target("avx2,fma"))) float fma_loop_avx2(int64_t iters) {
  __m256 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm256_set1_ps(static_cast<float>(i));
  const __m256 a = _mm256_set1_ps(0.999999f), b = _mm256_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  __m256 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm256_add_ps(s, acc[i]);
  float out[8];
  _mm256_storeu_ps(out, s);
  return out[0];
}

__attribute__((target("avx512f"))) float fma_loop_avx512(int64_t iters) {
  __m512 acc[12];
  for (int i = 0; i < 12; ++i) acc[i] = _mm512_set1_ps(static_cast<float>(i));
  const __m512 a = _mm512_set1_ps(0.999999f), b = _mm512_set1_ps(1e-7f);
  for (int64_t it = 0; it < iters; ++it)
    for (int i = 0; i < 12; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 s = acc[0];
  for (int i = 1; i < 12; ++i) s = _mm512_add_ps(s, acc[i]);
  return _mm512_reduce_add_ps(s);
}

// Reads n floats with four independent vector sums (so that the loads, not the adds, bound it).
__attribute__((target("avx2"))) float read_avx2(const float* p, size_t n) {
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = 0; i + 32 <= n; i += 32) {
    s0 = _mm256_add_ps(s0, _mm256_loadu_ps(p + i));
    s1 = _mm256_add_ps(s1, _mm256_loadu_ps(p + i + 8));
    s2 = _mm256_add_ps(s2, _mm256_loadu_ps(p + i + 16));
    s3 = _mm256_add_ps(s3, _mm256_loadu_ps(p + i + 24));
  }
  float out[8];
  _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  return out[0];
}

// Seconds of this thread's CPU time: the ceilings are then not lowered by other processes taking the
// core (the benchmarks' rates are per CPU second too).
double thread_seconds() {
  timespec t;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

const SimdKernels& kernels() {
  static const SimdKernels* k = ingot::backends::cpu::simd_kernels_for("avx512")
                                    ? ingot::backends::cpu::simd_kernels_for("avx512")
                                    : ingot::backends::cpu::simd_kernels_for("avx2");
  if (!k) {
    std::fprintf(stderr, "ingot_micro: this CPU has neither AVX-512 nor AVX2 + FMA\n");
    std::exit(1);
  }
  return *k;
}

double g_peak_gflops = 0, g_peak_gbs = 0;

// Best of 5 runs each, in CPU time of this thread.
void measure_ceilings() {
  const bool wide = ingot::backends::cpu::simd_kernels_for("avx512") != nullptr;
  const int64_t iters = 20'000'000;
  volatile float sink = 0;
  for (int r = 0; r < 5; ++r) {
    const double t0 = thread_seconds();
    sink = sink + (wide ? fma_loop_avx512(iters) : fma_loop_avx2(iters));
    const double s = thread_seconds() - t0;
    g_peak_gflops =
        std::max(g_peak_gflops, 2.0 * 12 * (wide ? 16 : 8) * static_cast<double>(iters) / s / 1e9);
  }
  // DRAM: 256 MiB, far past the caches.
  std::vector<float> big(64 << 20, 1.f);
  for (int r = 0; r < 5; ++r) {
    const double t0 = thread_seconds();
    sink = sink + read_avx2(big.data(), big.size());
    const double s = thread_seconds() - t0;
    g_peak_gbs = std::max(g_peak_gbs, static_cast<double>(big.size() * sizeof(float)) / s / 1e9);
  }
  std::printf(
      "machine: %s (%s)\nceiling, one thread (CPU time): %.1f GFLOP/s (FMA loop, %s), %.1f GB/s (DRAM read); "
      "GB/s of kernels whose data fit in L2/L3 can exceed the latter\n",
      ingot::cpu_name().c_str(), ingot::cpu_feature_list().c_str(), g_peak_gflops, wide ? "avx512" : "avx2",
      g_peak_gbs);
}

std::vector<float> random_floats(int64_t n, uint32_t seed) {
  std::vector<float> v(static_cast<size_t>(n));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  for (float& x : v) x = u(rng);
  return v;
}

void report_flops(benchmark::State& state, double flops_per_iter) {
  const double gflops = flops_per_iter * static_cast<double>(state.iterations());
  state.counters["GFLOP/s"] = benchmark::Counter(gflops / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak%"] =
      benchmark::Counter(gflops / 1e9 / g_peak_gflops * 100, benchmark::Counter::kIsRate);
}

void report_bytes(benchmark::State& state, double bytes_per_iter) {
  const double bytes = bytes_per_iter * static_cast<double>(state.iterations());
  state.counters["GB/s"] = benchmark::Counter(bytes / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak%"] = benchmark::Counter(bytes / 1e9 / g_peak_gbs * 100, benchmark::Counter::kIsRate);
}

// C[M, N] = A[M, K] B[K, N] with B packed once, as cpu.ingot.matmul runs it.
void BM_ingot_matmul_packed(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  const SimdKernels& k = kernels();
  const std::vector<float> a = random_floats(M * K, 1), b = random_floats(K * N, 2);
  std::vector<float> packed(static_cast<size_t>(ingot::backends::cpu::packed_b_size(k, K, N))), c(M * N);
  k.pack_b(K, N, b.data(), N, false, 1.f, packed.data());
  ingot::backends::cpu::PackedGemm g;
  g.M = M, g.N = N, g.K = K, g.A = a.data(), g.lda = K, g.packed_b = packed.data(), g.C = c.data(), g.ldc = N;
  for (auto _ : state) {
    ingot::backends::cpu::run_packed_gemm(k, g);
    benchmark::DoNotOptimize(c.data());
  }
  report_flops(state, 2.0 * M * N * K);
}

// The same product through oneDNN's matmul with a constant B in its preferred format.
void BM_onednn_matmul(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  using dnnl::memory;
  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const memory::desc a_md({M, K}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc b_md({K, N}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc c_md({M, N}, memory::data_type::f32, memory::format_tag::ab);
  const memory::desc b_any({K, N}, memory::data_type::f32, memory::format_tag::any);
  const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(a_md, b_any, c_md), eng);
  std::vector<float> a = random_floats(M * K, 1), b = random_floats(K * N, 2), c(M * N);
  memory a_m(a_md, eng, a.data()), b_user(b_md, eng, b.data()), c_m(c_md, eng, c.data());
  memory b_m(pd.weights_desc(), eng);
  dnnl::reorder(b_user, b_m).execute(s, b_user, b_m);
  const dnnl::matmul prim(pd);
  for (auto _ : state) {
    prim.execute(s, {{DNNL_ARG_SRC, a_m}, {DNNL_ARG_WEIGHTS, b_m}, {DNNL_ARG_DST, c_m}});
    s.wait();
  }
  report_flops(state, 2.0 * M * N * K);
}

// One attention head as cpu.ingot.attention runs it: S = Q K^T, softmax rows, Y = S V.
void BM_ingot_attention_head(benchmark::State& state) {
  const int64_t S = state.range(0), D = state.range(1);
  const SimdKernels& k = kernels();
  const std::vector<float> q = random_floats(S * D, 1), kt = random_floats(D * S, 2),
                           v = random_floats(S * D, 3);
  std::vector<float> scores(S * S), y(S * D);
  for (auto _ : state) {
    k.gemm(S, S, D, 0.125f, q.data(), D, kt.data(), S, scores.data(), S, false);
    k.softmax_rows(scores.data(), S, nullptr, scores.data(), S, S, S);
    k.gemm(S, D, S, 1.f, scores.data(), S, v.data(), D, y.data(), D, false);
    benchmark::DoNotOptimize(y.data());
  }
  report_flops(state, 4.0 * S * S * D);
}

void BM_ingot_softmax(benchmark::State& state) {
  const int64_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = random_floats(rows * n, 1);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    kernels().softmax_rows(x.data(), n, nullptr, y.data(), n, rows, n);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 2.0 * sizeof(float) * rows * n);
}

void BM_ingot_layernorm(benchmark::State& state) {
  const int64_t rows = state.range(0), n = state.range(1);
  const std::vector<float> x = random_floats(rows * n, 1), g = random_floats(n, 2), b = random_floats(n, 3);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    kernels().layer_norm_rows(x.data(), g.data(), b.data(), 1e-5f, y.data(), rows, n);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 2.0 * sizeof(float) * rows * n);
}

void BM_ingot_gelu(benchmark::State& state) {
  const int64_t n = state.range(0);
  const std::vector<float> x = random_floats(n, 1);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    kernels().gelu_erf(x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
  }
  report_bytes(state, 2.0 * sizeof(float) * n);
}

// One 3x3 stride-1 convolution (pad 1, batch 1, C = K channels, H x H) by Winograd F(4x4, 3x3) as
// cpu.ingot.winograd runs it, stage by stage (range(3): 0 input transform, 1 the 36 products, 2 output
// transform, 3 all three). GFLOP/s count the direct convolution's 2 * H * H * C * K * 9 for stage 3, and
// each stage's own work otherwise (the products' 2 * 36 * tiles * C * K; the transforms' bytes as GB/s).
void BM_ingot_winograd(benchmark::State& state) {
  const int64_t C = state.range(0), K = state.range(1), H = state.range(2), stage = state.range(3);
  const SimdKernels& k = kernels();
  const int64_t tw = (H + 3) / 4, T = tw * tw, bw = k.width;
  const std::vector<float> x = random_floats(C * H * H, 1), w = random_floats(36 * C * K, 2);
  std::vector<float> packed(static_cast<size_t>(36 * ingot::backends::cpu::packed_b_size(k, C, K)));
  const int64_t ps = ingot::backends::cpu::packed_b_size(k, C, K);
  for (int64_t e = 0; e < 36; ++e)
    k.pack_b(C, K, w.data() + e * C * K, K, false, 1.f, packed.data() + e * ps);
  std::vector<float> v(36 * T * C), m(36 * T * K), y(K * H * H);
  ingot::backends::cpu::PackedGemm g;
  g.M = T, g.N = K, g.K = C, g.A = v.data(), g.lda = C, g.a_stride = T * C, g.packed_b = packed.data(),
  g.b_stride = ps, g.C = m.data(), g.ldc = K, g.c_stride = T * K, g.batch = 36;
  for (auto _ : state) {
    if (stage == 0 || stage == 3)
      for (int64_t cb = 0; cb < C / bw; ++cb)
        k.wino_input(x.data() + cb * bw * H * H, H, H, 1, 1, tw, 0, T, v.data() + cb * bw, T * C, C);
    if (stage == 1 || stage == 3) ingot::backends::cpu::run_packed_gemm(k, g);
    if (stage == 2 || stage == 3)
      for (int64_t kb = 0; kb < K / bw; ++kb)
        k.wino_output(m.data() + kb * bw, T * K, K, nullptr, nullptr, true, y.data() + kb * bw * H * H, H, H,
                      tw, 0, T);
    benchmark::DoNotOptimize(y.data());
    benchmark::DoNotOptimize(m.data());
  }
  if (stage == 1) report_flops(state, 2.0 * 36 * T * C * K);
  if (stage == 3) report_flops(state, 2.0 * H * H * C * K * 9);
  if (stage == 0) report_bytes(state, 4.0 * (C * H * H + 36 * T * C));
  if (stage == 2) report_bytes(state, 4.0 * (K * H * H + 36 * T * K));
}

// The same convolution by oneDNN's direct convolution, nChw8c / nChw16c in and out (as the layout pass
// keeps resnet50's activations), weights in the primitive's format.
void BM_onednn_conv3x3(benchmark::State& state) {
  const int64_t C = state.range(0), K = state.range(1), H = state.range(2);
  using dnnl::memory;
  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream s(eng);
  const auto f32 = memory::data_type::f32;
  const memory::desc x_any({1, C, H, H}, f32, memory::format_tag::any),
      y_any({1, K, H, H}, f32, memory::format_tag::any), w_any({K, C, 3, 3}, f32, memory::format_tag::any),
      w_md({K, C, 3, 3}, f32, memory::format_tag::oihw);
  const dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      x_any, w_any, y_any, {1, 1}, {1, 1}, {1, 1}),
      eng);
  std::vector<float> w = random_floats(K * C * 9, 2);
  memory x_m(pd.src_desc(), eng), y_m(pd.dst_desc(), eng), w_m(pd.weights_desc(), eng),
      w_user(w_md, eng, w.data());
  std::memset(x_m.get_data_handle(), 0, pd.src_desc().get_size());
  dnnl::reorder(w_user, w_m).execute(s, w_user, w_m);
  const dnnl::convolution_forward prim(pd);
  for (auto _ : state) {
    prim.execute(s, {{DNNL_ARG_SRC, x_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_DST, y_m}});
    s.wait();
  }
  report_flops(state, 2.0 * H * H * C * K * 9);
}

// A 3x3 depthwise convolution (pad 1, stride range(2), batch 1, C channels, H x H) on blocked planes as
// cpu.ingot.depthwise runs it (ReLU6), and the same through oneDNN's convolution in nChw8c / nChw16c.
void BM_ingot_depthwise(benchmark::State& state) {
  const int64_t C = state.range(0), H = state.range(1), s = state.range(2), OH = (H - 1) / s + 1;
  const SimdKernels& k = kernels();
  const std::vector<float> x = random_floats(C * H * H, 1), w = random_floats(C * 9, 2), b(C, 0.f);
  std::vector<float> y(C * OH * OH);
  for (auto _ : state) {
    for (int64_t cb = 0; cb < C / k.width; ++cb)
      k.depthwise(x.data() + cb * k.width * H * H, H, H, w.data() + cb * 9 * k.width, b.data() + cb * k.width,
                  3, 3, s, s, 1, 1, ingot::backends::cpu::kActClip, 0.f, 6.f,
                  y.data() + cb * k.width * OH * OH, OH, OH, 0, OH);
    benchmark::DoNotOptimize(y.data());
  }
  report_flops(state, 2.0 * C * OH * OH * 9);
}

void BM_onednn_depthwise(benchmark::State& state) {
  const int64_t C = state.range(0), H = state.range(1), s = state.range(2), OH = (H - 1) / s + 1;
  using dnnl::memory;
  const dnnl::engine eng(dnnl::engine::kind::cpu, 0);
  dnnl::stream st(eng);
  const auto f32 = memory::data_type::f32;
  const auto tag = kernels().width == 16 ? memory::format_tag::nChw16c : memory::format_tag::nChw8c;
  const memory::desc x_md({1, C, H, H}, f32, tag), y_md({1, C, OH, OH}, f32, tag),
      w_any({C, 1, 1, 3, 3}, f32, memory::format_tag::any),
      w_md({C, 1, 1, 3, 3}, f32, memory::format_tag::goihw);
  dnnl::post_ops ops;
  ops.append_eltwise(1.f, dnnl::algorithm::eltwise_clip, 0.f, 6.f);
  dnnl::primitive_attr attr;
  attr.set_post_ops(ops);
  const dnnl::convolution_forward::primitive_desc pd(
      dnnl::convolution_forward::desc(dnnl::prop_kind::forward_inference, dnnl::algorithm::convolution_direct,
                                      x_md, w_any, y_md, {s, s}, {1, 1}, {1, 1}),
      attr, eng);
  std::vector<float> w = random_floats(C * 9, 2);
  memory x_m(x_md, eng), y_m(y_md, eng), w_m(pd.weights_desc(), eng), w_user(w_md, eng, w.data());
  std::memset(x_m.get_data_handle(), 0, x_md.get_size());
  dnnl::reorder(w_user, w_m).execute(st, w_user, w_m);
  const dnnl::convolution_forward prim(pd);
  for (auto _ : state) {
    prim.execute(st, {{DNNL_ARG_SRC, x_m}, {DNNL_ARG_WEIGHTS, w_m}, {DNNL_ARG_DST, y_m}});
    st.wait();
  }
  report_flops(state, 2.0 * C * OH * OH * 9);
}

// BERT-base at sequence 128: the QKV, output, FFN up and FFN down projections; a classifier (M = 1).
#define MATMUL_SHAPES          \
  Args({128, 2304, 768})       \
      ->Args({128, 768, 768})  \
      ->Args({128, 3072, 768}) \
      ->Args({128, 768, 3072}) \
      ->Args({1, 1000, 2048})  \
      ->Args({49, 512, 4608})  \
      ->Args({196, 256, 2304})
BENCHMARK(BM_ingot_matmul_packed)->MATMUL_SHAPES->UseRealTime();
BENCHMARK(BM_onednn_matmul)->MATMUL_SHAPES->UseRealTime();
BENCHMARK(BM_ingot_attention_head)->Args({128, 64})->Args({384, 64});
BENCHMARK(BM_ingot_softmax)->Args({1536, 128})->Args({64, 1000});
BENCHMARK(BM_ingot_layernorm)->Args({128, 768});
BENCHMARK(BM_ingot_gelu)->Arg(128 * 3072);
// resnet50's 3x3 stride-1 convolutions of layers 1, 2 and 3.
BENCHMARK(BM_ingot_winograd)->ArgsProduct({{64}, {64}, {56}, {0, 1, 2, 3}});
BENCHMARK(BM_ingot_winograd)->ArgsProduct({{128}, {128}, {28}, {0, 1, 2, 3}});
BENCHMARK(BM_ingot_winograd)->ArgsProduct({{256}, {256}, {14}, {0, 1, 2, 3}});
// mobilenet_v2's depthwise layers: 32 x 112 (stride 1), 96 x 112 (stride 2), 144 x 56, 192 x 28, 576 x 14.
#define DEPTHWISE_SHAPES \
  Args({32, 112, 1})->Args({96, 112, 2})->Args({144, 56, 1})->Args({192, 28, 1})->Args({576, 14, 1})
BENCHMARK(BM_ingot_depthwise)->DEPTHWISE_SHAPES;
BENCHMARK(BM_onednn_depthwise)->DEPTHWISE_SHAPES;
BENCHMARK(BM_onednn_conv3x3)->Args({64, 64, 56})->Args({128, 128, 28})->Args({256, 256, 14});

}  // namespace

int main(int argc, char** argv) {
  ingot::set_num_threads(1);
  measure_ceilings();
  if (const char* t = std::getenv("INGOT_MICRO_THREADS")) ingot::set_num_threads(std::max(1, std::atoi(t)));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
