#include "backends/cpu/matmul_config.h"

#include "backends/cpu/onednn_common.h"

namespace ingot::backends::cpu {
namespace {

using engine::PlanTensor;

bool layer_kind(const engine::PlanLayer& l, Kind* k) {
  if (l.domain.empty() && l.op_type == "MatMul")
    *k = Kind::kMatMul;
  else if (l.domain.empty() && l.op_type == "Gemm")
    *k = Kind::kGemm;
  else if (l.domain == "ingot" && l.op_type == "FusedMatMul")
    *k = Kind::kFusedMatMul;
  else
    return false;
  return true;
}

}  // namespace

Expected<MatMulGeometry> matmul_geometry(const Dims& a, const Dims& b, bool gemm, bool ta, bool tb) {
  MatMulGeometry g;
  if (gemm) {
    if (a.size() != 2 || b.size() != 2)
      return invalid_argument("A and B must be 2-D, got " + dims_to_string(a) + " and " + dims_to_string(b));
    g.ta = ta;
    g.tb = tb;
    g.M = ta ? a[1] : a[0];
    g.K = ta ? a[0] : a[1];
    g.N = tb ? b[0] : b[1];
    if ((tb ? b[1] : b[0]) != g.K)
      return invalid_argument("inner dimensions differ: " + dims_to_string(a) + " and " + dims_to_string(b));
    g.src = {g.M, g.K};
    g.wei = {g.K, g.N};
    g.dst = g.out = {g.M, g.N};
    return g;
  }
  if (a.empty() || b.empty()) return invalid_argument("MatMul operands must have rank >= 1");
  g.K = a.back();
  if ((b.size() == 1 ? b[0] : b[b.size() - 2]) != g.K)
    return invalid_argument("inner dimensions differ: " + dims_to_string(a) + " and " + dims_to_string(b));
  g.N = b.size() == 1 ? 1 : b.back();
  if (b.size() <= 2) {
    // Every row of A against one B: A's leading dims fold into M.
    g.M = 1;
    for (size_t i = 0; i + 1 < a.size(); ++i) g.M *= a[i];
    g.src = {g.M, g.K};
    g.wei = {g.K, g.N};
    g.dst = {g.M, g.N};
    g.out.assign(a.begin(), a.end() - 1);
    if (b.size() == 2) g.out.push_back(g.N);
    return g;
  }
  g.M = a.size() == 1 ? 1 : a[a.size() - 2];
  const Dims ab(a.begin(), a.end() - std::min<size_t>(a.size(), 2)), bb(b.begin(), b.end() - 2);
  const size_t batch = std::max(ab.size(), bb.size());
  Dims dst_batch(batch);
  g.src.assign(batch - ab.size(), 1);
  g.src.insert(g.src.end(), ab.begin(), ab.end());
  g.wei.assign(batch - bb.size(), 1);
  g.wei.insert(g.wei.end(), bb.begin(), bb.end());
  for (size_t i = 0; i < batch; ++i) {
    if (g.src[i] != g.wei[i] && g.src[i] != 1 && g.wei[i] != 1)
      return invalid_argument("batch dims of " + dims_to_string(a) + " and " + dims_to_string(b) +
                              " do not broadcast");
    dst_batch[i] = g.src[i] == 1 ? g.wei[i] : g.src[i];
  }
  g.dst = dst_batch;
  g.out = dst_batch;
  g.src.insert(g.src.end(), {g.M, g.K});
  g.wei.insert(g.wei.end(), {g.K, g.N});
  g.dst.insert(g.dst.end(), {g.M, g.N});
  if (a.size() > 1) g.out.push_back(g.M);
  g.out.push_back(g.N);
  return g;
}

Expected<MatMulConfig> matmul_config(const LayerDesc& d) {
  const engine::PlanLayer& l = d.layer;
  MatMulConfig c;
  if (!layer_kind(l, &c.kind)) return unsupported("not a MatMul, Gemm or FusedMatMul");
  const size_t max_inputs = c.kind == Kind::kMatMul ? 2 : c.kind == Kind::kGemm ? 3 : 4;
  if (l.inputs.size() > max_inputs) return unsupported("too many inputs");
  const PlanTensor *a = d.input(0), *b = d.input(1), *y = d.output(0);
  for (auto [t, what] : {std::pair{a, "A"}, {b, "B"}, {y, "the output"}}) {
    const std::string why = check_f32(t, what);
    if (!why.empty()) return unsupported(why);
  }
  c.b_const = b->kind == engine::TensorKind::kWeight;
  if (a->dims.empty() || b->dims.empty()) return unsupported("scalar operand");
  const LayerNode ln(l, d.tensors);
  const ir::Node& node = ln.node;
  if (c.kind == Kind::kGemm) {
    c.ta = node.attr_int("transA", 0) != 0;
    c.tb = node.attr_int("transB", 0) != 0;
    c.alpha = node.attr_float("alpha", 1.f);
    const float beta = node.attr_float("beta", 1.f);
    if (c.alpha != 1.f && !c.b_const) return unsupported("alpha != 1 with a B that is not constant");
    if (a->dims.size() != 2 || b->dims.size() != 2) return unsupported("Gemm operands must be 2-D");
    const PlanTensor* cin = d.input(2);
    if (cin) {
      const std::string why = check_f32(cin, "C");
      if (!why.empty()) return unsupported(why);
      const Dims& cd = cin->dims;
      const int64_t N = c.tb ? b->dims[0] : b->dims[1];
      const bool exact = l.opset < 7 && node.attr_int("broadcast", 0) == 0;
      const bool row =
          cd.size() <= 2 && (cd.size() < 2 || cd[0] == 1) && (cd.empty() || cd.back() == 1 || cd.back() == N);
      if (cin->kind == engine::TensorKind::kWeight && row && !exact && dims_static(cd)) {
        const float* p = cin->weight.data<float>();
        const bool per_column = !cd.empty() && cd.back() == N;
        for (int64_t j = 0; j < N; ++j) c.row_bias.push_back(beta * p[per_column ? j : 0]);
      } else if (cd.size() == 2 && dims_static(cd) && y->dims.size() == 2 &&
                 (y->dims[0] < 0 || y->dims[0] == cd[0]) && (y->dims[1] < 0 || y->dims[1] == cd[1])) {
        c.sum_input = 2;
        c.sum_scale = beta;
      } else {
        return unsupported("C of shape " + dims_to_string(cd) +
                           " is neither a constant row nor the output's shape");
      }
    }
  } else if (c.kind == Kind::kFusedMatMul) {
    if (const PlanTensor* bias = d.input(2)) {
      const std::string why = check_f32(bias, "bias");
      if (!why.empty()) return unsupported(why);
      if (bias->dims.size() != 1) return unsupported("bias is not 1-D");
      c.bias_input = 2;
    }
    if (const PlanTensor* z = d.input(3)) {
      const std::string why = check_f32(z, "Z");
      if (!why.empty()) return unsupported(why);
      c.sum_input = 3;
    }
  }
  if (c.kind != Kind::kMatMul) {
    dnnl::post_ops ops;
    const std::string why = append_activation(node, ops);
    if (!why.empty()) return unsupported(why);
  }
  // Batched products need equal ranks up to 12 (oneDNN's limit) once promoted.
  if (std::max(a->dims.size(), b->dims.size()) > 6) return unsupported("rank above 6");
  for (const PlanTensor* t : {a, b, y})
    for (int64_t dim : t->dims)
      if (dim == 0) return unsupported(kEmptyMatMul);
  if (dims_static(a->dims) && dims_static(b->dims)) {
    auto g = matmul_geometry(a->dims, b->dims, c.kind == Kind::kGemm, c.ta, c.tb);
    if (!g.ok()) return g.status();
    if (g->out != y->dims && dims_static(y->dims))
      return unsupported("output shape differs from the product's");
  }
  return c;
}

}  // namespace ingot::backends::cpu
