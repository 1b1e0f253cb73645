// Scaled dot-product attention (ONNX Attention, opset 23) and rotary position embedding
// (RotaryEmbedding): pure functions over row-major buffers.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ingot::ref {

struct AttentionParams {
  int64_t batch = 0, q_heads = 0, kv_heads = 0;  // q_heads is a multiple of kv_heads (grouped queries)
  int64_t q_len = 0, past_len = 0, total_len = 0;
  int64_t head_size = 0, v_head_size = 0;
  double scale = 1;     // applied as sqrt(scale) to Q and to K, as the ONNX reference does
  bool causal = false;  // query i sees keys j <= i + past_len
  double softcap = 0;   // > 0: scores become softcap * tanh(scores / softcap) after the mask
  int qk_mode = 0;      // which scores qk_out receives: 0 raw, 1 masked, 2 softcapped, 3 softmax
  // Additive mask read at mask[b * s0 + h * s1 + i * s2 + j * s3] for j < mask_len; keys past
  // mask_len are masked out. Null for none.
  const float* mask = nullptr;
  int64_t mask_len = 0, mask_strides[4] = {0, 0, 0, 0};
  const int64_t* kv_valid = nullptr;  // per batch: keys j >= kv_valid[b] are masked out (nullable)
};

// q [B, Hq, Sq, D], k [B, Hkv, T, D], v [B, Hkv, T, Dv] (T = past + new, already concatenated);
// y [B, Hq, Sq, Dv]; qk_out [B, Hq, Sq, T] or null. A is float or double.
template <typename A>
void attention(const AttentionParams& p, const A* q, const A* k, const A* v, A* y, A* qk_out);

// One operand of ingot.Attention seen as [B, H, S, D] (a rank-3 [B, S, D] has H = 1) over a source
// buffer: element (b, h, s, d) is at offset + b * strides[0] + h * strides[1] + s * strides[2] + d.
struct AttentionView {
  int64_t dims[4] = {1, 1, 1, 1};
  int64_t strides[4] = {0, 0, 0, 1};
  int64_t offset = 0;
  int64_t at(int64_t b, int64_t h, int64_t s) const {
    return offset + b * strides[0] + h * strides[1] + s * strides[2];
  }
};

// ingot.Attention's view attributes, per operand Q, K, V and the output Y.
inline constexpr const char* kAttentionViewAttrs[4] = {"q_view", "k_view", "v_view", "y_view"};

// The operand's view from its attribute (ingot.Attention's q_view / k_view / v_view / y_view: the logical
// dims, rank r = 3 or 4, then the offset and the strides of the first r - 1 axes; the last axis has stride
// 1), or, for an empty attribute, the contiguous tensor of dims `plain`. Every element it reaches must lie
// in the source of `source_numel` elements. Returns "" or why not.
std::string attention_view(const std::vector<int64_t>& attr, const std::vector<int64_t>& plain,
                           int64_t source_numel, AttentionView* out);
// Copies the view's elements into / out of a contiguous [B, H, S, D] buffer.
template <typename A>
void gather_view(const AttentionView& v, const A* src, A* dst);
template <typename A>
void scatter_view(const AttentionView& v, const A* src, A* dst);

// x viewed as [B, S, H, D] through strides (elements) of its b, s, h dims; cos / sin rows of
// rot_dim / 2 values per (b, s) are at cos[(b * S + s) * half] (the caller gathers position ids).
// The first rot_dim values of each head rotate (pairs (i, i + half), or (2i, 2i + 1) when
// interleaved); the rest are copied. y has x's layout.
template <typename A>
void rotary_embedding(const A* x, const A* cos, const A* sin, A* y, int64_t B, int64_t S, int64_t H,
                      int64_t D, const int64_t strides[3], int64_t rot_dim, bool interleaved);

}  // namespace ingot::ref
