// cpu.ingot.attention.{avx512,avx2}: the ingot.Attention layer (softmax(scale * Q K^T + mask) V over
// [..., S, D] heads) with ingot's SIMD gemm and softmax, one head at a time per thread of the pool. Q, K,
// V and Y are read and written in place through the layer's strided views (q_view ...: each head's rows
// are strides[2] apart, which the gemm's leading dimensions take). The
// scores of a head (Sq x Sk floats) and K^T live in the thread's scratch, never in the arena.
#include <cstring>

#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"
#include "kernels/reference/attention.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

std::string attention_supports(const LayerDesc& d) {
  if (d.layer.domain != "ingot" || d.layer.op_type != "Attention") return "not an ingot.Attention";
  if (d.layer.inputs.size() > 4) return "too many inputs";
  for (auto [t, what] :
       {std::pair{d.input(0), "Q"}, {d.input(1), "K"}, {d.input(2), "V"}, {d.output(0), "Y"}}) {
    std::string why = check_f32(t, what);
    if (!why.empty()) return why;
  }
  if (d.input(3)) {
    std::string why = check_f32(d.input(3), "the mask");
    if (!why.empty()) return why;
  }
  // Q's rank: its view's when it has one.
  auto q_view = d.layer.attrs.find("q_view");
  const size_t r = q_view != d.layer.attrs.end() ? q_view->second.ints.size() / 2 : d.input(0)->dims.size();
  if (r != 3 && r != 4) return "Q is not 3-D or 4-D";
  return "";
}

class AttentionKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit AttentionKernel(const SimdKernels& k) : k_(k) {}

  Status run(ops::RunContext& ctx) const override {
    const ir::Node& node = ctx.node();
    const Tensor& q_in = ctx.input(0);
    const Tensor& k_in = ctx.input(1);
    const Tensor& v_in = ctx.input(2);
    const Tensor* mask = ctx.has_input(3) ? &ctx.input(3) : nullptr;
    for (const Tensor* t : {&q_in, &k_in, &v_in, mask})
      if (t && t->dtype() != DType::kF32) return ctx.fail("Q, K, V and the mask must be float32");
    // Q, K, V (and Y) as [B, H, S, D] views of their tensors (the inputs as they are, without view
    // attributes).
    ref::AttentionView view[4];
    int64_t r = 0;
    for (size_t i = 0; i < 3; ++i) {
      const Tensor& t = ctx.input(i);
      const std::vector<int64_t> a = node.attr_ints(ref::kAttentionViewAttrs[i]);
      std::string why = ref::attention_view(a, t.dims(), t.numel(), &view[i]);
      if (!why.empty()) return ctx.fail(std::string(ref::kAttentionViewAttrs[i]) + ": " + why);
      const int64_t ri = a.empty() ? t.rank() : static_cast<int64_t>(a.size() / 2);
      if (i && ri != r) return ctx.fail("Q, K and V must have the same rank, 3 or 4");
      r = ri;
    }
    const ref::AttentionView &qv = view[0], &kv = view[1], &vv = view[2];
    const bool kt = node.attr_int("k_transposed", 0) != 0;
    const int64_t batch = qv.dims[0], heads = qv.dims[1], sq = qv.dims[2], d = qv.dims[3];
    const int64_t sk = vv.dims[2], dv = vv.dims[3];
    if (kv.dims[0] != batch || vv.dims[0] != batch || kv.dims[1] != heads || vv.dims[1] != heads)
      return ctx.fail("Q, K and V differ in their leading dims");
    if ((kt ? kv.dims[3] : kv.dims[2]) != sk || (kt ? kv.dims[2] : kv.dims[3]) != d)
      return ctx.fail("K does not fit Q and V");
    const float scale = node.attr_float("scale", 1.0f);
    if (!(scale > 0)) return ctx.fail("scale must be positive");
    // The mask right-aligned to the scores [B, H, Sq, Sk], strides 0 where it broadcasts.
    int64_t ms[4] = {0, 0, 0, 0};
    if (mask) {
      if (mask->rank() > r)
        return ctx.fail("mask " + dims_to_string(mask->dims()) + " has a higher rank than the scores");
      Dims md(static_cast<size_t>(r - mask->rank()), 1);
      md.insert(md.end(), mask->dims().begin(), mask->dims().end());
      if (r == 3) md.insert(md.begin() + 1, 1);
      const int64_t target[4] = {batch, heads, sq, sk};
      int64_t stride = 1;
      for (int i = 3; i >= 0; --i) {
        if (md[i] != target[i] && md[i] != 1)
          return ctx.fail("mask " + dims_to_string(mask->dims()) + " does not broadcast to the scores");
        ms[i] = md[i] == 1 ? 0 : stride;
        stride *= md[i];
      }
    }
    Dims logical{batch, heads, sq, dv};
    if (r == 3) logical.erase(logical.begin() + 1);
    const Dims out = node.has_attr("y_shape") ? Dims(node.attr_ints("y_shape")) : logical;
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, out));
    std::string why = ref::attention_view(node.attr_ints("y_view"), logical, y->numel(), &view[3]);
    if (!why.empty()) return ctx.fail("y_view: " + why);
    const ref::AttentionView& yv = view[3];
    if (yv.dims[0] != batch || yv.dims[1] != heads || yv.dims[2] != sq || yv.dims[3] != dv)
      return ctx.fail("y_view's dims are not the output's " + dims_to_string(logical));
    if (y->numel() == 0) return Status::Ok();
    if (sk == 0) return ctx.fail("no keys to attend to");
    const float* qp = q_in.data<float>();
    const float* kp = k_in.data<float>();
    const float* vp = v_in.data<float>();
    const float* mp = mask ? mask->data<float>() : nullptr;
    float* yp = y->data<float>();
    bool out_of_memory = false;
    parallel_for(batch * heads, 1, [&](int64_t begin, int64_t end) {
      auto* scores = static_cast<float*>(thread_scratch(0, static_cast<size_t>(sq * sk) * sizeof(float)));
      auto* k_t =
          static_cast<float*>(thread_scratch(1, static_cast<size_t>(kt ? 1 : d * sk) * sizeof(float)));
      auto* mask_row = static_cast<float*>(thread_scratch(2, static_cast<size_t>(sk) * sizeof(float)));
      if (!scores || !k_t || !mask_row) {
        out_of_memory = true;
        return;
      }
      for (int64_t bh = begin; bh < end; ++bh) {
        const int64_t b = bh / heads, h = bh % heads;
        // Rows of Q, K, V and Y strides[2] apart (K^T's rows when kt).
        const float* kh = kp + kv.at(b, h, 0);
        int64_t ldk = kv.strides[2];
        if (!kt) {
          k_.transpose(kh, ldk, k_t, sk, sk, d);
          kh = k_t;
          ldk = sk;
        }
        k_.gemm(sq, sk, d, scale, qp + qv.at(b, h, 0), qv.strides[2], kh, ldk, scores, sk, false);
        if (!mp) {
          k_.softmax_rows(scores, sk, nullptr, scores, sk, sq, sk);
        } else if (ms[2] == 0 && ms[3] == 1) {
          k_.softmax_rows(scores, sk, mp + b * ms[0] + h * ms[1], scores, sk, sq, sk);
        } else {
          for (int64_t i = 0; i < sq; ++i) {
            const float* m = mp + b * ms[0] + h * ms[1] + i * ms[2];
            if (ms[3] != 1) {
              for (int64_t j = 0; j < sk; ++j) mask_row[j] = m[j * ms[3]];
              m = mask_row;
            }
            k_.softmax_rows(scores + i * sk, sk, m, scores + i * sk, sk, 1, sk);
          }
        }
        k_.gemm(sq, dv, sk, 1.f, scores, sk, vp + vv.at(b, h, 0), vv.strides[2], yp + yv.at(b, h, 0),
                yv.strides[2], false);
      }
    });
    if (out_of_memory) return ctx.fail("out of memory for the attention scores");
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
};

}  // namespace

INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_attention, "ingot.attention", attention_supports,
                            (prepare_simd_kernel<AttentionKernel, attention_supports>));

}  // namespace ingot::backends::cpu
