// ingot's FP16 flash attention kernel (src/backends/cuda/attention.cu) on its own: checked against an FP32
// reference on the GPU over a grid of shapes, views and CTA sizes, then timed with CUDA events on ViT-B/16's
// attention (batch 32 and 1: 12 heads, 197 tokens, head dim 64, Q / K / V read in place from the packed QKV
// projection [B, S, 3, H, D], Y written as [B, S, H, D]).
//
// Build (no libingot needed; CMake target ingot_flash_bench, or by hand):
//   nvcc -O3 -std=c++17 -arch=sm_90 -Isrc bench/micro/flash_attention_bench.cu src/backends/cuda/attention.cu
// Run: flash_attention_bench [--check-only | --bench-only | --small (a quarter of the checks, none of ViT's
// sizes: for compute-sanitizer)]. Exits 1 when any check fails. -DINGOT_FLASH_OLD builds it against an
// attention.cu whose flash_attention_f16 takes no CTA size (the wmma kernel), to compare.
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "backends/cuda/kernels.h"

namespace {

namespace k = ingot::backends::cuda::kernels;

#define CHECK_CUDA(x)                                                                          \
  do {                                                                                         \
    cudaError_t e_ = (x);                                                                      \
    if (e_ != cudaSuccess) {                                                                   \
      std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); \
      std::exit(2);                                                                            \
    }                                                                                          \
  } while (0)

// y = softmax(scale * q k^T) v in FP32 for one (b, h, query) per thread, two passes over the keys.
__global__ void k_reference(const __half* q, k::AttnView qv, const __half* kk, k::AttnView kv,
                            const __half* v, k::AttnView vv, float* y, int batch, int heads, int sq, int sk,
                            int d, int dv, float scale) {
  const int64_t idx = blockIdx.x * int64_t{blockDim.x} + threadIdx.x;
  if (idx >= int64_t{batch} * heads * sq) return;
  const int i = idx % sq, h = (idx / sq) % heads, b = idx / (int64_t{sq} * heads);
  const __half* qr = q + qv.offset + b * qv.sb + h * qv.sh + i * qv.ss;
  const __half* kb = kk + kv.offset + b * kv.sb + h * kv.sh;
  const __half* vb = v + vv.offset + b * vv.sb + h * vv.sh;
  auto score = [&](int j) {
    float s = 0.f;
    for (int c = 0; c < d; ++c) s += __half2float(qr[c]) * __half2float(kb[j * kv.ss + c]);
    return s * scale;
  };
  float mx = -INFINITY;
  for (int j = 0; j < sk; ++j) mx = fmaxf(mx, score(j));
  float acc[128];
  for (int c = 0; c < dv; ++c) acc[c] = 0.f;
  float sum = 0.f;
  for (int j = 0; j < sk; ++j) {
    const float p = expf(score(j) - mx);
    sum += p;
    for (int c = 0; c < dv; ++c) acc[c] += p * __half2float(vb[j * vv.ss + c]);
  }
  for (int c = 0; c < dv; ++c) y[idx * dv + c] = acc[c] / sum;
}

// How Q, K, V and Y lie in memory.
enum class Layout {
  kDense,     // four [B, H, S, D] tensors
  kPacked,    // Q, K, V in one [B, S, 3, H, D] buffer (a fused QKV projection), Y as [B, S, H, D]
  kUnaligned  // dense, each view starting 1 to 3 elements into its buffer, Y's rows 8 elements apart
};
const char* name(Layout l) {
  return l == Layout::kDense ? "dense" : l == Layout::kPacked ? "packed" : "unaligned";
}

struct Case {
  int batch, heads, sq, sk, d, dv;
  Layout layout;
  int warps;  // 0: the kernel's own choice
  float scale;
};

struct Buffers {
  k::AttnView qv, kv, vv, yv;
  size_t q_elems = 0, k_elems = 0, v_elems = 0, y_elems = 0;
  bool packed = false;  // q, k, v all in the q buffer
};

Buffers plan(const Case& c) {
  Buffers p;
  const int64_t B = c.batch, H = c.heads, Sq = c.sq, Sk = c.sk;
  if (c.layout == Layout::kPacked) {
    // Self-attention needs sq == sk and d == dv; the cases below only ask for that.
    const int64_t row = 3 * H * c.d;
    p.packed = true;
    p.qv = {0, Sq * row, c.d, row};
    p.kv = {H * c.d, Sq * row, c.d, row};
    p.vv = {2 * H * c.d, Sq * row, c.d, row};
    p.q_elems = B * Sq * row;
    p.yv = {0, Sq * H * c.dv, c.dv, H * c.dv};
    p.y_elems = B * Sq * H * c.dv;
    return p;
  }
  const int64_t off = c.layout == Layout::kUnaligned ? 1 : 0, pad = c.layout == Layout::kUnaligned ? 8 : 0;
  p.qv = {off, H * Sq * c.d, Sq * c.d, c.d};
  p.kv = {2 * off, H * Sk * c.d, Sk * c.d, c.d};
  p.vv = {3 * off, H * Sk * c.dv, Sk * c.dv, c.dv};
  p.q_elems = off + B * H * Sq * c.d;
  p.k_elems = 2 * off + B * H * Sk * c.d;
  p.v_elems = 3 * off + B * H * Sk * c.dv;
  p.yv = {off, H * Sq * (c.dv + pad), Sq * (c.dv + pad), c.dv + pad};
  p.y_elems = off + B * H * Sq * (c.dv + pad);
  return p;
}

__half* upload_random(size_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<__half> h(n);
  for (auto& x : h) x = __float2half(u(rng));
  __half* dptr = nullptr;
  CHECK_CUDA(cudaMalloc(&dptr, std::max<size_t>(n, 1) * sizeof(__half)));
  CHECK_CUDA(cudaMemcpy(dptr, h.data(), n * sizeof(__half), cudaMemcpyHostToDevice));
  return dptr;
}

cudaError_t launch(const __half* q, const Buffers& p, const __half* kk, const __half* v, __half* y,
                   const Case& c, cudaStream_t s) {
#ifdef INGOT_FLASH_OLD
  return k::flash_attention_f16(q, p.qv, kk, p.kv, v, p.vv, y, p.yv, c.batch, c.heads, c.sq, c.sk, c.d, c.dv,
                                c.scale, s);
#else
  return k::flash_attention_f16(q, p.qv, kk, p.kv, v, p.vv, y, p.yv, c.batch, c.heads, c.sq, c.sk, c.d, c.dv,
                                c.scale, s, c.warps);
#endif
}

// Runs one case on fresh random inputs against the reference. The output buffer is poisoned with NaN first:
// every element the view reaches must be written and within the tolerance, every other one left alone.
// Tolerance: |y - ref| <= 4e-3 + 4e-3 |ref| (inputs in [-1, 1]; P is rounded to FP16 before P V, and y to
// FP16).
bool check(const Case& c, std::mt19937& rng, double* worst) {
  const Buffers p = plan(c);
  __half* q = upload_random(p.q_elems, rng);
  __half* kk = p.packed ? q : upload_random(p.k_elems, rng);
  __half* v = p.packed ? q : upload_random(p.v_elems, rng);
  __half* y = nullptr;
  float* ref = nullptr;
  const int64_t rows = int64_t{c.batch} * c.heads * c.sq;
  CHECK_CUDA(cudaMalloc(&y, p.y_elems * sizeof(__half)));
  CHECK_CUDA(cudaMemset(y, 0xff, p.y_elems * sizeof(__half)));  // 0xffff: a NaN
  CHECK_CUDA(cudaMalloc(&ref, rows * c.dv * sizeof(float)));
  CHECK_CUDA(launch(q, p, kk, v, y, c, nullptr));
  k_reference<<<(rows + 127) / 128, 128>>>(q, p.qv, kk, p.kv, v, p.vv, ref, c.batch, c.heads, c.sq, c.sk, c.d,
                                           c.dv, c.scale);
  CHECK_CUDA(cudaGetLastError());
  CHECK_CUDA(cudaDeviceSynchronize());
  std::vector<__half> hy(p.y_elems);
  std::vector<float> hr(rows * c.dv);
  CHECK_CUDA(cudaMemcpy(hy.data(), y, hy.size() * sizeof(__half), cudaMemcpyDeviceToHost));
  CHECK_CUDA(cudaMemcpy(hr.data(), ref, hr.size() * sizeof(float), cudaMemcpyDeviceToHost));
  std::vector<char> reached(p.y_elems, 0);
  double err = 0, err2 = 0, ref2 = 0;
  int64_t bad = 0;
  for (int64_t idx = 0; idx < rows; ++idx) {
    const int64_t i = idx % c.sq, h = (idx / c.sq) % c.heads, b = idx / (int64_t{c.sq} * c.heads);
    const int64_t at = p.yv.offset + b * p.yv.sb + h * p.yv.sh + i * p.yv.ss;
    for (int e = 0; e < c.dv; ++e) {
      const float got = __half2float(hy[at + e]), want = hr[idx * c.dv + e];
      reached[at + e] = 1;
      const double diff = std::fabs(double(got) - want);
      if (!(diff <= 4e-3 + 4e-3 * std::fabs(want))) ++bad;
      if (!std::isnan(diff)) err = std::max(err, diff);
      err2 += diff * diff, ref2 += double(want) * want;
    }
  }
  int64_t touched = 0;
  for (size_t i = 0; i < hy.size(); ++i) {
    uint16_t bits;
    std::memcpy(&bits, &hy[i], 2);
    if (!reached[i] && bits != 0xffff) ++touched;
  }
  *worst = std::max(*worst, err);
  const bool ok = bad == 0 && touched == 0;
  std::printf(
      "%-4s b%d h%d sq%-4d sk%-4d d%-3d dv%-3d %-9s warps %d scale %.3f: max|err| %.2e rel-l2 %.2e%s%s\n",
      ok ? "ok" : "FAIL", c.batch, c.heads, c.sq, c.sk, c.d, c.dv, name(c.layout), c.warps, c.scale, err,
      std::sqrt(err2 / std::max(ref2, 1e-30)), bad ? (" " + std::to_string(bad) + " off").c_str() : "",
      touched ? (" " + std::to_string(touched) + " written outside the view").c_str() : "");
  CHECK_CUDA(cudaFree(q));
  if (!p.packed) {
    CHECK_CUDA(cudaFree(kk));
    CHECK_CUDA(cudaFree(v));
  }
  CHECK_CUDA(cudaFree(y));
  CHECK_CUDA(cudaFree(ref));
  return ok;
}

// Median kernel time: `samples` times, `reps` launches back to back between two events (so that launch
// gaps stay out of the figure), rotating among `sets` input / output buffers so that the L2 cache (50 MB on
// the H100) does not hold one launch's operands from the previous one.
double time_ms(const Case& c, int sets, int samples, int reps) {
  const Buffers p = plan(c);
  std::mt19937 rng(7);
  std::vector<__half*> qs, ks, vs, ys;
  for (int i = 0; i < sets; ++i) {
    qs.push_back(upload_random(p.q_elems, rng));
    ks.push_back(p.packed ? qs.back() : upload_random(p.k_elems, rng));
    vs.push_back(p.packed ? qs.back() : upload_random(p.v_elems, rng));
    __half* y = nullptr;
    CHECK_CUDA(cudaMalloc(&y, p.y_elems * sizeof(__half)));
    ys.push_back(y);
  }
  cudaEvent_t a, b;
  CHECK_CUDA(cudaEventCreate(&a));
  CHECK_CUDA(cudaEventCreate(&b));
  for (int i = 0; i < 20; ++i)
    CHECK_CUDA(launch(qs[i % sets], p, ks[i % sets], vs[i % sets], ys[i % sets], c, 0));
  std::vector<float> ms;
  for (int i = 0; i < samples; ++i) {
    CHECK_CUDA(cudaEventRecord(a));
    for (int r = 0; r < reps; ++r) {
      const int s = (i * reps + r) % sets;
      CHECK_CUDA(launch(qs[s], p, ks[s], vs[s], ys[s], c, 0));
    }
    CHECK_CUDA(cudaEventRecord(b));
    CHECK_CUDA(cudaEventSynchronize(b));
    float t = 0;
    CHECK_CUDA(cudaEventElapsedTime(&t, a, b));
    ms.push_back(t / reps);
  }
  std::sort(ms.begin(), ms.end());
  for (int i = 0; i < sets; ++i) {
    CHECK_CUDA(cudaFree(qs[i]));
    if (!p.packed) {
      CHECK_CUDA(cudaFree(ks[i]));
      CHECK_CUDA(cudaFree(vs[i]));
    }
    CHECK_CUDA(cudaFree(ys[i]));
  }
  CHECK_CUDA(cudaEventDestroy(a));
  CHECK_CUDA(cudaEventDestroy(b));
  return ms[ms.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  const bool small = mode == "--small";  // for compute-sanitizer
  const bool check_only = mode == "--check-only" || small, bench_only = mode == "--bench-only";
  cudaDeviceProp prop;
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  std::printf("%s, %d SMs, %.0f MB L2\n", prop.name, prop.multiProcessorCount, prop.l2CacheSize / 1e6);
  CHECK_CUDA(k::flash_attention_setup());
#ifdef INGOT_FLASH_OLD
  const std::vector<int> warp_choices = {0};
#else
  const std::vector<int> warp_choices = {0, 4, 8};
#endif
  int failed = 0, total = 0;
  if (!bench_only) {
    std::mt19937 rng(1234);
    double worst = 0;
    const int seqs[] = {1, 7, 64, 197, 257};
    const int dims[][2] = {{64, 64}, {128, 128}, {8, 8}, {96, 96}, {64, 128}, {128, 40}, {32, 16}};
    int n = 0;
    for (int sq : seqs)
      for (int sk : seqs)
        for (const auto& dd : dims) {
          const Layout layout = n % 3 == 1 ? Layout::kUnaligned : Layout::kDense;
          const int warps = warp_choices[n % warp_choices.size()];
          const float scale = n % 4 == 3 ? 1.f : 1.f / std::sqrt(float(dd[0]));
          const Case c{2, 3, sq, sk, dd[0], dd[1], layout, warps, scale};
          if (small && n++ % 4) continue;  // a quarter of the grid
          if (!small) ++n;
          ++total;
          failed += !check(c, rng, &worst);
        }
    // Self-attention read in place from a packed QKV projection, every CTA size; ViT-B/16's shapes.
    for (int s : {1, 7, 64, 197, 257})
      for (int d : {64, 128})
        for (int w : warp_choices) {
          if (small && (s == 64 || s == 257 || d == 128)) continue;
          ++total;
          failed += !check({2, 3, s, s, d, d, Layout::kPacked, w, 1.f / std::sqrt(float(d))}, rng, &worst);
        }
    for (int batch : {1, 32})
      for (int w : warp_choices) {
        if (small) break;
        ++total;
        failed += !check({batch, 12, 197, 197, 64, 64, Layout::kPacked, w, 0.125f}, rng, &worst);
      }
    std::printf("checks: %d of %d passed, max |err| %.3e\n", total - failed, total, worst);
  }
  if (!check_only) {
    std::printf(
        "\ntimings (median of 30 samples of 10 launches, 4 buffer sets; ms per layer, x12 for ViT-B/16's 12 "
        "layers)\n");
    for (int batch : {32, 1})
      for (int w : warp_choices) {
        const Case c{batch, 12, 197, 197, 64, 64, Layout::kPacked, w, 0.125f};
        const double ms = time_ms(c, 4, 30, 10);
        const double flop = 4.0 * batch * 12 * 197.0 * 197.0 * 64;
        const double bytes = 4.0 * batch * 12 * 197.0 * 64 * 2;
        std::printf("vit_b_16 b%-2d warps %d: %.4f ms/layer, %.3f ms x12, %.0f TFLOP/s, %.0f GB/s\n", batch,
                    w, ms, 12 * ms, flop / ms / 1e9, bytes / ms / 1e6);
      }
    for (int w : warp_choices) {
      const Case c{32, 12, 197, 197, 64, 64, Layout::kDense, w, 0.125f};
      const double ms = time_ms(c, 4, 30, 10);
      std::printf("dense [B,H,S,D] b32 warps %d: %.4f ms/layer\n", w, ms);
    }
    for (int w : warp_choices) {
      const Case c{8, 16, 1024, 1024, 128, 128, Layout::kDense, w, 1.f / std::sqrt(128.f)};
      const double ms = time_ms(c, 2, 10, 5);
      std::printf("b8 h16 s1024 d128 warps %d: %.4f ms, %.0f TFLOP/s\n", w, ms,
                  4.0 * 8 * 16 * 1024.0 * 1024 * 128 / ms / 1e9);
    }
  }
  return failed ? 1 : 0;
}
