// cpu.ingot.attention.{avx512,avx2}: the ingot.Attention layer (softmax(scale * Q K^T + mask) V over
// [..., S, D] heads) with ingot's SIMD gemm and softmax, one head at a time per thread of the pool. The
// scores of a head (Sq x Sk floats) and K^T live in the thread's scratch, never in the arena.
#include <cstring>

#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"
#include "core/threading.h"

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
  const size_t r = d.input(0)->dims.size();
  if (r != 3 && r != 4) return "Q is not 3-D or 4-D";
  return "";
}

class AttentionKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  explicit AttentionKernel(const SimdKernels& k) : k_(k) {}

  Status run(ops::RunContext& ctx) const override {
    const Tensor& q = ctx.input(0);
    const Tensor& kin = ctx.input(1);
    const Tensor& v = ctx.input(2);
    const Tensor* mask = ctx.has_input(3) ? &ctx.input(3) : nullptr;
    for (const Tensor* t : {&q, &kin, &v, mask})
      if (t && t->dtype() != DType::kF32) return ctx.fail("Q, K, V and the mask must be float32");
    const int64_t r = q.rank();
    if ((r != 3 && r != 4) || kin.rank() != r || v.rank() != r)
      return ctx.fail("Q, K and V must have the same rank, 3 or 4");
    for (int64_t i = 0; i < r - 2; ++i) {
      if (kin.dim(i) != q.dim(i) || v.dim(i) != q.dim(i)) {
        return ctx.fail("Q " + dims_to_string(q.dims()) + ", K " + dims_to_string(kin.dims()) + " and V " +
                        dims_to_string(v.dims()) + " differ in their leading dims");
      }
    }
    const bool kt = ctx.node().attr_int("k_transposed", 0) != 0;
    const int64_t sq = q.dim(-2), d = q.dim(-1), sk = v.dim(-2), dv = v.dim(-1);
    if ((kt ? kin.dim(-1) : kin.dim(-2)) != sk || (kt ? kin.dim(-2) : kin.dim(-1)) != d) {
      return ctx.fail("K " + dims_to_string(kin.dims()) + " does not fit Q " + dims_to_string(q.dims()) +
                      " and V " + dims_to_string(v.dims()));
    }
    const float scale = ctx.node().attr_float("scale", 1.0f);
    if (!(scale > 0)) return ctx.fail("scale must be positive");
    const int64_t batch = q.dim(0), heads = r == 4 ? q.dim(1) : 1;
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
    Dims out(q.dims().begin(), q.dims().end() - 1);
    out.push_back(dv);
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, out));
    if (y->numel() == 0) return Status::Ok();
    if (sk == 0) return ctx.fail("no keys to attend to");
    const float* qp = q.data<float>();
    const float* kp = kin.data<float>();
    const float* vp = v.data<float>();
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
        const float* kh = kp + bh * sk * d;
        if (!kt) {
          k_.transpose(kh, d, k_t, sk, sk, d);
          kh = k_t;
        }
        k_.gemm(sq, sk, d, scale, qp + bh * sq * d, d, kh, sk, scores, sk, false);
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
        k_.gemm(sq, dv, sk, 1.f, scores, sk, vp + bh * sk * dv, dv, yp + bh * sq * dv, dv, false);
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
