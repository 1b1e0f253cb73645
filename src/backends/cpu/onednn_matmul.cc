// cpu.onednn.matmul: MatMul, Gemm and ingot.FusedMatMul (fp32) through dnnl::matmul, with the bias in
// the primitive and the rest of the epilogue as post-ops (sum for a residual / Gemm's full C, eltwise for
// the activation). A constant B is reordered once into the primitive's preferred format (Gemm's alpha
// folded into that reorder); a B of at most 2 dims lets A's leading dims fold into M, one big product.
// Batched products broadcast their batch dims as MatMul does.
// cpu.onednn.matmul.ingot_gelu.{avx512,avx2}: the same for a FusedMatMul whose activation is the erf GELU,
// with the GELU run by ingot's SIMD kernel after the product instead of as oneDNN's post-op (which
// oneDNN 2.x's gemm-based matmul applies slowly).
#include <cstring>
#include <unordered_map>

#include "backends/cpu/matmul_config.h"
#include "backends/cpu/onednn_common.h"
#include "backends/cpu/simd_tactic.h"

namespace ingot::backends::cpu {
namespace {

using dnnl::memory;
using engine::PlanTensor;

// A plain desc, or the transposed view of a matrix stored the other way round.
memory::desc f32_desc(const Dims& d, bool transposed) {
  if (!transposed) return plain_f32_desc(d);
  return memory::desc(to_dnnl_dims(d), memory::data_type::f32, memory::dims{1, d[0]});
}

struct MatMulInstance {
  MatMulGeometry g;
  dnnl::matmul prim;
  memory::desc src_md, wei_md, dst_md, bias_md, scratch_md;
  memory weights;  // packed when B is constant
};

bool has_bias(const MatMulConfig& c) { return !c.row_bias.empty() || c.bias_input >= 0; }

// The instance for A and B of these shapes; `b_const` is B's value when it is constant (packed here).
Expected<std::unique_ptr<MatMulInstance>> make_instance(const ir::Node& node, const Dims& a, const Dims& b,
                                                        const Tensor& b_const, const MatMulConfig& cfg) {
  INGOT_ASSIGN_OR_RETURN(MatMulGeometry g, matmul_geometry(a, b, cfg.kind == Kind::kGemm, cfg.ta, cfg.tb));
  if (!cfg.row_bias.empty() && static_cast<int64_t>(cfg.row_bias.size()) != g.N)
    return invalid_argument(node.describe() + ": C does not broadcast to the output");
  auto inst = std::make_unique<MatMulInstance>();
  const dnnl::engine& eng = onednn_engine();
  const auto f32 = memory::data_type::f32;
  try {
    inst->src_md = f32_desc(g.src, g.ta);
    inst->wei_md = f32_desc(g.wei, g.tb);
    inst->dst_md = plain_f32_desc(g.dst);
    if (has_bias(cfg)) {
      Dims bias_dims(g.dst.size(), 1);
      bias_dims.back() = g.N;
      inst->bias_md = plain_f32_desc(bias_dims);
    }
    const memory::desc wei =
        cfg.b_const ? memory::desc(to_dnnl_dims(g.wei), f32, memory::format_tag::any) : inst->wei_md;
    dnnl::post_ops ops;
    if (cfg.sum_input >= 0) ops.append_sum(cfg.sum_scale);
    const std::string why = cfg.simd_gelu ? "" : append_activation(node, ops);
    if (!why.empty()) return onednn_failure(node.name, why);
    dnnl::primitive_attr attr;
    attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
    attr.set_post_ops(ops);
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(inst->src_md, wei, inst->bias_md, inst->dst_md),
                                          attr, eng);
    inst->prim = dnnl::matmul(pd);
    inst->scratch_md = pd.scratchpad_desc();
    if (cfg.b_const) {
      inst->weights = memory(pd.weights_desc(), eng);
      memory user(inst->wei_md, eng, const_cast<void*>(b_const.raw()));
      dnnl::primitive_attr scale;
      if (cfg.alpha != 1.f) scale.set_output_scales(0, {cfg.alpha});
      dnnl::stream s(eng);
      dnnl::reorder(dnnl::reorder::primitive_desc(eng, inst->wei_md, eng, pd.weights_desc(), scale))
          .execute(s, user, inst->weights);
      s.wait();
    }
  } catch (const dnnl::error& e) {
    return onednn_failure(
        node.name, "no matmul for A " + dims_to_string(a) + ", B " + dims_to_string(b) + ": " + e.what());
  }
  inst->g = std::move(g);
  return inst;
}

class MatMulKernel : public Kernel {
 public:
  bool overwrites_outputs() const override { return true; }
  MatMulKernel(Tensor b, MatMulConfig cfg) : b_(std::move(b)), cfg_(std::move(cfg)) {}

  Status prepare_static(const ir::Node& node, const Dims& a, const Dims& b) {
    INGOT_ASSIGN_OR_RETURN(static_, make_instance(node, a, b, b_, cfg_));
    static_a_ = a;
    static_b_ = b;
    return Status::Ok();
  }

  Status run(ops::RunContext& ctx) const override {
    const Tensor& a = ctx.input(0);
    const Tensor& b = cfg_.b_const ? b_ : ctx.input(1);
    if (a.dtype() != DType::kF32 || b.dtype() != DType::kF32) return ctx.fail("A and B must be float32");
    const MatMulInstance* inst = static_.get();
    if (!inst || a.dims() != static_a_ || b.dims() != static_b_) {
      if (a.numel() == 0 || b.numel() == 0) return ctx.fail(kEmptyMatMul);
      Dims key = a.dims();
      key.push_back(-1);
      key.insert(key.end(), b.dims().begin(), b.dims().end());
      auto made = dynamic_.get(key, [&] { return make_instance(ctx.node(), a.dims(), b.dims(), b_, cfg_); });
      if (!made.ok()) return ctx.fail(made.status().message());
      inst = *made;
    }
    const MatMulGeometry& g = inst->g;
    const Tensor* sum = cfg_.sum_input >= 0 ? &ctx.input(cfg_.sum_input) : nullptr;
    if (sum && (sum->dtype() != DType::kF32 || sum->dims() != g.out)) {
      return ctx.fail(std::string(cfg_.kind == Kind::kGemm ? "C " : "residual Z ") +
                      dims_to_string(sum->dims()) + " does not match the output " + dims_to_string(g.out));
    }
    const void* bias = cfg_.row_bias.empty() ? nullptr : cfg_.row_bias.data();
    if (cfg_.bias_input >= 0) {
      const Tensor& t = ctx.input(cfg_.bias_input);
      if (t.dtype() != DType::kF32 || t.numel() != g.N)
        return ctx.fail("bias has " + std::to_string(t.numel()) + " values for " + std::to_string(g.N) +
                        " columns");
      bias = t.raw();
    }
    INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, g.out));
    if (y->numel() == 0) return Status::Ok();
    if (g.K == 0) return ctx.fail("empty inner dimension");
    try {
      const dnnl::engine& eng = onednn_engine();
      dnnl::stream s(eng);
      if (sum && sum->raw() != y->raw()) std::memcpy(y->raw(), sum->raw(), sum->nbytes());
      std::unordered_map<int, memory> args{
          {DNNL_ARG_SRC, memory(inst->src_md, eng, const_cast<void*>(a.raw()))},
          {DNNL_ARG_WEIGHTS,
           cfg_.b_const ? inst->weights : memory(inst->wei_md, eng, const_cast<void*>(b.raw()))},
          {DNNL_ARG_DST, memory(inst->dst_md, eng, y->raw())}};
      if (bias) args.emplace(DNNL_ARG_BIAS, memory(inst->bias_md, eng, const_cast<void*>(bias)));
      add_scratchpad(args, inst->scratch_md);
      inst->prim.execute(s, args);
      s.wait();
      if (cfg_.simd_gelu) simd_gelu_erf(*cfg_.simd_gelu, y->data<float>(), y->data<float>(), y->numel());
    } catch (const dnnl::error& e) {
      return ctx.fail(std::string("oneDNN: ") + e.what());
    }
    return Status::Ok();
  }

 private:
  Tensor b_;
  MatMulConfig cfg_;
  std::unique_ptr<MatMulInstance> static_;
  Dims static_a_, static_b_;
  ShapeCache<MatMulInstance> dynamic_;
};

std::string matmul_supports(const LayerDesc& d) {
  auto c = matmul_config(d);
  return c.ok() ? "" : c.status().message();
}

Expected<std::unique_ptr<Kernel>> prepare_with(const LayerDesc& d, MatMulConfig cfg);

Expected<std::unique_ptr<Kernel>> matmul_prepare(const LayerDesc& d) {
  auto c = matmul_config(d);
  if (!c.ok()) return unsupported("layer '" + d.layer.name + "': " + c.status().message());
  return prepare_with(d, std::move(*c));
}

Expected<std::unique_ptr<Kernel>> prepare_with(const LayerDesc& d, MatMulConfig cfg) {
  const PlanTensor* b = d.input(1);
  Tensor b_const = cfg.b_const ? b->weight : Tensor();
  auto k = std::make_unique<MatMulKernel>(b_const, std::move(cfg));
  const Dims& a = d.input(0)->dims;
  if (dims_static(a) && dims_static(b->dims)) {
    const LayerNode ln(d.layer, d.tensors);
    INGOT_RETURN_IF_ERROR(k->prepare_static(ln.node, a, b->dims));
  }
  return std::unique_ptr<Kernel>(std::move(k));
}

std::string gelu_epilogue_supports(const LayerDesc& d) {
  if (d.layer.domain != "ingot" || d.layer.op_type != "FusedMatMul") return "not an ingot.FusedMatMul";
  const LayerNode ln(d.layer, d.tensors);
  if (ln.node.attr_string("activation", "") != "Gelu") return "activation is not the erf GELU";
  return matmul_supports(d);
}

Expected<std::unique_ptr<Kernel>> gelu_epilogue_prepare(const LayerDesc& d, const SimdKernels& k) {
  const std::string why = gelu_epilogue_supports(d);
  if (!why.empty()) return unsupported("layer '" + d.layer.name + "': " + why);
  auto c = matmul_config(d);
  if (!c.ok()) return c.status();
  c->simd_gelu = &k;
  return prepare_with(d, std::move(*c));
}

}  // namespace

INGOT_REGISTER_TACTIC(cpu_onednn_matmul, .id = "cpu.onednn.matmul", .supports = matmul_supports,
                      .prepare = matmul_prepare);
INGOT_REGISTER_SIMD_TACTICS(cpu_onednn_matmul_gelu, "onednn.matmul.ingot_gelu", gelu_epilogue_supports,
                            gelu_epilogue_prepare);

}  // namespace ingot::backends::cpu
