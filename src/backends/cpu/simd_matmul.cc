// cpu.ingot.matmul.{avx512,avx2}: MatMul, Gemm and ingot.FusedMatMul with a constant 2-D B, on ingot's
// SIMD gemm over B packed once into panels (prepare), A's leading dims folded into M. The epilogue rides
// along: bias (FusedMatMul's, or Gemm's constant row C) and the residual Z (Gemm's full C) in the
// accumulators, then ReLU or the erf GELU on each finished block while it is in cache (run_packed_gemm).
#include <cstring>

#include "backends/cpu/matmul_config.h"
#include "backends/cpu/simd_gemm.h"
#include "backends/cpu/simd_tactic.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

enum class Act { kNone, kRelu, kGelu };

// The configuration when this tactic can run the layer, else why not.
Expected<MatMulConfig> packed_config(const LayerDesc& d, Act* act) {
  INGOT_ASSIGN_OR_RETURN(MatMulConfig c, matmul_config(d));
  if (!c.b_const) return unsupported("B is not constant");
  if (d.input(1)->dims.size() != 2) return unsupported("B is not 2-D");
  if (c.ta) return unsupported("A is transposed");
  if (c.sum_input >= 0 && c.sum_scale != 1.f) return unsupported("C is scaled (beta != 1)");
  const LayerNode ln(d.layer, d.tensors);
  const std::string a = ln.node.attr_string("activation", "");
  if (c.kind != Kind::kFusedMatMul || a.empty())
    *act = Act::kNone;
  else if (a == "Relu")
    *act = Act::kRelu;
  else if (a == "Gelu")
    *act = Act::kGelu;
  else
    return unsupported("activation '" + a + "' is not ReLU or the erf GELU");
  return c;
}

std::string packed_supports(const LayerDesc& d) {
  Act act;
  auto c = packed_config(d, &act);
  return c.ok() ? "" : c.status().message();
}

class PackedMatMulKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  PackedMatMulKernel(const SimdKernels& k, MatMulConfig cfg, Act act, const Tensor& b)
      : k_(k), cfg_(std::move(cfg)), act_(act) {
    const Dims& bd = b.dims();
    K_ = cfg_.tb ? bd[1] : bd[0];
    N_ = cfg_.tb ? bd[0] : bd[1];
    packed_.resize(static_cast<size_t>(packed_b_size(k_, K_, N_)));
    k_.pack_b(K_, N_, b.data<float>(), bd[1], cfg_.tb, cfg_.alpha, packed_.data());
  }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    if (a.dtype() != DType::kF32) return ctx.fail("A must be float32");
    const Dims bd = cfg_.tb ? Dims{N_, K_} : Dims{K_, N_};
    auto g = matmul_geometry(a.dims(), bd, cfg_.kind == Kind::kGemm, false, cfg_.tb);
    if (!g.ok()) return ctx.fail(g.status().message());
    const int64_t M = g->M;
    const float* bias = cfg_.row_bias.empty() ? nullptr : cfg_.row_bias.data();
    if (cfg_.bias_input >= 0) {
      const Tensor& t = ctx.input(cfg_.bias_input);
      if (t.dtype() != DType::kF32 || t.numel() != N_)
        return ctx.fail("bias has " + std::to_string(t.numel()) + " values for " + std::to_string(N_) +
                        " columns");
      bias = t.data<float>();
    }
    const Tensor* z = cfg_.sum_input >= 0 ? &ctx.input(cfg_.sum_input) : nullptr;
    if (z && (z->dtype() != DType::kF32 || z->dims() != g->out)) {
      return ctx.fail(std::string(cfg_.kind == Kind::kGemm ? "C " : "residual Z ") +
                      dims_to_string(z->dims()) + " does not match the output " + dims_to_string(g->out));
    }
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, g->out));
    if (y->numel() == 0) return Status::Ok();
    float* yp = y->data<float>();
    // Z goes into the output first (unless the output is Z's memory already), then accumulates.
    if (z && z->raw() != y->raw()) std::memcpy(yp, z->raw(), z->nbytes());
    PackedGemm pg;
    pg.M = M, pg.N = N_, pg.K = K_;
    pg.A = a.data<float>(), pg.lda = K_;
    pg.packed_b = packed_.data(), pg.bias = bias;
    pg.C = yp, pg.ldc = N_, pg.accumulate = z != nullptr;
    GemmBlockDone epilogue;
    if (act_ != Act::kNone) {
      epilogue = [&](int64_t, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
        for (int64_t i = m0; i < m1; ++i) {
          float* row = yp + i * N_ + n0;
          if (act_ == Act::kRelu)
            k_.relu(row, row, n1 - n0);
          else
            k_.gelu_erf(row, row, n1 - n0);
        }
      };
    }
    run_packed_gemm(k_, pg, epilogue);
    return Status::Ok();
  }

 private:
  const SimdKernels& k_;
  MatMulConfig cfg_;
  Act act_;
  int64_t K_ = 0, N_ = 0;
  std::vector<float> packed_;
};

Expected<std::unique_ptr<Kernel>> packed_prepare(const LayerDesc& d, const SimdKernels& k) {
  Act act;
  auto c = packed_config(d, &act);
  if (!c.ok()) return unsupported("layer '" + d.layer.name + "': " + c.status().message());
  return std::unique_ptr<Kernel>(
      std::make_unique<PackedMatMulKernel>(k, std::move(*c), act, d.input(1)->weight));
}

}  // namespace

INGOT_REGISTER_SIMD_TACTICS(cpu_ingot_matmul, "ingot.matmul", packed_supports, packed_prepare);

}  // namespace ingot::backends::cpu
