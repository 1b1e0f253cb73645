#include "kernels/reference/attention.h"

#include <cmath>
#include <limits>
#include <vector>

namespace ingot::ref {

template <typename A>
void attention(const AttentionParams& p, const A* q, const A* k, const A* v, A* y, A* qk_out) {
  const int64_t T = p.total_len, D = p.head_size, Dv = p.v_head_size;
  const int64_t group = p.kv_heads > 0 ? p.q_heads / p.kv_heads : 1;
  const A s = static_cast<A>(std::sqrt(p.scale));
  const A neg_inf = -std::numeric_limits<A>::infinity();
  std::vector<A> scores(static_cast<size_t>(T)), qs(static_cast<size_t>(D));
  for (int64_t b = 0; b < p.batch; ++b) {
    for (int64_t h = 0; h < p.q_heads; ++h) {
      const int64_t kvh = h / group;
      const A* kb = k + (b * p.kv_heads + kvh) * T * D;
      const A* vb = v + (b * p.kv_heads + kvh) * T * Dv;
      for (int64_t i = 0; i < p.q_len; ++i) {
        const A* qi = q + ((b * p.q_heads + h) * p.q_len + i) * D;
        A* qk = qk_out ? qk_out + ((b * p.q_heads + h) * p.q_len + i) * T : nullptr;
        for (int64_t d = 0; d < D; ++d) qs[d] = qi[d] * s;
        for (int64_t j = 0; j < T; ++j) {
          A dot = 0;
          for (int64_t d = 0; d < D; ++d) dot += qs[d] * (kb[j * D + d] * s);
          if (qk && p.qk_mode == 0) qk[j] = dot;
          A bias = 0;
          if (p.mask) {
            bias += j < p.mask_len ? static_cast<A>(p.mask[b * p.mask_strides[0] + h * p.mask_strides[1] +
                                                           i * p.mask_strides[2] + j * p.mask_strides[3]])
                                   : neg_inf;
          }
          if (p.causal && j > i + p.past_len) bias += neg_inf;
          if (p.kv_valid && j >= p.kv_valid[b]) bias += neg_inf;
          A x = dot + bias;
          if (qk && p.qk_mode == 1) qk[j] = x;
          if (p.softcap > 0) {
            const A c = static_cast<A>(p.softcap);
            x = c * std::tanh(x / c);
          }
          if (qk && p.qk_mode == 2) qk[j] = x;
          scores[j] = x;
        }
        A mx = neg_inf;
        for (int64_t j = 0; j < T; ++j) mx = std::fmax(mx, scores[j]);
        A sum = 0;
        for (int64_t j = 0; j < T; ++j) {
          scores[j] = std::exp(scores[j] - mx);
          sum += scores[j];
        }
        for (int64_t j = 0; j < T; ++j) scores[j] /= sum;
        if (qk && p.qk_mode == 3)
          for (int64_t j = 0; j < T; ++j) qk[j] = scores[j];
        A* yi = y + ((b * p.q_heads + h) * p.q_len + i) * Dv;
        for (int64_t d = 0; d < Dv; ++d) yi[d] = 0;
        for (int64_t j = 0; j < T; ++j) {
          const A w = scores[j];
          const A* vj = vb + j * Dv;
          for (int64_t d = 0; d < Dv; ++d) yi[d] += w * vj[d];
        }
      }
    }
  }
}

template <typename A>
void rotary_embedding(const A* x, const A* cos, const A* sin, A* y, int64_t B, int64_t S, int64_t H,
                      int64_t D, const int64_t strides[3], int64_t rot_dim, bool interleaved) {
  const int64_t half = rot_dim / 2;
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t s = 0; s < S; ++s) {
      const A* c = cos + (b * S + s) * half;
      const A* sn = sin + (b * S + s) * half;
      for (int64_t h = 0; h < H; ++h) {
        const int64_t off = b * strides[0] + s * strides[1] + h * strides[2];
        const A* xi = x + off;
        A* yi = y + off;
        for (int64_t i = 0; i < half; ++i) {
          const int64_t i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
          const A x1 = xi[i1], x2 = xi[i2];
          yi[i1] = c[i] * x1 - sn[i] * x2;
          yi[i2] = sn[i] * x1 + c[i] * x2;
        }
        for (int64_t d = 2 * half; d < D; ++d) yi[d] = xi[d];
      }
    }
  }
}

std::string attention_view(const std::vector<int64_t>& attr, const std::vector<int64_t>& plain,
                           int64_t source_numel, AttentionView* out) {
  *out = AttentionView{};
  const size_t r = attr.empty() ? plain.size() : attr.size() / 2;
  if ((r != 3 && r != 4) || (!attr.empty() && attr.size() != 2 * r)) return "the view is not of rank 3 or 4";
  const std::vector<int64_t> dims(attr.empty() ? plain.begin() : attr.begin(),
                                  attr.empty() ? plain.end() : attr.begin() + static_cast<std::ptrdiff_t>(r));
  // Rank 3 is [B, S, D]: H = 1 at index 1.
  const int map[4] = {0, r == 4 ? 1 : -1, static_cast<int>(r) - 2, static_cast<int>(r) - 1};
  int64_t contiguous = 1;
  for (int i = 3; i >= 0; --i) {
    if (map[i] < 0) continue;
    const int64_t d = dims[static_cast<size_t>(map[i])];
    if (d < 0 || d > (int64_t{1} << 40)) return "a dim of the view is out of range";
    out->dims[i] = d;
    out->strides[i] = attr.empty() ? contiguous : (i == 3 ? 1 : attr[r + 1 + static_cast<size_t>(map[i])]);
    contiguous *= d;
  }
  out->offset = attr.empty() ? 0 : attr[r];
  // The furthest element reached, in overflow-safe steps (dims and strides are below 2^40 each).
  int64_t last = out->offset;
  if (last < 0 || last > (int64_t{1} << 48)) return "the view's offset is out of range";
  bool empty = false;
  for (int i = 0; i < 4; ++i) {
    if (out->strides[i] < 0 || out->strides[i] > (int64_t{1} << 40))
      return "a stride of the view is out of range";
    if (out->dims[i] == 0) empty = true;
    if (out->dims[i] > 0) last += (out->dims[i] - 1) * out->strides[i];
    if (last > (int64_t{1} << 60)) return "the view reaches past its source";
  }
  if (!empty && last >= source_numel) return "the view reaches past its source";
  return "";
}

template <typename A>
void gather_view(const AttentionView& v, const A* src, A* dst) {
  for (int64_t b = 0; b < v.dims[0]; ++b)
    for (int64_t h = 0; h < v.dims[1]; ++h)
      for (int64_t s = 0; s < v.dims[2]; ++s, dst += v.dims[3])
        for (int64_t d = 0; d < v.dims[3]; ++d) dst[d] = src[v.at(b, h, s) + d];
}

template <typename A>
void scatter_view(const AttentionView& v, const A* src, A* dst) {
  for (int64_t b = 0; b < v.dims[0]; ++b)
    for (int64_t h = 0; h < v.dims[1]; ++h)
      for (int64_t s = 0; s < v.dims[2]; ++s, src += v.dims[3])
        for (int64_t d = 0; d < v.dims[3]; ++d) dst[v.at(b, h, s) + d] = src[d];
}

template void gather_view<float>(const AttentionView&, const float*, float*);
template void gather_view<double>(const AttentionView&, const double*, double*);
template void scatter_view<float>(const AttentionView&, const float*, float*);
template void scatter_view<double>(const AttentionView&, const double*, double*);

template void attention<float>(const AttentionParams&, const float*, const float*, const float*, float*,
                               float*);
template void attention<double>(const AttentionParams&, const double*, const double*, const double*, double*,
                                double*);
template void rotary_embedding<float>(const float*, const float*, const float*, float*, int64_t, int64_t,
                                      int64_t, int64_t, const int64_t[3], int64_t, bool);
template void rotary_embedding<double>(const double*, const double*, const double*, double*, int64_t, int64_t,
                                       int64_t, int64_t, const int64_t[3], int64_t, bool);

}  // namespace ingot::ref
