// FP16 flash attention, FlashAttention-2's loop with register-resident tiles: one CTA of W warps (4, or 8
// where the grid stays large: flash_attention_warps) per (batch, head, block of 16 W queries); each warp owns
// 16 query rows. The warp's Q fragments are loaded once into registers (ldmatrix); per tile of 64 keys the
// scores S = Q K^T accumulate in FP32 registers (mma.sync m16n8k16), the online softmax runs on those
// fragments (row max and sum through the quad's shuffles), P is rounded to FP16 in registers and used
// directly as the A operand of P V (the m16n8k16 accumulator layout of two adjacent n8 tiles is the A layout
// of one k16 step), and O accumulates in FP32 registers. K and V tiles pass through shared memory,
// double-buffered with cp.async; rows are padded by 16 bytes so that ldmatrix's 8 row reads fall on different
// banks. Operands are read, and the output written, through strided views, so the head split / merge copies
// around the layer are not needed.
//
// Head dims: the kernel is instantiated for 64 and 128 (padded); d and dv are multiples of 8 up to that,
// the padding columns are zero-filled in shared memory and the 16-wide steps wholly past d or dv skipped.
// Keys past Sk in the last tile score -inf (their V rows are zero-filled so that 0 * V stays 0); key steps
// wholly past Sk are skipped, as are warps whose 16 rows all lie past Sq.
#include <cuda_fp16.h>

#include <algorithm>
#include <cmath>
#include <cstdint>

#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda::kernels {
namespace {

constexpr int kKeys = 64;  // keys per K / V tile
// K / V tiles in flight. On the H100 a third stage (and waiting for K and V apart, to start Q K^T before V
// lands) was no faster on ViT-B/16's shapes or at 1024 keys, and takes shared memory.
constexpr int kStages = 2;
constexpr int kWarpRows = 16;
constexpr int kMaxHead = 128;
constexpr int kPad = 8;  // halves of padding per shared memory row (16 bytes)

// Shared memory of one CTA: Q [16 W][HD + pad], then kStages stages of K [64][HD + pad] and of V
// [64][HD + pad], all half. The Q rows of a warp later stage its output.
constexpr size_t smem_bytes(int hd, int warps) {
  return (size_t(warps) * kWarpRows + 2 * kStages * size_t(kKeys)) * (hd + kPad) * sizeof(__half);
}

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// 16 bytes from global to shared memory, asynchronously; zeros when !valid (nothing is read then).
__device__ __forceinline__ void cp_async16(__half* dst, const __half* src, bool valid) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_addr(dst)), "l"(src),
               "r"(valid ? 16 : 0)
               : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N) : "memory");
}

__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p))
               : "memory");
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t (&r)[4], const __half* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p))
               : "memory");
}

// c += a b: a 16x16 (row), b 16x8 (col), c 16x8 in FP32.
__device__ __forceinline__ void mma_16816(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_half2(float lo, float hi) {
  const __half2 h = __floats2half2_rn(lo, hi);
  return *reinterpret_cast<const uint32_t*>(&h);
}

__device__ __forceinline__ float exp2_approx(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

// Copies `rows` rows of `cols` halves (a multiple of 8) from a strided source into an [N][HD + pad] tile,
// zeros past them (rows up to N, columns up to HD). Asynchronous (cp.async, 16 bytes) when `vec` (source
// offsets and strides multiples of 8 halves, the pointer 16-byte aligned), else plain loads and stores.
template <int N, int HD, int THREADS>
__device__ __forceinline__ void load_tile(__half* tile, const __half* src, int64_t row_stride, int rows,
                                          int cols, bool vec) {
  constexpr int kWords = HD / 8, kLd = HD + kPad, kStep = THREADS / kWords;  // rows per round
  static_assert(THREADS % kWords == 0 && N % kStep == 0, "whole rounds of 16-byte loads");
  // Each thread keeps one column and walks the rows: one pointer each rather than N * kWords / THREADS
  // addresses held across the kernel's loop.
  int r = static_cast<int>(threadIdx.x) / kWords;
  const int c = (static_cast<int>(threadIdx.x) % kWords) * 8;
  const bool col_ok = c < cols;
  __half* dst = tile + r * kLd + c;
  const __half* p = src + r * row_stride + c;
  const int64_t step = kStep * row_stride;
#pragma unroll 4
  for (int i = 0; i < N / kStep; ++i, r += kStep, dst += kStep * kLd, p += step) {
    const bool valid = col_ok && r < rows;
    if (vec) {
      cp_async16(dst, valid ? p : src, valid);
    } else {
      alignas(16) __half h[8];
#pragma unroll
      for (int e = 0; e < 8; ++e) h[e] = valid ? p[e] : __half(0.f);
      *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(h);
    }
  }
}

template <int HD, int W>
__global__ void __launch_bounds__(W * 32)
    k_flash_attention(const __half* __restrict__ q, AttnView qv, const __half* __restrict__ k, AttnView kv,
                      const __half* __restrict__ v, AttnView vv, __half* __restrict__ y, AttnView yv, int sq,
                      int sk, int d, int dv, float scale_log2, bool vec, bool vec_y) {
  constexpr int kLd = HD + kPad, kRows = W * kWarpRows, kThreads = W * 32;
  constexpr int kSteps = HD / 16;  // k16 steps of Q K^T, and n16 pairs of P V
  extern __shared__ __align__(128) unsigned char smem[];
  __half* qs = reinterpret_cast<__half*>(smem);
  __half* ks = qs + kRows * kLd;            // [kStages][kKeys][kLd]
  __half* vs = ks + kStages * kKeys * kLd;  // [kStages][kKeys][kLd]
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;

  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int q0 = blockIdx.x * kRows;
  const __half* kb = k + kv.offset + b * kv.sb + h * kv.sh;
  const __half* vb = v + vv.offset + b * vv.sb + h * vv.sh;
  const int tiles = (sk + kKeys - 1) / kKeys;
  // Tile i's K and V into stage i % kStages, one cp.async group; committed even when empty, so that the
  // count of groups stays the same in every thread and iteration.
  const auto load_kv = [&](int i) {
    const bool any = i < tiles;
    const int k0 = i * kKeys;
    if (any)
      load_tile<kKeys, HD, kThreads>(ks + (i % kStages) * kKeys * kLd, kb + int64_t{k0} * kv.ss, kv.ss,
                                     min(kKeys, sk - k0), d, vec);
    if (any)
      load_tile<kKeys, HD, kThreads>(vs + (i % kStages) * kKeys * kLd, vb + int64_t{k0} * vv.ss, vv.ss,
                                     min(kKeys, sk - k0), dv, vec);
    cp_async_commit();
  };
  load_tile<kRows, HD, kThreads>(qs, q + qv.offset + b * qv.sb + h * qv.sh + int64_t{q0} * qv.ss, qv.ss,
                                 min(kRows, sq - q0), d, vec);
  for (int i = 0; i < kStages - 1; ++i) load_kv(i);  // Q joins tile 0's group

  // Fragment coordinates (PTX's m16n8k16 layouts): rows g and g + 8 of the warp's 16, columns 2t and 2t + 1
  // of each n8 tile.
  const int t = lane % 4;
  // The row / column this lane addresses in ldmatrix.x4: matrix lane / 8, its row lane % 8.
  const int lm_row = lane % 8 + ((lane / 8) % 2) * 8, lm_col = (lane / 16) * 8;
  const bool active = q0 + warp * kWarpRows < sq;  // warp-uniform

  uint32_t qf[kSteps][4];
  float o[2 * kSteps][4];
#pragma unroll
  for (int n = 0; n < 2 * kSteps; ++n) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

  for (int j = 0; j < tiles; ++j) {
    const int k0 = j * kKeys;
    // Into the stage read in iteration j - 1, which every warp has left (the barrier at its end).
    load_kv(j + kStages - 1);
    // kStages + j groups committed; tile j's, the (j + 1)-th, must be complete.
    cp_async_wait<kStages - 1>();
    __syncthreads();
    const int stage = j % kStages;
    if (active) {
      if (j == 0) {
#pragma unroll
        for (int c = 0; c < kSteps; ++c)
          if (c * 16 < d) ldmatrix_x4(qf[c], qs + (warp * kWarpRows + lm_row) * kLd + c * 16 + lm_col);
      }
      const __half* kt = ks + stage * kKeys * kLd;
      const int keys = min(kKeys, sk - k0);
      // S = Q K^T: K [key][dim] row-major is the col-major B operand. One ldmatrix.x4 gives the B fragments
      // of two n8 key tiles for one k16 step: matrices (keys +0..7 | +8..15) x (dims +0..7 | +8..15).
      float s[kKeys / 8][4];
#pragma unroll
      for (int n = 0; n < kKeys / 16; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) s[2 * n][e] = s[2 * n + 1][e] = 0.f;
        if (n * 16 < keys) {
#pragma unroll
          for (int c = 0; c < kSteps; ++c) {
            if (c * 16 < d) {
              uint32_t bf[4];
              ldmatrix_x4(bf,
                          kt + (n * 16 + lane % 8 + (lane / 16) * 8) * kLd + c * 16 + ((lane / 8) % 2) * 8);
              mma_16816(s[2 * n], qf[c], bf[0], bf[1]);
              mma_16816(s[2 * n + 1], qf[c], bf[2], bf[3]);
            }
          }
        }
      }
      // Online softmax in base 2 (scale_log2 = scale * log2(e)); keys past sk score -inf.
      const bool partial = keys < kKeys;
      float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          float x = s[n][e] * scale_log2;
          if (partial && n * 8 + 2 * t + (e & 1) >= keys) x = -INFINITY;
          s[n][e] = x;
          mx[e / 2] = fmaxf(mx[e / 2], x);
        }
      }
      float alpha[2], base[2];
#pragma unroll
      for (int r = 0; r < 2; ++r) {
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 1));
        mx[r] = fmaxf(mx[r], __shfl_xor_sync(0xffffffffu, mx[r], 2));
        const float m_new = fmaxf(m[r], mx[r]);
        base[r] = m_new == -INFINITY ? 0.f : m_new;  // a row of -inf scores (infinite inputs) stays finite
        alpha[r] = exp2_approx(m[r] - base[r]);
        m[r] = m_new;
      }
      float sum[2] = {0.f, 0.f};
#pragma unroll
      for (int n = 0; n < kKeys / 8; ++n) {
#pragma unroll
        for (int e = 0; e < 4; ++e) {
          s[n][e] = exp2_approx(s[n][e] - base[e / 2]);
          sum[e / 2] += s[n][e];
        }
      }
#pragma unroll
      for (int r = 0; r < 2; ++r) l[r] = l[r] * alpha[r] + sum[r];  // per lane; the quad sums at the end
#pragma unroll
      for (int n = 0; n < 2 * kSteps; ++n) {
        o[n][0] *= alpha[0], o[n][1] *= alpha[0];
        o[n][2] *= alpha[1], o[n][3] *= alpha[1];
      }
      const __half* vt = vs + stage * kKeys * kLd;
      // O += P V, P's A fragment for keys [16 c, 16 c + 16) being S's accumulators of n8 tiles 2c and 2c + 1.
      // V [key][dim] row-major is the row-major B operand: ldmatrix.trans, matrices (keys +0..7 | +8..15) x
      // (dims +0..7 | +8..15) give the B fragments of two n8 dim tiles.
#pragma unroll
      for (int c = 0; c < kKeys / 16; ++c) {
        if (c * 16 < keys) {
          const uint32_t pa[4] = {pack_half2(s[2 * c][0], s[2 * c][1]), pack_half2(s[2 * c][2], s[2 * c][3]),
                                  pack_half2(s[2 * c + 1][0], s[2 * c + 1][1]),
                                  pack_half2(s[2 * c + 1][2], s[2 * c + 1][3])};
#pragma unroll
          for (int n = 0; n < kSteps; ++n) {
            if (n * 16 < dv) {
              uint32_t bf[4];
              ldmatrix_x4_trans(bf, vt + (c * 16 + lm_row) * kLd + n * 16 + lm_col);
              mma_16816(o[2 * n], pa, bf[0], bf[1]);
              mma_16816(o[2 * n + 1], pa, bf[2], bf[3]);
            }
          }
        }
      }
    }
    __syncthreads();  // every warp is done with this stage before the next iteration refills it
  }
  if (!active) return;

  // Y = O / l, staged as FP16 through the warp's own Q rows (read only by this warp, before the loop's
  // last barrier), then written through the output's view in 16-byte words where aligned.
  float inv[2];
#pragma unroll
  for (int r = 0; r < 2; ++r) {
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 1);
    l[r] += __shfl_xor_sync(0xffffffffu, l[r], 2);
    inv[r] = l[r] > 0.f ? 1.f / l[r] : 0.f;
  }
  __half* os = qs + warp * kWarpRows * kLd;
  const int g = lane / 4;
#pragma unroll
  for (int n = 0; n < 2 * kSteps; ++n) {
    *reinterpret_cast<uint32_t*>(os + g * kLd + n * 8 + 2 * t) =
        pack_half2(o[n][0] * inv[0], o[n][1] * inv[0]);
    *reinterpret_cast<uint32_t*>(os + (g + 8) * kLd + n * 8 + 2 * t) =
        pack_half2(o[n][2] * inv[1], o[n][3] * inv[1]);
  }
  __syncwarp();
  const int r0 = q0 + warp * kWarpRows, rows = min(kWarpRows, sq - r0), words = dv / 8;
  __half* yb = y + yv.offset + b * yv.sb + h * yv.sh + int64_t{r0} * yv.ss;
  for (int i = lane; i < rows * words; i += 32) {
    const int r = i / words, c = (i % words) * 8;
    const __half* src = os + r * kLd + c;
    __half* dst = yb + r * yv.ss + c;
    if (vec_y) {
      *reinterpret_cast<uint4*>(dst) = *reinterpret_cast<const uint4*>(src);
    } else {
#pragma unroll
      for (int e = 0; e < 8; ++e) dst[e] = src[e];
    }
  }
}

// The kernel for head dims up to HD and W warps, and its shared memory.
using Kernel = void (*)(const __half*, AttnView, const __half*, AttnView, const __half*, AttnView, __half*,
                        AttnView, int, int, int, int, float, bool, bool);
struct Variant {
  Kernel kernel;
  size_t smem;
};
constexpr int kWarpChoices[] = {4, 8};

template <int HD>
Variant variant_for(int warps) {
  if (warps == 8) return {k_flash_attention<HD, 8>, smem_bytes(HD, 8)};
  return {k_flash_attention<HD, 4>, smem_bytes(HD, 4)};
}

Variant variant(int64_t d, int64_t dv, int warps) {
  return d <= 64 && dv <= 64 ? variant_for<64>(warps) : variant_for<kMaxHead>(warps);
}

}  // namespace

// Warps per CTA: 8 (128 queries, each K / V tile read into shared memory once for twice the rows) where
// that still gives every multiprocessor two CTAs, else 4. On the H100, CTAs of 1 or 2 warps were slower
// even where 4-warp CTAs left most multiprocessors idle (ViT-B/16 at batch 1: 48 CTAs on 132): a CTA's time
// is its warps' walk over the keys, whatever their number.
int flash_attention_warps(int64_t batch, int64_t heads, int64_t sq) {
  int dev = 0, sms = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev) != cudaSuccess)
    sms = 1;
  return batch * heads * ((sq + 8 * kWarpRows - 1) / (8 * kWarpRows)) >= 2 * sms ? 8 : 4;
}

size_t flash_attention_smem(int64_t d, int64_t dv) {
  size_t most = 0;
  for (int w : kWarpChoices) most = std::max(most, variant(d, dv, w).smem);
  return most;
}

bool flash_attention_fits(int64_t d, int64_t dv, int64_t sq, int64_t sk) {
  return d > 0 && dv > 0 && d % 8 == 0 && dv % 8 == 0 && d <= kMaxHead && dv <= kMaxHead && sq > 0 &&
         sk > 0 && sq < (int64_t{1} << 30) && sk < (int64_t{1} << 30);
}

cudaError_t flash_attention_setup() {
  // Above the default 48 KiB of shared memory a kernel must opt in. Not at launch: the launches may be
  // captured into a CUDA graph. Each variant's need, or what the device allows.
  int dev = 0, optin = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  for (int64_t hd : {64, kMaxHead})
    for (int w : kWarpChoices) {
      if (e != cudaSuccess) return e;
      const Variant var = variant(hd, hd, w);
      e = cudaFuncSetAttribute(var.kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                               static_cast<int>(std::min(var.smem, static_cast<size_t>(optin))));
    }
  return e;
}

cudaError_t flash_attention_f16(const void* q, const AttnView& qv, const void* k, const AttnView& kv,
                                const void* v, const AttnView& vv, void* y, const AttnView& yv, int64_t batch,
                                int64_t heads, int64_t sq, int64_t sk, int64_t d, int64_t dv, float scale,
                                cudaStream_t s, int warps) {
  // 16-byte accesses when every row of the operand starts 16-byte aligned.
  const auto aligned = [](const void* p, const AttnView& a) {
    return reinterpret_cast<uintptr_t>(p) % 16 == 0 && a.offset % 8 == 0 && a.sb % 8 == 0 && a.sh % 8 == 0 &&
           a.ss % 8 == 0;
  };
  const bool vec = aligned(q, qv) && aligned(k, kv) && aligned(v, vv), vec_y = aligned(y, yv);
  if (warps != 4 && warps != 8) warps = flash_attention_warps(batch, heads, sq);
  const Variant var = variant(d, dv, warps);
  const int64_t rows = int64_t{warps} * kWarpRows;
  const dim3 grid(static_cast<unsigned>((sq + rows - 1) / rows), static_cast<unsigned>(heads),
                  static_cast<unsigned>(batch));
  var.kernel<<<grid, warps * 32, var.smem, s>>>(
      static_cast<const __half*>(q), qv, static_cast<const __half*>(k), kv, static_cast<const __half*>(v), vv,
      static_cast<__half*>(y), yv, static_cast<int>(sq), static_cast<int>(sk), static_cast<int>(d),
      static_cast<int>(dv), scale * 1.4426950408889634f, vec, vec_y);
  return cudaPeekAtLastError();
}

}  // namespace ingot::backends::cuda::kernels
