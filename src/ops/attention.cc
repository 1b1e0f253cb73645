// Attention (opset 23/24: 3-D or 4-D Q/K/V, grouped-query heads, KV cache through past_* / present_*,
// boolean or additive masks shorter than the keys, causal masking, softcap, qk_matmul_output modes,
// nonpad_kv_seqlen) and RotaryEmbedding (3-D with num_heads or 4-D input, position ids or
// pre-gathered caches, partial rotation, interleaved pairs). Compute is in float (double for double).
#include <cmath>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/attention.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

template <typename A>
std::vector<A> load(const Tensor& t) {
  std::vector<A> v(static_cast<size_t>(t.numel()));
  dispatch_float(t.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = t.data<T>();
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<A>(p[i]);
  });
  return v;
}

template <typename A>
void store(const std::vector<A>& v, Tensor* t) {
  dispatch_float(t->dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = t->data<T>();
    for (size_t i = 0; i < v.size(); ++i) p[i] = static_cast<T>(v[i]);
  });
}

// [B, S, H * D] -> [B, H, S, D]; `inverse` goes back.
template <typename A>
std::vector<A> split_heads(const std::vector<A>& x, int64_t B, int64_t S, int64_t H, int64_t D,
                           bool inverse) {
  std::vector<A> y(x.size());
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s)
      for (int64_t h = 0; h < H; ++h)
        for (int64_t d = 0; d < D; ++d) {
          const int64_t bshd = ((b * S + s) * H + h) * D + d, bhsd = ((b * H + h) * S + s) * D + d;
          if (inverse)
            y[bshd] = x[bhsd];
          else
            y[bhsd] = x[bshd];
        }
  return y;
}

// ---- Attention ----

constexpr size_t kQ = 0, kK = 1, kV = 2, kMask = 3, kPastK = 4, kPastV = 5, kNonpad = 6;

ir::Dim div_dim(const ir::Dim& d, int64_t by) {
  return d.is_static() && by > 0 && d.value % by == 0 ? ir::Dim(d.value / by) : ir::Dim();
}
ir::Dim add_dims(const ir::Dim& a, const ir::Dim& b) {
  return a.is_static() && b.is_static() ? ir::Dim(a.value + b.value) : ir::Dim();
}

Status infer_attention(InferContext& ctx) {
  if (!ctx.has_input(kQ) || !ctx.has_input(kK) || !ctx.has_input(kV))
    return ctx.fail("expects inputs Q, K and V");
  const DType dt = ctx.input_dtype(kQ);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input_dtype(kK) != dt || ctx.input_dtype(kV) != dt) return ctx.fail("Q, K and V types differ");
  if (!ctx.input_has_shape(kQ) || !ctx.input_has_shape(kK) || !ctx.input_has_shape(kV)) {
    for (size_t o = 0; o < ctx.num_outputs(); ++o) ctx.set_output_rank_unknown(o, dt);
    return Status::Ok();
  }
  const auto& q = ctx.input_shape(kQ);
  const auto& k = ctx.input_shape(kK);
  const auto& v = ctx.input_shape(kV);
  if (q.size() != k.size() || q.size() != v.size() || (q.size() != 3 && q.size() != 4)) {
    return ctx.fail("Q, K and V must all be 3-D or all 4-D");
  }
  const int64_t qh = ctx.node().attr_int("q_num_heads", 0), kvh = ctx.node().attr_int("kv_num_heads", 0);
  ir::Dim B = q[0], Hq, Hkv, Sq, Skv, D, Dv;
  if (q.size() == 3) {
    if (qh <= 0 || kvh <= 0) return ctx.fail("3-D inputs need q_num_heads and kv_num_heads");
    Hq = qh;
    Hkv = kvh;
    Sq = q[1];
    Skv = k[1];
    D = div_dim(q[2], qh);
    Dv = div_dim(v[2], kvh);
  } else {
    Hq = q[1];
    Hkv = k[1];
    Sq = q[2];
    Skv = k[2];
    D = q[3];
    Dv = v[3];
  }
  ir::Dim T = Skv;
  if (ctx.has_input(kPastK)) {
    T = ctx.input_has_shape(kPastK) && ctx.input_shape(kPastK).size() == 4
            ? add_dims(ctx.input_shape(kPastK)[2], Skv)
            : ir::Dim();
  }
  if (q.size() == 3) {
    ctx.set_output(0, dt,
                   {B, Sq, Hq.is_static() && Dv.is_static() ? ir::Dim(Hq.value * Dv.value) : ir::Dim()});
  } else {
    ctx.set_output(0, dt, {B, Hq, Sq, Dv});
  }
  if (ctx.num_outputs() > 1) ctx.set_output(1, dt, {B, Hkv, T, D});
  if (ctx.num_outputs() > 2) ctx.set_output(2, dt, {B, Hkv, T, Dv});
  if (ctx.num_outputs() > 3) ctx.set_output(3, dt, {B, Hq, Sq, T});
  return Status::Ok();
}

template <typename A>
Status attention_typed(RunContext& ctx) {
  const Tensor& qt = ctx.input(kQ);
  const Tensor& kt = ctx.input(kK);
  const Tensor& vt = ctx.input(kV);
  const ir::Node& node = ctx.node();
  const bool three_d = qt.rank() == 3;
  if (kt.rank() != qt.rank() || vt.rank() != qt.rank() || (qt.rank() != 3 && qt.rank() != 4)) {
    return ctx.fail("Q, K and V must all be 3-D or all 4-D");
  }
  ref::AttentionParams p;
  int64_t Skv = 0;
  std::vector<A> q = load<A>(qt), k = load<A>(kt), v = load<A>(vt);
  if (three_d) {
    const int64_t qh = node.attr_int("q_num_heads", 0), kvh = node.attr_int("kv_num_heads", 0);
    if (qh <= 0 || kvh <= 0) return ctx.fail("3-D inputs need q_num_heads and kv_num_heads");
    if (qt.dim(2) % qh != 0 || kt.dim(2) % kvh != 0 || vt.dim(2) % kvh != 0) {
      return ctx.fail("hidden sizes are not divisible by the head counts");
    }
    p.batch = qt.dim(0);
    p.q_heads = qh;
    p.kv_heads = kvh;
    p.q_len = qt.dim(1);
    Skv = kt.dim(1);
    p.head_size = qt.dim(2) / qh;
    if (kt.dim(2) / kvh != p.head_size) return ctx.fail("Q and K head sizes differ");
    p.v_head_size = vt.dim(2) / kvh;
    if (vt.dim(1) != Skv || kt.dim(0) != p.batch || vt.dim(0) != p.batch)
      return ctx.fail("K and V shapes disagree");
    q = split_heads(q, p.batch, p.q_len, qh, p.head_size, false);
    k = split_heads(k, p.batch, Skv, kvh, p.head_size, false);
    v = split_heads(v, p.batch, Skv, kvh, p.v_head_size, false);
  } else {
    p.batch = qt.dim(0);
    p.q_heads = qt.dim(1);
    p.kv_heads = kt.dim(1);
    p.q_len = qt.dim(2);
    Skv = kt.dim(2);
    p.head_size = qt.dim(3);
    p.v_head_size = vt.dim(3);
    if (kt.dim(3) != p.head_size) return ctx.fail("Q and K head sizes differ");
    if (kt.dim(0) != p.batch || vt.dim(0) != p.batch || vt.dim(1) != p.kv_heads || vt.dim(2) != Skv) {
      return ctx.fail("K and V shapes disagree");
    }
  }
  if (p.kv_heads <= 0 || p.q_heads % p.kv_heads != 0) {
    return ctx.fail("q_num_heads (" + std::to_string(p.q_heads) + ") must be a multiple of kv_num_heads (" +
                    std::to_string(p.kv_heads) + ")");
  }
  const int64_t B = p.batch, Hkv = p.kv_heads, D = p.head_size, Dv = p.v_head_size;
  // KV cache: present = concat(past, new) on the sequence axis.
  const bool has_pk = ctx.has_input(kPastK), has_pv = ctx.has_input(kPastV);
  if (has_pk != has_pv) return ctx.fail("past_key and past_value come together");
  int64_t P = 0;
  if (has_pk) {
    const Tensor& pk = ctx.input(kPastK);
    const Tensor& pv = ctx.input(kPastV);
    if (pk.rank() != 4 || pk.dim(0) != B || pk.dim(1) != Hkv || pk.dim(3) != D) {
      return ctx.fail("past_key has shape " + dims_to_string(pk.dims()) + ", expected [" + std::to_string(B) +
                      "," + std::to_string(Hkv) + ",past," + std::to_string(D) + "]");
    }
    P = pk.dim(2);
    if (pv.rank() != 4 || pv.dim(0) != B || pv.dim(1) != Hkv || pv.dim(2) != P || pv.dim(3) != Dv) {
      return ctx.fail("past_value has shape " + dims_to_string(pv.dims()) +
                      ", inconsistent with past_key and V");
    }
  }
  const int64_t T = P + Skv;
  p.past_len = P;
  p.total_len = T;
  std::vector<A> kall(static_cast<size_t>(B * Hkv * T * D)), vall(static_cast<size_t>(B * Hkv * T * Dv));
  {
    const std::vector<A> pk = has_pk ? load<A>(ctx.input(kPastK)) : std::vector<A>{};
    const std::vector<A> pv = has_pv ? load<A>(ctx.input(kPastV)) : std::vector<A>{};
    for (int64_t bh = 0; bh < B * Hkv; ++bh) {
      for (int64_t t = 0; t < T; ++t) {
        for (int64_t d = 0; d < D; ++d)
          kall[(bh * T + t) * D + d] = t < P ? pk[(bh * P + t) * D + d] : k[(bh * Skv + t - P) * D + d];
        for (int64_t d = 0; d < Dv; ++d)
          vall[(bh * T + t) * Dv + d] = t < P ? pv[(bh * P + t) * Dv + d] : v[(bh * Skv + t - P) * Dv + d];
      }
    }
  }
  // Mask: right-aligned to [B, Hq, Sq, T], its last dim may be shorter than T (the rest is masked).
  std::vector<float> mask;
  if (ctx.has_input(kMask)) {
    const Tensor& m = ctx.input(kMask);
    if (m.rank() < 1 || m.rank() > 4) return ctx.fail("attn_mask must have rank 1 to 4");
    const Dims full = {B, p.q_heads, p.q_len, T};
    const int64_t off = 4 - m.rank();
    int64_t stride = 1;
    for (int64_t d = 3; d >= 0; --d) {
      const int64_t md = d >= off ? m.dim(d - off) : 1;
      const bool ok = d == 3 ? md <= T : (md == full[d] || md == 1);
      if (!ok)
        return ctx.fail("attn_mask of shape " + dims_to_string(m.dims()) + " does not broadcast to " +
                        dims_to_string(full));
      p.mask_strides[d] = (md == 1 && d != 3) ? 0 : stride;
      stride *= md;
    }
    p.mask_len = m.dim(-1);
    mask.resize(static_cast<size_t>(m.numel()));
    if (m.dtype() == DType::kBool) {
      const bool* pm = m.data<bool>();
      for (size_t i = 0; i < mask.size(); ++i) mask[i] = pm[i] ? 0.0f : -INFINITY;
    } else if (is_float_type(m.dtype())) {
      const std::vector<A> mv = load<A>(m);
      for (size_t i = 0; i < mask.size(); ++i) mask[i] = static_cast<float>(mv[i]);
    } else {
      return ctx.fail(std::string("unsupported attn_mask type ") + dtype_name(m.dtype()));
    }
    p.mask = mask.data();
  }
  std::vector<int64_t> kv_valid;
  if (ctx.has_input(kNonpad)) {
    const Tensor& n = ctx.input(kNonpad);
    if (!dtype_is_integer(n.dtype()) || n.numel() != B)
      return ctx.fail("nonpad_kv_seqlen must hold one integer per batch");
    kv_valid = n.to_i64_vector();
    p.kv_valid = kv_valid.data();
  }
  p.causal = node.attr_int("is_causal", 0) != 0;
  p.softcap = node.attr_float("softcap", 0.0f);
  p.qk_mode = static_cast<int>(node.attr_int("qk_matmul_output_mode", 0));
  if (p.qk_mode < 0 || p.qk_mode > 3) return ctx.fail("qk_matmul_output_mode must be 0 to 3");
  p.scale = node.has_attr("scale") ? node.attr_float("scale", 1.0f) : 1.0 / std::sqrt(static_cast<double>(D));

  std::vector<A> y(static_cast<size_t>(B * p.q_heads * p.q_len * Dv));
  const bool want_qk = ctx.num_outputs() > 3 && ctx.has_output(3);
  std::vector<A> qk(want_qk ? static_cast<size_t>(B * p.q_heads * p.q_len * T) : 0);
  ref::attention<A>(p, q.data(), kall.data(), vall.data(), y.data(), want_qk ? qk.data() : nullptr);

  const DType dt = qt.dtype();
  if (three_d) {
    y = split_heads(y, B, p.q_len, p.q_heads, Dv, true);
    INGOT_ASSIGN_OR_RETURN(Tensor * yt, ctx.alloc_output(0, dt, {B, p.q_len, p.q_heads * Dv}));
    store(y, yt);
  } else {
    INGOT_ASSIGN_OR_RETURN(Tensor * yt, ctx.alloc_output(0, dt, {B, p.q_heads, p.q_len, Dv}));
    store(y, yt);
  }
  if (ctx.num_outputs() > 1 && ctx.has_output(1)) {
    INGOT_ASSIGN_OR_RETURN(Tensor * t, ctx.alloc_output(1, kt.dtype(), {B, Hkv, T, D}));
    store(kall, t);
  }
  if (ctx.num_outputs() > 2 && ctx.has_output(2)) {
    INGOT_ASSIGN_OR_RETURN(Tensor * t, ctx.alloc_output(2, vt.dtype(), {B, Hkv, T, Dv}));
    store(vall, t);
  }
  if (want_qk) {
    INGOT_ASSIGN_OR_RETURN(Tensor * t, ctx.alloc_output(3, dt, {B, p.q_heads, p.q_len, T}));
    store(qk, t);
  }
  return Status::Ok();
}

Status run_attention(RunContext& ctx) {
  const DType dt = ctx.input(kQ).dtype();
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input(kK).dtype() != dt || ctx.input(kV).dtype() != dt) return ctx.fail("Q, K and V types differ");
  return dt == DType::kF64 ? attention_typed<double>(ctx) : attention_typed<float>(ctx);
}

// ---- RotaryEmbedding ----

Status infer_rotary(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects inputs X, cos_cache and sin_cache");
  }
  const DType dt = ctx.input_dtype(0);
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input_dtype(1) != dt || ctx.input_dtype(2) != dt) return ctx.fail("cache types differ from X's");
  if (ctx.input_has_shape(0)) {
    const size_t r = ctx.input_shape(0).size();
    if (r != 3 && r != 4)
      return ctx.fail("X must be 3-D or 4-D, got " + ir::shape_to_string(ctx.input_shape(0)));
    if (r == 3 && ctx.node().attr_int("num_heads", 0) <= 0) return ctx.fail("3-D input needs num_heads");
  }
  return infer_same_as_input(ctx);
}

template <typename A>
Status rotary_typed(RunContext& ctx) {
  const Tensor& xt = ctx.input(0);
  const ir::Node& node = ctx.node();
  int64_t B, S, H, D;
  int64_t strides[3];
  if (xt.rank() == 4) {  // [B, H, S, D]
    B = xt.dim(0);
    H = xt.dim(1);
    S = xt.dim(2);
    D = xt.dim(3);
    strides[0] = H * S * D;
    strides[1] = D;
    strides[2] = S * D;
  } else if (xt.rank() == 3) {  // [B, S, H * D]
    H = node.attr_int("num_heads", 0);
    if (H <= 0) return ctx.fail("3-D input needs num_heads");
    B = xt.dim(0);
    S = xt.dim(1);
    if (xt.dim(2) % H != 0) return ctx.fail("hidden size is not divisible by num_heads");
    D = xt.dim(2) / H;
    strides[0] = S * H * D;
    strides[1] = H * D;
    strides[2] = D;
  } else {
    return ctx.fail("X must be 3-D or 4-D, got " + dims_to_string(xt.dims()));
  }
  int64_t rot = node.attr_int("rotary_embedding_dim", 0);
  if (rot == 0) rot = D;
  if (rot < 0 || rot > D || rot % 2 != 0)
    return ctx.fail("rotary_embedding_dim must be even and at most the head size");
  const int64_t half = rot / 2;
  const Tensor& ct = ctx.input(1);
  const Tensor& st = ctx.input(2);
  if (ct.dims() != st.dims()) return ctx.fail("cos_cache and sin_cache shapes differ");
  if (ct.rank() < 1 || ct.dim(-1) != half) {
    return ctx.fail("the caches' last dim must be rotary_embedding_dim / 2 = " + std::to_string(half) +
                    ", got " + dims_to_string(ct.dims()));
  }
  const std::vector<A> cache_c = load<A>(ct), cache_s = load<A>(st);
  std::vector<A> c(static_cast<size_t>(B * S * half)), s(c.size());
  if (ctx.has_input(3)) {
    const Tensor& pos = ctx.input(3);
    if (!dtype_is_integer(pos.dtype()) || pos.dims() != Dims{B, S}) {
      return ctx.fail("position_ids must be integers of shape [batch, sequence]");
    }
    if (ct.rank() != 2)
      return ctx.fail("with position_ids the caches must be [max_position, rotary_dim / 2]");
    const std::vector<int64_t> ids = pos.to_i64_vector();
    for (int64_t i = 0; i < B * S; ++i) {
      if (ids[i] < 0 || ids[i] >= ct.dim(0)) {
        return ctx.fail("position id " + std::to_string(ids[i]) + " is outside the cache of " +
                        std::to_string(ct.dim(0)) + " positions");
      }
      for (int64_t j = 0; j < half; ++j) {
        c[i * half + j] = cache_c[ids[i] * half + j];
        s[i * half + j] = cache_s[ids[i] * half + j];
      }
    }
  } else {
    if (ct.dims() != Dims{B, S, half}) {
      return ctx.fail("without position_ids the caches must be [batch, sequence, rotary_dim / 2], got " +
                      dims_to_string(ct.dims()));
    }
    c = cache_c;
    s = cache_s;
  }
  const std::vector<A> x = load<A>(xt);
  std::vector<A> y(x.size());
  ref::rotary_embedding<A>(x.data(), c.data(), s.data(), y.data(), B, S, H, D, strides, rot,
                           node.attr_int("interleaved", 0) != 0);
  INGOT_ASSIGN_OR_RETURN(Tensor * yt, ctx.alloc_output(0, xt.dtype(), xt.dims()));
  store(y, yt);
  return Status::Ok();
}

Status run_rotary(RunContext& ctx) {
  const DType dt = ctx.input(0).dtype();
  if (!is_float_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.input(1).dtype() != dt || ctx.input(2).dtype() != dt)
    return ctx.fail("cache types differ from X's");
  return dt == DType::kF64 ? rotary_typed<double>(ctx) : rotary_typed<float>(ctx);
}

}  // namespace

INGOT_REGISTER_OP(Attention, .infer = infer_attention, .run = run_attention);
INGOT_REGISTER_OP(RotaryEmbedding, .infer = infer_rotary, .run = run_rotary);

}  // namespace ingot::ops
