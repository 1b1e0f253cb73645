// FP16 flash attention (FlashAttention-2's loop, without the mask): one CTA of 4 warps per (batch, head,
// block of 64 queries). The Q block sits in shared memory; K and V pass through in tiles of 64 keys; each
// warp owns 16 query rows and keeps their running max, sum and output in FP32 (online softmax), so the
// Sq x Sk scores never reach global memory. The two products run on tensor cores through nvcuda::wmma
// (16x16x16 half, float accumulators). Operands are read, and the output written, through strided views,
// so the head split / merge copies around the layer are not needed.
#include <cuda_fp16.h>
#include <mma.h>

#include <cfloat>
#include <cstdint>

#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda::kernels {
namespace {

using namespace nvcuda;  // NOLINT(google-build-using-namespace)

constexpr int kRows = 64;  // queries per CTA
constexpr int kKeys = 64;  // keys per K / V tile
constexpr int kWarps = 4;  // 16 query rows each
constexpr int kWarpRows = 16;
constexpr int kMaxHead = 128;
// Row strides (elements) of the per-warp S, P and O, padded so that the lanes of different rows, which
// walk them in step, fall on different shared memory banks.
constexpr int kSld = kKeys + 4, kPld = kKeys + 8;

// The shared memory of one CTA, in bytes: Q [64][dp], K [64][dp], V [64][dvp] (half); per warp the scores
// S [16][kSld] (float), the probabilities P [16][kPld] (half) and the output O [16][dvp + 4] (float); per
// row the running max and sum. Every part starts 128-byte aligned.
struct Smem {
  int dp, dvp;
  __host__ __device__ int old() const { return dvp + 4; }
  __host__ __device__ size_t q() const { return 0; }
  __host__ __device__ size_t k() const { return q() + size_t(kRows) * dp * 2; }
  __host__ __device__ size_t v() const { return k() + size_t(kKeys) * dp * 2; }
  __host__ __device__ size_t s() const { return v() + size_t(kKeys) * dvp * 2; }
  __host__ __device__ size_t p() const { return s() + size_t(kRows) * kSld * 4; }
  __host__ __device__ size_t o() const { return p() + size_t(kRows) * kPld * 2; }
  __host__ __device__ size_t stats() const { return o() + size_t(kRows) * old() * 4; }
  __host__ __device__ size_t bytes() const { return stats() + size_t(kRows) * 2 * 4; }
};

// Copies `rows` rows of `cols` halves (a multiple of 8) from a strided source into a [n][ld] tile, zeros
// past them (rows up to n, columns up to ld). 16-byte words when `vec` (source offsets and strides are
// multiples of 8 halves and the pointer is 16-byte aligned).
__device__ void load_tile(__half* tile, int n, int ld, const __half* src, int64_t row_stride, int rows,
                          int cols, bool vec) {
  const int words = ld / 8;
  for (int i = threadIdx.x; i < n * words; i += blockDim.x) {
    const int r = i / words, c = (i % words) * 8;
    uint4 w = make_uint4(0, 0, 0, 0);
    if (r < rows && c < cols) {
      const __half* p = src + r * row_stride + c;
      if (vec) {
        w = *reinterpret_cast<const uint4*>(p);
      } else {
        alignas(16) __half h[8];
#pragma unroll
        for (int j = 0; j < 8; ++j) h[j] = p[j];
        w = *reinterpret_cast<const uint4*>(h);
      }
    }
    *reinterpret_cast<uint4*>(tile + r * ld + c) = w;
  }
}

__global__ void __launch_bounds__(kWarps * 32)
    k_flash_attention(const __half* __restrict__ q, AttnView qv, const __half* __restrict__ k, AttnView kv,
                      const __half* __restrict__ v, AttnView vv, __half* __restrict__ y, AttnView yv, int sq,
                      int sk, int d, int dv, float scale_log2, bool vec) {
  extern __shared__ __align__(128) unsigned char smem[];
  const Smem L{(d + 15) / 16 * 16, (dv + 15) / 16 * 16};
  const int dp = L.dp, dvp = L.dvp, o_ld = L.old();
  __half* qs = reinterpret_cast<__half*>(smem + L.q());
  __half* ks = reinterpret_cast<__half*>(smem + L.k());
  __half* vs = reinterpret_cast<__half*>(smem + L.v());
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  float* s_w = reinterpret_cast<float*>(smem + L.s()) + warp * kWarpRows * kSld;
  __half* p_w = reinterpret_cast<__half*>(smem + L.p()) + warp * kWarpRows * kPld;
  float* o_w = reinterpret_cast<float*>(smem + L.o()) + warp * kWarpRows * o_ld;
  float* m_w = reinterpret_cast<float*>(smem + L.stats()) + warp * kWarpRows;
  float* l_w = m_w + kRows;

  const int64_t b = blockIdx.z, h = blockIdx.y;
  const int q0 = blockIdx.x * kRows;
  const int rows = min(kRows, sq - q0);
  load_tile(qs, kRows, dp, q + qv.offset + b * qv.sb + h * qv.sh + q0 * qv.ss, qv.ss, rows, d, vec);
  for (int i = lane; i < kWarpRows * o_ld; i += 32) o_w[i] = 0.f;
  if (lane < kWarpRows) {
    m_w[lane] = -FLT_MAX;
    l_w[lane] = 0.f;
  }
  const __half* kb = k + kv.offset + b * kv.sb + h * kv.sh;
  const __half* vb = v + vv.offset + b * vv.sb + h * vv.sh;
  // Two lanes per query row, each over half of the tile's 64 keys / of the output's columns.
  const int row = lane % kWarpRows, half_id = lane / kWarpRows;
  for (int k0 = 0; k0 < sk; k0 += kKeys) {
    const int keys = min(kKeys, sk - k0);
    __syncthreads();  // every warp is done with the previous tiles
    load_tile(ks, kKeys, dp, kb + k0 * kv.ss, kv.ss, keys, d, vec);
    load_tile(vs, kKeys, dvp, vb + k0 * vv.ss, vv.ss, keys, dv, vec);
    __syncthreads();
    // S = Q_w K^T: K stored [key][dim] row-major is K^T column-major.
    for (int j = 0; j < kKeys / 16; ++j) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.f);
      for (int c = 0; c < dp; c += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> bt;
        wmma::load_matrix_sync(a, qs + warp * kWarpRows * dp + c, dp);
        wmma::load_matrix_sync(bt, ks + j * 16 * dp + c, dp);
        wmma::mma_sync(acc, a, bt, acc);
      }
      wmma::store_matrix_sync(s_w + j * 16, acc, kSld, wmma::mem_row_major);
    }
    __syncwarp();
    // Online softmax over this tile, in base 2 (scale_log2 = scale * log2(e)).
    const float* srow = s_w + row * kSld + half_id * 32;
    float mx = -FLT_MAX;
    for (int j = 0; j < 32; ++j)
      if (half_id * 32 + j < keys) mx = fmaxf(mx, srow[j] * scale_log2);
    mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 16));
    const float m_old = m_w[row], m_new = fmaxf(m_old, mx);
    float sum = 0.f;
    __half* prow = p_w + row * kPld + half_id * 32;
    for (int j = 0; j < 32; ++j) {
      const float e = half_id * 32 + j < keys ? exp2f(srow[j] * scale_log2 - m_new) : 0.f;
      prow[j] = __float2half(e);
      sum += e;
    }
    sum += __shfl_xor_sync(0xffffffffu, sum, 16);
    const float alpha = exp2f(m_old - m_new);
    float* orow = o_w + row * o_ld;
    for (int c = half_id; c < dvp; c += 2) orow[c] *= alpha;
    __syncwarp();
    if (half_id == 0) {
      m_w[row] = m_new;
      l_w[row] = l_w[row] * alpha + sum;
    }
    __syncwarp();
    // O_w += P_w V.
    for (int n = 0; n < dvp; n += 16) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, o_w + n, o_ld, wmma::mem_row_major);
      for (int c = 0; c < kKeys; c += 16) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> bm;
        wmma::load_matrix_sync(a, p_w + c, kPld);
        wmma::load_matrix_sync(bm, vs + c * dvp + n, dvp);
        wmma::mma_sync(acc, a, bm, acc);
      }
      wmma::store_matrix_sync(o_w + n, acc, o_ld, wmma::mem_row_major);
    }
    __syncwarp();
  }
  // Y = O / l through the output's view.
  const int r0 = warp * kWarpRows;
  __half* yb = y + yv.offset + b * yv.sb + h * yv.sh;
  for (int i = lane; i < kWarpRows * dv; i += 32) {
    const int r = i / dv, c = i % dv;
    if (r0 + r < rows) yb[(q0 + r0 + r) * yv.ss + c] = __float2half(o_w[r * o_ld + c] / l_w[r]);
  }
}

}  // namespace

size_t flash_attention_smem(int64_t d, int64_t dv) {
  return Smem{static_cast<int>((d + 15) / 16 * 16), static_cast<int>((dv + 15) / 16 * 16)}.bytes();
}

bool flash_attention_fits(int64_t d, int64_t dv, int64_t sq, int64_t sk) {
  return d > 0 && dv > 0 && d % 8 == 0 && dv % 8 == 0 && d <= kMaxHead && dv <= kMaxHead && sq > 0 &&
         sk > 0 && sq < (int64_t{1} << 30) && sk < (int64_t{1} << 30);
}

cudaError_t flash_attention_setup() {
  // Above the default 48 KiB of shared memory the kernel must opt in. Not at launch: the launches may be
  // captured into a CUDA graph. The largest head dims' need (or what the device allows), so that no layer
  // lowers the cap another needs.
  int dev = 0, optin = 0;
  cudaError_t e = cudaGetDevice(&dev);
  if (e == cudaSuccess) e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
  if (e != cudaSuccess) return e;
  const size_t most = flash_attention_smem(kMaxHead, kMaxHead);
  return cudaFuncSetAttribute(k_flash_attention, cudaFuncAttributeMaxDynamicSharedMemorySize,
                              static_cast<int>(most < static_cast<size_t>(optin) ? most : optin));
}

cudaError_t flash_attention_f16(const void* q, const AttnView& qv, const void* k, const AttnView& kv,
                                const void* v, const AttnView& vv, void* y, const AttnView& yv, int64_t batch,
                                int64_t heads, int64_t sq, int64_t sk, int64_t d, int64_t dv, float scale,
                                cudaStream_t s) {
  const size_t smem = flash_attention_smem(d, dv);
  // 16-byte loads when every row of every operand starts 16-byte aligned.
  bool vec = true;
  for (const void* p : {q, k, v}) vec = vec && reinterpret_cast<uintptr_t>(p) % 16 == 0;
  for (const AttnView* a : {&qv, &kv, &vv})
    vec = vec && a->offset % 8 == 0 && a->sb % 8 == 0 && a->sh % 8 == 0 && a->ss % 8 == 0;
  const dim3 grid(static_cast<unsigned>((sq + kRows - 1) / kRows), static_cast<unsigned>(heads),
                  static_cast<unsigned>(batch));
  k_flash_attention<<<grid, kWarps * 32, smem, s>>>(
      static_cast<const __half*>(q), qv, static_cast<const __half*>(k), kv, static_cast<const __half*>(v), vv,
      static_cast<__half*>(y), yv, static_cast<int>(sq), static_cast<int>(sk), static_cast<int>(d),
      static_cast<int>(dv), scale * 1.4426950408889634f, vec);
  return cudaPeekAtLastError();
}

}  // namespace ingot::backends::cuda::kernels
