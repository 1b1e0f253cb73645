#include <cuda_fp16.h>

#include <cfloat>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda::kernels {
namespace {

constexpr int kThreads = 256;

inline unsigned blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<unsigned>(b < 65535 * 32 ? (b > 0 ? b : 1) : 65535 * 32);
}

__device__ __forceinline__ float load(const float* p, int64_t i) { return p[i]; }
__device__ __forceinline__ float load(const __half* p, int64_t i) { return __half2float(p[i]); }
__device__ __forceinline__ void store(float* p, int64_t i, float v) { p[i] = v; }
__device__ __forceinline__ void store(__half* p, int64_t i, float v) { p[i] = __float2half(v); }

__device__ __forceinline__ float apply(FnParams f, float x) {
  switch (f.fn) {
    case Fn::kNone:
      return x;
    case Fn::kRelu:
      return x > 0.f ? x : 0.f;
    case Fn::kLeakyRelu:
      return x >= 0.f ? x : f.alpha * x;
    case Fn::kClip:
      return fminf(fmaxf(x, f.alpha), f.beta);
    case Fn::kSigmoid:
      return 1.f / (1.f + expf(-x));
    case Fn::kHardSigmoid:
      return fminf(fmaxf(f.alpha * x + f.beta, 0.f), 1.f);
    case Fn::kHardSwish:
      return x * fminf(fmaxf(x / 6.f + 0.5f, 0.f), 1.f);
    case Fn::kSilu:
      return x / (1.f + expf(-x));
    case Fn::kGelu:
      return 0.5f * x * (1.f + erff(x * 0.70710678118654752f));
    case Fn::kGeluTanh:
      return 0.5f * x * (1.f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    case Fn::kTanh:
      return tanhf(x);
    case Fn::kExp:
      return expf(x);
    case Fn::kLog:
      return logf(x);
    case Fn::kSqrt:
      return sqrtf(x);
    case Fn::kNeg:
      return -x;
    case Fn::kAbs:
      return fabsf(x);
    case Fn::kErf:
      return erff(x);
    case Fn::kReciprocal:
      return 1.f / x;
  }
  return x;
}

// The loops run over every possible axis with constant indices (fully unrolled): indexing the map with a
// run-time bound would copy it from the parameter space to local memory in every thread.
__device__ __forceinline__ int64_t source_index(const Strided& m, int64_t i) {
  int64_t off = m.offset;
#pragma unroll
  for (int d = kMaxRank - 1; d >= 0; --d) {
    if (d < m.rank) {
      const int64_t q = i / m.dims[d];
      off += (i - q * m.dims[d]) * m.strides[d];
      i = q;
    }
  }
  return off;
}

// The same in 32-bit arithmetic (integer division is several times cheaper), for maps whose indices fit.
struct Strided32 {
  int rank = 0;
  int32_t dims[kMaxRank] = {};
  int32_t strides[kMaxRank] = {};
  int32_t offset = 0;
};

__device__ __forceinline__ int32_t source_index(const Strided32& m, int32_t i) {
  int32_t off = m.offset;
#pragma unroll
  for (int d = kMaxRank - 1; d >= 0; --d) {
    if (d < m.rank) {
      const int32_t q = i / m.dims[d];
      off += (i - q * m.dims[d]) * m.strides[d];
      i = q;
    }
  }
  return off;
}

// Drops size-1 dims and merges neighbours that are contiguous in the source, so fewer divisions remain.
Strided simplify(const Strided& m) {
  Strided o;
  o.offset = m.offset;
  for (int d = 0; d < m.rank; ++d) {
    if (m.dims[d] == 1) continue;
    if (o.rank > 0 && o.strides[o.rank - 1] == m.strides[d] * m.dims[d]) {
      o.dims[o.rank - 1] *= m.dims[d];
      o.strides[o.rank - 1] = m.strides[d];
      continue;
    }
    o.dims[o.rank] = m.dims[d];
    o.strides[o.rank] = m.strides[d];
    ++o.rank;
  }
  return o;
}

bool fits32(const Strided& m, int64_t n) {
  int64_t hi = m.offset;
  for (int d = 0; d < m.rank; ++d) hi += (m.dims[d] - 1) * (m.strides[d] < 0 ? -m.strides[d] : m.strides[d]);
  return n < (int64_t(1) << 31) && hi < (int64_t(1) << 31) && m.offset >= 0;
}

Strided32 to32(const Strided& m) {
  Strided32 o;
  o.rank = m.rank;
  o.offset = static_cast<int32_t>(m.offset);
  for (int d = 0; d < m.rank; ++d) {
    o.dims[d] = static_cast<int32_t>(m.dims[d]);
    o.strides[d] = static_cast<int32_t>(m.strides[d]);
  }
  return o;
}

bool is_identity(const Strided& m) {
  return m.offset == 0 && (m.rank == 0 || (m.rank == 1 && m.strides[0] == 1));
}

template <typename T, typename I>
__global__ void k_epilogue(T* y, const T* x, const T* bias, const T* z, I n, I inner, I channels,
                           FnParams f) {
  for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x) {
    float v = load(x, i);
    if (bias) v += load(bias, (i / inner) % channels);
    if (z) v += load(z, i);
    store(y, i, apply(f, v));
  }
}

template <typename T, typename M, typename I>
__global__ void k_binary(T* y, const T* a, M am, const T* b, M bm, BinOp op, I n, bool a_id) {
  for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x) {
    const float u = load(a, a_id ? i : source_index(am, i)), v = load(b, source_index(bm, i));
    float r;
    switch (op) {
      case BinOp::kAdd:
        r = u + v;
        break;
      case BinOp::kSub:
        r = u - v;
        break;
      case BinOp::kMul:
        r = u * v;
        break;
      case BinOp::kDiv:
        r = u / v;
        break;
      case BinOp::kPow:
        r = powf(u, v);
        break;
      case BinOp::kMax:
        r = fmaxf(u, v);
        break;
      default:
        r = fminf(u, v);
        break;
    }
    store(y, i, r);
  }
}

template <typename E, typename M, typename I>
__global__ void k_strided_copy(E* y, const E* x, M m, I n) {
  for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x)
    y[i] = x[source_index(m, i)];
}

template <typename E, typename I>
__global__ void k_gather(E* y, const E* x, const int64_t* idx, I outer, I axis, I n_idx, I inner) {
  const I n = outer * n_idx * inner;
  for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < n; i += (I)gridDim.x * blockDim.x) {
    const I in = i % inner, j = (i / inner) % n_idx, o = i / (inner * n_idx);
    I k = static_cast<I>(idx[j]);
    if (k < 0) k += axis;
    k = k < 0 ? 0 : (k >= axis ? axis - 1 : k);  // the builder checked constant indices
    y[i] = x[(o * axis + k) * inner + in];
  }
}

__global__ void k_f32_to_f16(const float* x, __half* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x)
    y[i] = __float2half(x[i]);
}
// Symmetric int8: q = clamp(round(x * inv_scale), -127, 127). Eight elements a thread where x and y are
// 16- and 8-byte aligned (vec), else one.
__device__ __forceinline__ int8_t quantize_s8(float x, float inv_scale) {
  const int q = __float2int_rn(x * inv_scale);
  return static_cast<int8_t>(q < -127 ? -127 : (q > 127 ? 127 : q));
}
template <typename T>
__global__ void k_quantize_s8(const T* x, int8_t* y, int64_t n, float inv_scale, bool vec) {
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if constexpr (std::is_same_v<T, __half>) {  // vec: 8 halves a 16-byte load
    if (vec) {
      for (; i * 8 + 8 <= n; i += stride) {
        const uint4 v = reinterpret_cast<const uint4*>(x)[i];
        const __half* h = reinterpret_cast<const __half*>(&v);
        union {
          uint2 u;
          int8_t q[8];
        } out;
#pragma unroll
        for (int j = 0; j < 8; ++j) out.q[j] = quantize_s8(__half2float(h[j]), inv_scale);
        reinterpret_cast<uint2*>(y)[i] = out.u;
      }
      for (int64_t t = (n / 8) * 8 + blockIdx.x * (int64_t)blockDim.x + threadIdx.x; t < n; t += stride)
        y[t] = quantize_s8(load(x, t), inv_scale);
      return;
    }
  }
  for (; i < n; i += stride) y[i] = quantize_s8(load(x, i), inv_scale);
}
__global__ void k_f16_to_f32(const __half* x, float* y, int64_t n) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x)
    y[i] = __half2float(x[i]);
}

template <typename T>
__global__ void k_pool2d(T* y, const T* x, int64_t nc, int h, int w, int oh, int ow, int kh, int kw, int sh,
                         int sw, int ph, int pw, int dh, int dw, bool max, bool include_pad, int64_t c_last) {
  const int64_t n = nc * oh * ow;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    // NCHW: i = (plane, oy, ox); NHWC (c_last = C): i = (image, oy, ox, c), pixels C elements apart.
    const int64_t c = c_last ? i % c_last : 0, j = c_last ? i / c_last : i, step = c_last ? c_last : 1;
    const int ox = static_cast<int>(j % ow), oy = static_cast<int>((j / ow) % oh);
    const int64_t plane = j / (static_cast<int64_t>(ow) * oh);
    const T* xp = x + plane * h * w * step + c;
    float acc = max ? -FLT_MAX : 0.f;
    int count = 0;
    for (int ky = 0; ky < kh; ++ky) {
      const int iy = oy * sh - ph + ky * dh;
      for (int kx = 0; kx < kw; ++kx) {
        const int ix = ox * sw - pw + kx * dw;
        const bool inside = iy >= 0 && iy < h && ix >= 0 && ix < w;
        if (inside) {
          const float v = load(xp, (static_cast<int64_t>(iy) * w + ix) * step);
          acc = max ? fmaxf(acc, v) : acc + v;
          ++count;
        } else if (include_pad && iy < h + ph && ix < w + pw) {
          ++count;  // a padded position inside the padded extent counts for the average
        }
      }
    }
    store(y, i, max ? acc : (count ? acc / count : 0.f));
  }
}

// V consecutive elements of a channels-last tensor as one 16-byte (or, for V = 1, one-element) access.
template <typename T, int V>
struct Vec {
  T v[V];
};
template <typename T, int V>
__device__ __forceinline__ void load_vec(const T* p, float (&out)[V]) {
  const Vec<T, V> r = *reinterpret_cast<const Vec<T, V>*>(p);
#pragma unroll
  for (int e = 0; e < V; ++e) out[e] = load(r.v, e);
}
template <typename T, int V>
__device__ __forceinline__ void store_vec(T* p, const float (&in)[V]) {
  Vec<T, V> r;
#pragma unroll
  for (int e = 0; e < V; ++e) store(r.v, e, in[e]);
  *reinterpret_cast<Vec<T, V>*>(p) = r;
}

// The epilogue on V consecutive elements a thread (one 16-byte access per operand): for n a multiple of V and
// 16-byte aligned operands; a bias per channel needs the channels innermost (inner 1, channels a multiple of
// V: V consecutive channels) or planes of a multiple of V elements (inner % V == 0: one channel).
template <typename T, int V, typename I>
__global__ void __launch_bounds__(256)
    k_epilogue_vec(T* y, const T* x, const T* bias, const T* z, I nv, I inner, I channels, FnParams f) {
  for (I i = blockIdx.x * (I)blockDim.x + threadIdx.x; i < nv; i += (I)gridDim.x * blockDim.x) {
    float v[V], t[V];
    load_vec<T, V>(x + i * V, v);
    if (bias) {
      if (inner == 1) {
        load_vec<T, V>(bias + (i * V) % channels, t);
      } else {
        const float b = load(bias, (i * V / inner) % channels);
#pragma unroll
        for (int e = 0; e < V; ++e) t[e] = b;
      }
#pragma unroll
      for (int e = 0; e < V; ++e) v[e] += t[e];
    }
    if (z) {
      load_vec<T, V>(z + i * V, t);
#pragma unroll
      for (int e = 0; e < V; ++e) v[e] += t[e];
    }
#pragma unroll
    for (int e = 0; e < V; ++e) v[e] = apply(f, v[e]);
    store_vec<T, V>(y + i * V, v);
  }
}

// Where thread-item i of a channels-last kernel works: channel group cg (of cv), output row oy, first output
// column ox (of `cols` column groups of `per_col` pixels each) and image, with the groups fastest.
struct NhwcPos {
  int cg, ox, oy;
  int64_t img;
};
__device__ __forceinline__ NhwcPos nhwc_pos(int64_t i, int cv, int cols, int per_col, int oh) {
  NhwcPos p;
  p.cg = static_cast<int>(i % cv);
  const int64_t pix = i / cv;
  p.ox = static_cast<int>(pix % cols) * per_col;
  p.oy = static_cast<int>((pix / cols) % oh);
  p.img = pix / (static_cast<int64_t>(cols) * oh);
  return p;
}

// Channels-last pooling, V channels of one output pixel per thread.
template <typename T, int V>
__global__ void __launch_bounds__(256)
    k_pool2d_nhwc(T* y, const T* x, int images, int c, int h, int w, int oh, int ow, int kh, int kw, int sh,
                  int sw, int ph, int pw, int dh, int dw, bool max, bool include_pad) {
  const int cv = c / V;
  const int64_t n = static_cast<int64_t>(images) * oh * ow * cv;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const auto [cg, ox, oy, img] = nhwc_pos(i, cv, ow, 1, oh);
    const T* xp = x + img * h * w * c + cg * V;
    float acc[V], v[V];
#pragma unroll
    for (int e = 0; e < V; ++e) acc[e] = max ? -FLT_MAX : 0.f;
    int count = 0;
    for (int ky = 0; ky < kh; ++ky) {
      const int iy = oy * sh - ph + ky * dh;
      for (int kx = 0; kx < kw; ++kx) {
        const int ix = ox * sw - pw + kx * dw;
        if (iy >= 0 && iy < h && ix >= 0 && ix < w) {
          load_vec<T, V>(xp + (static_cast<int64_t>(iy) * w + ix) * c, v);
#pragma unroll
          for (int e = 0; e < V; ++e) acc[e] = max ? fmaxf(acc[e], v[e]) : acc[e] + v[e];
          ++count;
        } else if (include_pad && iy < h + ph && ix < w + pw) {
          ++count;
        }
      }
    }
    if (!max)
#pragma unroll
      for (int e = 0; e < V; ++e) acc[e] = count ? acc[e] / count : 0.f;
    store_vec<T, V>(y + ((img * oh + oy) * ow + ox) * c + cg * V, acc);
  }
}

// Calls f(offset of the tap in a channels-last image) for each tap of output (oy, ox)'s window that falls
// inside the image (max pooling: padding never enters).
template <typename F>
__device__ __forceinline__ void for_each_tap(int oy, int ox, int h, int w, int c, int kh, int kw, int sh,
                                             int sw, int ph, int pw, int dh, int dw, F f) {
  for (int ky = 0; ky < kh; ++ky) {
    const int iy = oy * sh - ph + ky * dh;
    if (iy < 0 || iy >= h) continue;
    for (int kx = 0; kx < kw; ++kx) {
      const int ix = ox * sw - pw + kx * dw;
      if (ix >= 0 && ix < w) f((static_cast<int64_t>(iy) * w + ix) * c);
    }
  }
}

// Channels-last max pooling into an s8 tensor, from an s8 one (the max commutes with the quantization;
// V = 16 channels a thread through __vmaxs4 on 4 lanes a word, or 1) or from an FP16 one quantized at
// inv_scale (V = 8 or 1). V > 1 needs c a multiple of V and 16-byte aligned x (and y to V bytes).
template <typename T, int V>
__global__ void __launch_bounds__(256)
    k_maxpool_nhwc_to_s8(int8_t* y, const T* x, int images, int c, int h, int w, int oh, int ow, int kh,
                         int kw, int sh, int sw, int ph, int pw, int dh, int dw, float inv_scale) {
  const int cv = c / V;
  const int64_t n = static_cast<int64_t>(images) * oh * ow * cv;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const auto [cg, ox, oy, img] = nhwc_pos(i, cv, ow, 1, oh);
    const T* xp = x + img * h * w * c + cg * V;
    int8_t* yp = y + ((img * oh + oy) * ow + ox) * c + cg * V;
    if constexpr (std::is_same_v<T, int8_t> && V == 16) {
      uint4 acc = make_uint4(0x80808080u, 0x80808080u, 0x80808080u, 0x80808080u);
      for_each_tap(oy, ox, h, w, c, kh, kw, sh, sw, ph, pw, dh, dw, [&](int64_t o) {
        const uint4 v = *reinterpret_cast<const uint4*>(xp + o);
        acc = make_uint4(__vmaxs4(acc.x, v.x), __vmaxs4(acc.y, v.y), __vmaxs4(acc.z, v.z),
                         __vmaxs4(acc.w, v.w));
      });
      *reinterpret_cast<uint4*>(yp) = acc;
    } else if constexpr (std::is_same_v<T, int8_t>) {
      int acc = -128;
      for_each_tap(oy, ox, h, w, c, kh, kw, sh, sw, ph, pw, dh, dw,
                   [&](int64_t o) { acc = max(acc, static_cast<int>(xp[o])); });
      *yp = static_cast<int8_t>(acc);
    } else {
      float acc[V], v[V];
#pragma unroll
      for (int e = 0; e < V; ++e) acc[e] = -FLT_MAX;
      for_each_tap(oy, ox, h, w, c, kh, kw, sh, sw, ph, pw, dh, dw, [&](int64_t o) {
        load_vec<T, V>(xp + o, v);
#pragma unroll
        for (int e = 0; e < V; ++e) acc[e] = fmaxf(acc[e], v[e]);
      });
      union {
        int8_t q[V];
        uint2 u;
      } out;
#pragma unroll
      for (int e = 0; e < V; ++e) out.q[e] = quantize_s8(acc[e], inv_scale);
      if constexpr (V == 8)
        *reinterpret_cast<uint2*>(yp) = out.u;
      else
        *yp = out.q[0];
    }
  }
}

// Channels-last depthwise convolution (one filter per channel), y = act(conv + bias + z), V channels of P
// neighbouring output pixels of a row per thread (each filter tap loaded once for the P pixels); the filter
// laid out [kh, kw, c].
template <typename T, int V, int P>
__global__ void __launch_bounds__(256)
    k_depthwise_nhwc(T* y, const T* x, const T* wt, const T* bias, const T* z, int images, int c, int h,
                     int w, int oh, int ow, int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw,
                     FnParams fn) {
  const int cv = c / V, cols = (ow + P - 1) / P;
  const int64_t n = static_cast<int64_t>(images) * oh * cols * cv;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const auto [cg, ox0, oy, img] = nhwc_pos(i, cv, cols, P, oh);
    const int np = min(P, ow - ox0);
    const T* xp = x + img * h * w * c + cg * V;
    float acc[P][V], xv[V], wv[V];
    if (bias) load_vec<T, V>(bias + cg * V, acc[0]);
#pragma unroll
    for (int e = 0; e < V; ++e) {
      if (!bias) acc[0][e] = 0.f;
#pragma unroll
      for (int p = 1; p < P; ++p) acc[p][e] = acc[0][e];
    }
    for (int ky = 0; ky < kh; ++ky) {
      const int iy = oy * sh - ph + ky * dh;
      if (iy < 0 || iy >= h) continue;
      const T* row = xp + static_cast<int64_t>(iy) * w * c;
      for (int kx = 0; kx < kw; ++kx) {
        load_vec<T, V>(wt + (ky * kw + kx) * c + cg * V, wv);
#pragma unroll
        for (int p = 0; p < P; ++p) {
          const int ix = (ox0 + p) * sw - pw + kx * dw;
          if (p >= np || ix < 0 || ix >= w) continue;
          load_vec<T, V>(row + static_cast<int64_t>(ix) * c, xv);
#pragma unroll
          for (int e = 0; e < V; ++e) acc[p][e] = fmaf(xv[e], wv[e], acc[p][e]);
        }
      }
    }
#pragma unroll
    for (int p = 0; p < P; ++p) {
      if (p >= np) break;
      const int64_t at = ((img * oh + oy) * ow + ox0 + p) * c + cg * V;
      if (z) {
        load_vec<T, V>(z + at, xv);
#pragma unroll
        for (int e = 0; e < V; ++e) acc[p][e] += xv[e];
      }
#pragma unroll
      for (int e = 0; e < V; ++e) acc[p][e] = apply(fn, acc[p][e]);
      store_vec<T, V>(y + at, acc[p]);
    }
  }
}

__device__ __forceinline__ float combine(ReduceOp op, float a, float b) {
  return op == ReduceOp::kMax ? fmaxf(a, b) : op == ReduceOp::kMin ? fminf(a, b) : a + b;
}

// Block-wide reduction of one float (all threads get the result).
__device__ float block_reduce(float v, ReduceOp op, float* shared) {
  for (int o = 16; o > 0; o >>= 1) v = combine(op, v, __shfl_xor_sync(0xffffffffu, v, o));
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, warps = blockDim.x / 32;
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  v = shared[0];
  for (int k = 1; k < warps; ++k) v = combine(op, v, shared[k]);
  return v;
}

// One block per (outer, inner) row of r elements.
template <typename T>
__global__ void k_reduce(T* y, const T* x, int64_t r, int64_t inner, ReduceOp op) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x, o = row / inner, in = row % inner;
  const T* xp = x + o * r * inner + in;
  const float init = op == ReduceOp::kMax ? -FLT_MAX : op == ReduceOp::kMin ? FLT_MAX : 0.f;
  float acc = init;
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) acc = combine(op, acc, load(xp, k * inner));
  acc = block_reduce(acc, op, shared);
  if (threadIdx.x == 0) store(y, row, op == ReduceOp::kMean ? acc / static_cast<float>(r) : acc);
}

// A reduction over the middle axis of [outer, r, inner] with one thread per output (outer, inner): the
// threads of a warp read neighbouring elements, for inner >= 32 (channels-last global pooling).
template <typename T>
__global__ void k_reduce_columns(T* y, const T* x, int64_t outer, int64_t r, int64_t inner, ReduceOp op) {
  const int64_t n = outer * inner;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n;
       i += (int64_t)gridDim.x * blockDim.x) {
    const T* xp = x + (i / inner) * r * inner + i % inner;
    float acc = op == ReduceOp::kMax ? -FLT_MAX : op == ReduceOp::kMin ? FLT_MAX : 0.f;
    for (int64_t k = 0; k < r; ++k) acc = combine(op, acc, load(xp, k * inner));
    store(y, i, op == ReduceOp::kMean ? acc / static_cast<float>(r) : acc);
  }
}

template <typename T>
__global__ void k_softmax(T* y, const T* x, int64_t r, int64_t inner, float scale, bool log) {
  __shared__ float shared[32];
  const int64_t row = blockIdx.x, o = row / inner, in = row % inner;
  const T* xp = x + o * r * inner + in;
  T* yp = y + o * r * inner + in;
  float m = -FLT_MAX;
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) m = fmaxf(m, scale * load(xp, k * inner));
  m = block_reduce(m, ReduceOp::kMax, shared);
  float sum = 0.f;
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) sum += expf(scale * load(xp, k * inner) - m);
  sum = block_reduce(sum, ReduceOp::kSum, shared);
  const float inv = 1.f / sum, lsum = logf(sum);
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) {
    const float v = scale * load(xp, k * inner) - m;
    store(yp, k * inner, log ? v - lsum : expf(v) * inv);
  }
}

template <typename T>
__global__ void k_layer_norm(T* y, const T* x, const T* scale, const T* bias, int64_t r, float eps) {
  __shared__ float shared[32];
  const T* xp = x + blockIdx.x * r;
  T* yp = y + blockIdx.x * r;
  float s = 0.f;
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) s += load(xp, k);
  const float mean = block_reduce(s, ReduceOp::kSum, shared) / static_cast<float>(r);
  float v = 0.f;
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) {
    const float d = load(xp, k) - mean;
    v += d * d;
  }
  const float rstd = rsqrtf(block_reduce(v, ReduceOp::kSum, shared) / static_cast<float>(r) + eps);
  for (int64_t k = threadIdx.x; k < r; k += blockDim.x) {
    float o = (load(xp, k) - mean) * rstd * load(scale, k);
    if (bias) o += load(bias, k);
    store(yp, k, o);
  }
}

// FP16 LayerNorm with one warp per row, for rows of r = 8 n halves (n <= 32 kVecs) on 16-byte aligned
// memory: each lane keeps its n / 32 words of the row in registers as floats, so x is read once (the
// block-per-row kernel above reads it three times and spends two block-wide syncs per row); the mean and
// the variance are warp sums.
template <int kVecs>
__global__ void k_layer_norm_warp(__half* y, const __half* x, const __half* scale, const __half* bias,
                                  int64_t rows, int r, float eps) {
  const int64_t row = blockIdx.x * static_cast<int64_t>(blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;
  const int lane = threadIdx.x % 32, words = r / 8;
  const uint4* xp = reinterpret_cast<const uint4*>(x + row * r);
  float v[kVecs][8];
  float sum = 0.f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int c = lane + 32 * i;
    const uint4 w = c < words ? xp[c] : make_uint4(0, 0, 0, 0);
    const __half2* h = reinterpret_cast<const __half2*>(&w);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = __half22float2(h[j]);
      v[i][2 * j] = f.x;
      v[i][2 * j + 1] = f.y;
      sum += f.x + f.y;
    }
  }
  for (int o = 16; o > 0; o >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, o);
  const float mean = sum / static_cast<float>(r);
  float sq = 0.f;
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    if (lane + 32 * i >= words) continue;
#pragma unroll
    for (int j = 0; j < 8; ++j) sq += (v[i][j] - mean) * (v[i][j] - mean);
  }
  for (int o = 16; o > 0; o >>= 1) sq += __shfl_xor_sync(0xffffffffu, sq, o);
  const float rstd = rsqrtf(sq / static_cast<float>(r) + eps);
  uint4* yp = reinterpret_cast<uint4*>(y + row * r);
#pragma unroll
  for (int i = 0; i < kVecs; ++i) {
    const int c = lane + 32 * i;
    if (c >= words) continue;
    const uint4 sw = reinterpret_cast<const uint4*>(scale)[c];
    const uint4 bw = bias ? reinterpret_cast<const uint4*>(bias)[c] : make_uint4(0, 0, 0, 0);
    const __half2* sh = reinterpret_cast<const __half2*>(&sw);
    const __half2* bh = reinterpret_cast<const __half2*>(&bw);
    uint4 out;
    __half2* oh = reinterpret_cast<__half2*>(&out);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 g = __half22float2(sh[j]), b = __half22float2(bh[j]);
      oh[j] = __floats2half2_rn((v[i][2 * j] - mean) * rstd * g.x + b.x,
                                (v[i][2 * j + 1] - mean) * rstd * g.y + b.y);
    }
    yp[c] = out;
  }
}

int row_threads(int64_t r) { return r >= 1024 ? 512 : r >= 256 ? 256 : r >= 64 ? 64 : 32; }

// The channels a channels-last kernel takes per thread: 16 bytes when the channel count and every pointer
// allow it, else 1.
int vector_width(bool half, int channels, std::initializer_list<const void*> ptrs) {
  const int v = half ? 8 : 4;
  if (channels % v) return 1;
  for (const void* p : ptrs)
    if (reinterpret_cast<uintptr_t>(p) % 16) return 1;
  return v;
}

}  // namespace

void cast_f32_to_f16(const float* x, void* y, int64_t n, cudaStream_t s) {
  k_f32_to_f16<<<blocks_for(n), kThreads, 0, s>>>(x, static_cast<__half*>(y), n);
}
void quantize_s8(bool half, const void* x, void* y, int64_t n, float scale, cudaStream_t s) {
  const float inv = 1.f / scale;
  int8_t* q = static_cast<int8_t*>(y);
  if (!half) {
    k_quantize_s8<float><<<blocks_for(n), kThreads, 0, s>>>(static_cast<const float*>(x), q, n, inv, false);
    return;
  }
  const bool vec = reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(y) % 8 == 0;
  k_quantize_s8<__half>
      <<<blocks_for(vec ? (n + 7) / 8 : n), kThreads, 0, s>>>(static_cast<const __half*>(x), q, n, inv, vec);
}
void maxpool_nhwc_s8(void* y, const void* x, int images, int c, int h, int w, int oh, int ow, int kh, int kw,
                     int sh, int sw, int ph, int pw, int dh, int dw, cudaStream_t s) {
  const bool vec =
      c % 16 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(y) % 16 == 0;
  const int64_t n = static_cast<int64_t>(images) * oh * ow * c / (vec ? 16 : 1);
  auto* yq = static_cast<int8_t*>(y);
  auto* xq = static_cast<const int8_t*>(x);
  if (vec)
    k_maxpool_nhwc_to_s8<int8_t, 16><<<blocks_for(n), kThreads, 0, s>>>(yq, xq, images, c, h, w, oh, ow, kh,
                                                                        kw, sh, sw, ph, pw, dh, dw, 1.f);
  else
    k_maxpool_nhwc_to_s8<int8_t, 1><<<blocks_for(n), kThreads, 0, s>>>(yq, xq, images, c, h, w, oh, ow, kh,
                                                                       kw, sh, sw, ph, pw, dh, dw, 1.f);
}
void maxpool_nhwc_f16_s8(void* y, const void* x, int images, int c, int h, int w, int oh, int ow, int kh,
                         int kw, int sh, int sw, int ph, int pw, int dh, int dw, float scale,
                         cudaStream_t s) {
  const bool vec =
      c % 8 == 0 && reinterpret_cast<uintptr_t>(x) % 16 == 0 && reinterpret_cast<uintptr_t>(y) % 8 == 0;
  const int64_t n = static_cast<int64_t>(images) * oh * ow * c / (vec ? 8 : 1);
  auto* yq = static_cast<int8_t*>(y);
  auto* xh = static_cast<const __half*>(x);
  if (vec)
    k_maxpool_nhwc_to_s8<__half, 8><<<blocks_for(n), kThreads, 0, s>>>(
        yq, xh, images, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, 1.f / scale);
  else
    k_maxpool_nhwc_to_s8<__half, 1><<<blocks_for(n), kThreads, 0, s>>>(
        yq, xh, images, c, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, 1.f / scale);
}
void cast_f16_to_f32(const void* x, float* y, int64_t n, cudaStream_t s) {
  k_f16_to_f32<<<blocks_for(n), kThreads, 0, s>>>(static_cast<const __half*>(x), y, n);
}

template <typename T>
void epilogue_t(T* y, const T* x, const T* bias, const T* z, int64_t n, int64_t inner, int64_t channels,
                FnParams fn, cudaStream_t s) {
  constexpr int V = 16 / sizeof(T);
  const auto aligned = [](const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; };
  const bool bias_vec = !bias || (aligned(bias) && ((inner == 1 && channels % V == 0) || inner % V == 0));
  if (n % V == 0 && bias_vec && aligned(y) && aligned(x) && (!z || aligned(z)) && n < (int64_t(1) << 30)) {
    const int64_t nv = n / V;
    k_epilogue_vec<T, V, int32_t><<<blocks_for(nv), kThreads, 0, s>>>(y, x, bias, z, static_cast<int32_t>(nv),
                                                                      static_cast<int32_t>(inner),
                                                                      static_cast<int32_t>(channels), fn);
    return;
  }
  if (n < (int64_t(1) << 31))
    k_epilogue<T, int32_t><<<blocks_for(n), kThreads, 0, s>>>(y, x, bias, z, static_cast<int32_t>(n),
                                                              static_cast<int32_t>(inner),
                                                              static_cast<int32_t>(channels), fn);
  else
    k_epilogue<T, int64_t><<<blocks_for(n), kThreads, 0, s>>>(y, x, bias, z, n, inner, channels, fn);
}

void epilogue(bool half, void* y, const void* x, const void* bias, const void* z, int64_t n, int64_t inner,
              int64_t channels, FnParams fn, cudaStream_t s) {
  if (n == 0) return;
  if (half)
    epilogue_t(static_cast<__half*>(y), static_cast<const __half*>(x), static_cast<const __half*>(bias),
               static_cast<const __half*>(z), n, inner, channels, fn, s);
  else
    epilogue_t(static_cast<float*>(y), static_cast<const float*>(x), static_cast<const float*>(bias),
               static_cast<const float*>(z), n, inner, channels, fn, s);
}

template <typename T>
void binary_t(BinOp op, T* y, const T* a, const Strided& am, const T* b, const Strided& bm, int64_t n,
              cudaStream_t s) {
  // Both maps share the output's dims, so they are simplified apart; an identity map skips its divisions.
  const Strided sa = simplify(am), sb = simplify(bm);
  const bool a_id = is_identity(sa);
  if (fits32(sa, n) && fits32(sb, n))
    k_binary<T, Strided32, int32_t>
        <<<blocks_for(n), kThreads, 0, s>>>(y, a, to32(sa), b, to32(sb), op, static_cast<int32_t>(n), a_id);
  else
    k_binary<T, Strided, int64_t><<<blocks_for(n), kThreads, 0, s>>>(y, a, sa, b, sb, op, n, a_id);
}

void binary(bool half, BinOp op, void* y, const void* a, const Strided& am, const void* b, const Strided& bm,
            cudaStream_t s) {
  int64_t n = 1;
  for (int d = 0; d < am.rank; ++d) n *= am.dims[d];
  if (n == 0) return;
  if (half)
    binary_t(op, static_cast<__half*>(y), static_cast<const __half*>(a), am, static_cast<const __half*>(b),
             bm, n, s);
  else
    binary_t(op, static_cast<float*>(y), static_cast<const float*>(a), am, static_cast<const float*>(b), bm,
             n, s);
}

template <typename E>
void copy_t(void* y, const void* x, const Strided& m, int64_t n, cudaStream_t s) {
  if (fits32(m, n))
    k_strided_copy<E, Strided32, int32_t><<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<E*>(y), static_cast<const E*>(x), to32(m), static_cast<int32_t>(n));
  else
    k_strided_copy<E, Strided, int64_t>
        <<<blocks_for(n), kThreads, 0, s>>>(static_cast<E*>(y), static_cast<const E*>(x), m, n);
}

void strided_copy(size_t elem, void* y, const void* x, const Strided& map, cudaStream_t s) {
  Strided m = simplify(map);
  int64_t n = 1;
  for (int d = 0; d < m.rank; ++d) n *= m.dims[d];
  if (n == 0) return;
  // Rows contiguous in the source move as 16-, 8- or 4-byte words when sizes, strides and pointers allow.
  if (m.rank > 0 && m.strides[m.rank - 1] == 1) {
    for (size_t vb : {size_t(16), size_t(8), size_t(4)}) {
      if (vb <= elem) break;
      bool ok = (m.dims[m.rank - 1] * elem) % vb == 0 && (m.offset * elem) % vb == 0 &&
                reinterpret_cast<uintptr_t>(x) % vb == 0 && reinterpret_cast<uintptr_t>(y) % vb == 0;
      for (int d = 0; ok && d + 1 < m.rank; ++d) ok = (m.strides[d] * static_cast<int64_t>(elem)) % vb == 0;
      if (!ok) continue;
      const int64_t k = static_cast<int64_t>(vb / elem);
      m.dims[m.rank - 1] /= k;
      m.offset /= k;
      for (int d = 0; d + 1 < m.rank; ++d) m.strides[d] /= k;
      n /= k;
      elem = vb;
      break;
    }
  }
  switch (elem) {
    case 1:
      copy_t<uint8_t>(y, x, m, n, s);
      break;
    case 2:
      copy_t<uint16_t>(y, x, m, n, s);
      break;
    case 4:
      copy_t<uint32_t>(y, x, m, n, s);
      break;
    case 8:
      copy_t<uint64_t>(y, x, m, n, s);
      break;
    default:
      copy_t<uint4>(y, x, m, n, s);
      break;
  }
}

template <typename E>
void gather_t(void* y, const void* x, const int64_t* idx, int64_t outer, int64_t axis, int64_t n_idx,
              int64_t inner, cudaStream_t s) {
  const int64_t n = outer * n_idx * inner;
  if (n < (int64_t(1) << 31) && outer * axis * inner < (int64_t(1) << 31))
    k_gather<E, int32_t><<<blocks_for(n), kThreads, 0, s>>>(
        static_cast<E*>(y), static_cast<const E*>(x), idx, static_cast<int32_t>(outer),
        static_cast<int32_t>(axis), static_cast<int32_t>(n_idx), static_cast<int32_t>(inner));
  else
    k_gather<E, int64_t><<<blocks_for(n), kThreads, 0, s>>>(static_cast<E*>(y), static_cast<const E*>(x), idx,
                                                            outer, axis, n_idx, inner);
}

void gather(size_t elem, void* y, const void* x, const int64_t* idx, int64_t outer, int64_t axis,
            int64_t n_idx, int64_t inner, cudaStream_t s) {
  if (outer * n_idx * inner == 0) return;
  switch (elem) {
    case 2:
      gather_t<uint16_t>(y, x, idx, outer, axis, n_idx, inner, s);
      break;
    case 4:
      gather_t<uint32_t>(y, x, idx, outer, axis, n_idx, inner, s);
      break;
    default:
      gather_t<uint64_t>(y, x, idx, outer, axis, n_idx, inner, s);
      break;
  }
}

void pool2d(bool half, bool max, void* y, const void* x, int64_t nc, int h, int w, int oh, int ow, int kh,
            int kw, int sh, int sw, int ph, int pw, int dh, int dw, bool include_pad, int64_t c_last,
            cudaStream_t s) {
  const int64_t n = nc * oh * ow;
  if (c_last > 0 && c_last <= INT32_MAX) {
    const int c = static_cast<int>(c_last), images = static_cast<int>(nc / c_last);
    const int v = vector_width(half, c, {x, y});
    const unsigned blocks = blocks_for(n / v);
    if (half && v == 8)
      k_pool2d_nhwc<__half, 8>
          <<<blocks, kThreads, 0, s>>>(static_cast<__half*>(y), static_cast<const __half*>(x), images, c, h,
                                       w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, max, include_pad);
    else if (!half && v == 4)
      k_pool2d_nhwc<float, 4>
          <<<blocks, kThreads, 0, s>>>(static_cast<float*>(y), static_cast<const float*>(x), images, c, h, w,
                                       oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, max, include_pad);
    if (v > 1) return;
  }
  if (half)
    k_pool2d<__half><<<blocks_for(n), kThreads, 0, s>>>(static_cast<__half*>(y),
                                                        static_cast<const __half*>(x), nc, h, w, oh, ow, kh,
                                                        kw, sh, sw, ph, pw, dh, dw, max, include_pad, c_last);
  else
    k_pool2d<float><<<blocks_for(n), kThreads, 0, s>>>(static_cast<float*>(y), static_cast<const float*>(x),
                                                       nc, h, w, oh, ow, kh, kw, sh, sw, ph, pw, dh, dw, max,
                                                       include_pad, c_last);
}

template <typename T, int V, int P>
void depthwise_t(void* y, const void* x, const void* w, const void* bias, const void* z,
                 const DepthwiseShape& d, FnParams fn, cudaStream_t s) {
  const int64_t n = static_cast<int64_t>(d.images) * d.oh * ((d.ow + P - 1) / P) * (d.c / V);
  k_depthwise_nhwc<T, V, P><<<blocks_for(n), kThreads, 0, s>>>(
      static_cast<T*>(y), static_cast<const T*>(x), static_cast<const T*>(w), static_cast<const T*>(bias),
      static_cast<const T*>(z), d.images, d.c, d.h, d.w, d.oh, d.ow, d.kh, d.kw, d.sh, d.sw, d.ph, d.pw, d.dh,
      d.dw, fn);
}

template <typename T, int V>
void depthwise_p(void* y, const void* x, const void* w, const void* bias, const void* z,
                 const DepthwiseShape& d, FnParams fn, cudaStream_t s) {
  if (d.pixels == 4) return depthwise_t<T, V, 4>(y, x, w, bias, z, d, fn, s);
  depthwise_t<T, V, 1>(y, x, w, bias, z, d, fn, s);
}

void depthwise_nhwc(bool half, void* y, const void* x, const void* w, const void* bias, const void* z,
                    const DepthwiseShape& d, FnParams fn, cudaStream_t s) {
  const int v = vector_width(half, d.c, {y, x, w, bias, z});
  if (half && v == 8) return depthwise_p<__half, 8>(y, x, w, bias, z, d, fn, s);
  if (half) return depthwise_p<__half, 1>(y, x, w, bias, z, d, fn, s);
  if (v == 4) return depthwise_p<float, 4>(y, x, w, bias, z, d, fn, s);
  depthwise_p<float, 1>(y, x, w, bias, z, d, fn, s);
}

void reduce(bool half, ReduceOp op, void* y, const void* x, int64_t outer, int64_t r, int64_t inner,
            cudaStream_t s) {
  if (inner >= 32) {
    if (half)
      k_reduce_columns<__half><<<blocks_for(outer * inner), kThreads, 0, s>>>(
          static_cast<__half*>(y), static_cast<const __half*>(x), outer, r, inner, op);
    else
      k_reduce_columns<float><<<blocks_for(outer * inner), kThreads, 0, s>>>(
          static_cast<float*>(y), static_cast<const float*>(x), outer, r, inner, op);
    return;
  }
  const auto rows = static_cast<unsigned>(outer * inner);
  if (half)
    k_reduce<__half><<<rows, row_threads(r), 0, s>>>(static_cast<__half*>(y), static_cast<const __half*>(x),
                                                     r, inner, op);
  else
    k_reduce<float>
        <<<rows, row_threads(r), 0, s>>>(static_cast<float*>(y), static_cast<const float*>(x), r, inner, op);
}

void softmax(bool half, bool log, void* y, const void* x, int64_t outer, int64_t r, int64_t inner,
             float scale, cudaStream_t s) {
  const auto rows = static_cast<unsigned>(outer * inner);
  if (half)
    k_softmax<__half><<<rows, row_threads(r), 0, s>>>(static_cast<__half*>(y), static_cast<const __half*>(x),
                                                      r, inner, scale, log);
  else
    k_softmax<float><<<rows, row_threads(r), 0, s>>>(static_cast<float*>(y), static_cast<const float*>(x), r,
                                                     inner, scale, log);
}

void layer_norm(bool half, void* y, const void* x, const void* scale, const void* bias, int64_t rows,
                int64_t r, float eps, cudaStream_t s) {
  const int64_t words = r / 8;
  if (half && r <= 2048 && vector_width(true, static_cast<int>(r), {y, x, scale, bias}) == 8) {
    constexpr int kRowsPerBlock = 4;
    const unsigned blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
    auto launch = [&](auto kernel) {
      kernel<<<blocks, 32 * kRowsPerBlock, 0, s>>>(
          static_cast<__half*>(y), static_cast<const __half*>(x), static_cast<const __half*>(scale),
          static_cast<const __half*>(bias), rows, static_cast<int>(r), eps);
    };
    if (words <= 32)
      launch(k_layer_norm_warp<1>);
    else if (words <= 64)
      launch(k_layer_norm_warp<2>);
    else if (words <= 96)
      launch(k_layer_norm_warp<3>);
    else if (words <= 128)
      launch(k_layer_norm_warp<4>);
    else
      launch(k_layer_norm_warp<8>);
    return;
  }
  if (half)
    k_layer_norm<__half><<<static_cast<unsigned>(rows), row_threads(r), 0, s>>>(
        static_cast<__half*>(y), static_cast<const __half*>(x), static_cast<const __half*>(scale),
        static_cast<const __half*>(bias), r, eps);
  else
    k_layer_norm<float><<<static_cast<unsigned>(rows), row_threads(r), 0, s>>>(
        static_cast<float*>(y), static_cast<const float*>(x), static_cast<const float*>(scale),
        static_cast<const float*>(bias), r, eps);
}

}  // namespace ingot::backends::cuda::kernels
