// ingot's own CUDA kernels: pure functions over device pointers and sizes, launched on a stream. They
// know nothing of plans or layers (the layer classes in layers.cc hold the parameters). Every kernel
// takes `half` = the storage type of its float tensors is FP16 (else FP32); math is in FP32.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace ingot::backends::cuda::kernels {

constexpr int kMaxRank = 8;

// Element-wise functions, the fused epilogues' activations among them.
enum class Fn : int {
  kNone,
  kRelu,
  kLeakyRelu,
  kClip,
  kSigmoid,
  kHardSigmoid,
  kHardSwish,
  kSilu,
  kGelu,
  kGeluTanh,
  kTanh,
  kExp,
  kLog,
  kSqrt,
  kNeg,
  kAbs,
  kErf,
  kReciprocal
};
struct FnParams {
  Fn fn = Fn::kNone;
  float alpha = 0, beta = 0;  // LeakyRelu alpha; Clip min/max; HardSigmoid alpha/beta
};

enum class BinOp : int { kAdd, kSub, kMul, kDiv, kPow, kMax, kMin };
enum class ReduceOp : int { kSum, kMean, kMax, kMin };

struct Strided {
  int rank = 0;
  int64_t dims[kMaxRank] = {};     // output dims
  int64_t strides[kMaxRank] = {};  // per output axis, the source's stride in elements (0: broadcast)
  int64_t offset = 0;              // source element offset
};

void cast_f32_to_f16(const float* x, void* y, int64_t n, cudaStream_t s);
void cast_f16_to_f32(const void* x, float* y, int64_t n, cudaStream_t s);
// Symmetric int8 (the int8 convolutions' activations): y = clamp(round(x / scale), -127, 127).
void quantize_s8(bool half, const void* x, void* y, int64_t n, float scale, cudaStream_t s);
// Channels-last max pooling of s8 tensors x [images, h, w, c] -> y [images, oh, ow, c] (no padding value
// enters the max).
void maxpool_nhwc_s8(void* y, const void* x, int images, int c, int h, int w, int oh, int ow, int kh, int kw,
                     int sh, int sw, int ph, int pw, int dh, int dw, cudaStream_t s);
// The same from an FP16 x into an s8 y at `scale` (y = clamp(round(max / scale), -127, 127)).
void maxpool_nhwc_f16_s8(void* y, const void* x, int images, int c, int h, int w, int oh, int ow, int kh,
                         int kw, int sh, int sw, int ph, int pw, int dh, int dw, float scale, cudaStream_t s);

// y = fn(x + bias[(i / inner) % channels] + z[i]); bias and z may be null; y may be x or z.
void epilogue(bool half, void* y, const void* x, const void* bias, const void* z, int64_t n, int64_t inner,
              int64_t channels, FnParams fn, cudaStream_t s);
// y[i] = a[...] op b[...] over the output index space of `a_map` (a_map and b_map share dims).
void binary(bool half, BinOp op, void* y, const void* a, const Strided& a_map, const void* b,
            const Strided& b_map, cudaStream_t s);
// y[i] = x[map(i)] for any element size: transposes, slices, broadcasts, copies.
// Channels-last depthwise convolution: y = act(conv(x, w) + bias + z) with x [images, h, w, c], the filter
// w laid out [kh, kw, c], bias [c] and z like y (each may be null), y [images, oh, ow, c]; each thread
// computes `pixels` (1 or 4) neighbouring outputs of a row.
struct DepthwiseShape {
  int images = 1, c = 1, h = 1, w = 1, oh = 1, ow = 1, kh = 1, kw = 1, sh = 1, sw = 1, ph = 0, pw = 0, dh = 1,
      dw = 1, pixels = 1;
};
void depthwise_nhwc(bool half, void* y, const void* x, const void* w, const void* bias, const void* z,
                    const DepthwiseShape& d, FnParams fn, cudaStream_t s);
void strided_copy(size_t elem_bytes, void* y, const void* x, const Strided& map, cudaStream_t s);
// Gathers along an axis: x is [outer, axis, inner], indices (int64, negatives wrap) n_idx of them.
void gather(size_t elem_bytes, void* y, const void* x, const int64_t* indices, int64_t outer, int64_t axis,
            int64_t n_idx, int64_t inner, cudaStream_t s);
// 2-D pooling over NCHW planes (nc = N * C), or NHWC images when c_last = C.
void pool2d(bool half, bool max, void* y, const void* x, int64_t nc, int h, int w, int oh, int ow, int kh,
            int kw, int sh, int sw, int ph, int pw, int dh, int dw, bool count_include_pad, int64_t c_last,
            cudaStream_t s);
// x viewed as [outer, r, inner], reduced over r.
void reduce(bool half, ReduceOp op, void* y, const void* x, int64_t outer, int64_t r, int64_t inner,
            cudaStream_t s);
// Softmax (or LogSoftmax) over r of x viewed as [outer, r, inner]; y = softmax(scale * x).
void softmax(bool half, bool log, void* y, const void* x, int64_t outer, int64_t r, int64_t inner,
             float scale, cudaStream_t s);
// One operand of attention seen as [B, H, S, D] over a buffer: element (b, h, s, d) is at
// offset + b * sb + h * sh + s * ss + d (in elements).
struct AttnView {
  int64_t offset = 0, sb = 0, sh = 0, ss = 0;
};
// FP16 flash attention (attention.cu): y = softmax(scale * q k^T) v for batch x heads heads of sq queries
// and sk keys, head dims d (q, k) and dv (v, y), every operand through its view; no mask. Only for what
// flash_attention_fits accepts (d and dv multiples of 8, at most 128). flash_attention_smem: the shared
// memory it takes per CTA, in bytes; flash_attention_setup, once before launches (outside any CUDA graph
// capture), lets the kernel take what this device allows. `warps` per CTA (16 queries each): 4 or 8 (as
// flash_attention_warps picks for the grid's size on this device, once, when the layer is prepared), else
// picked at the launch.
bool flash_attention_fits(int64_t d, int64_t dv, int64_t sq, int64_t sk);
size_t flash_attention_smem(int64_t d, int64_t dv);
cudaError_t flash_attention_setup();
int flash_attention_warps(int64_t batch, int64_t heads, int64_t sq);
cudaError_t flash_attention_f16(const void* q, const AttnView& qv, const void* k, const AttnView& kv,
                                const void* v, const AttnView& vv, void* y, const AttnView& yv, int64_t batch,
                                int64_t heads, int64_t sq, int64_t sk, int64_t d, int64_t dv, float scale,
                                cudaStream_t s, int warps = 0);
// Normalizes each row of r elements: (x - mean) / sqrt(var + eps) * scale + bias (bias may be null).
void layer_norm(bool half, void* y, const void* x, const void* scale, const void* bias, int64_t rows,
                int64_t r, float eps, cudaStream_t s);

}  // namespace ingot::backends::cuda::kernels
