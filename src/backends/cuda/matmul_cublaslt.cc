// Matrix products through cuBLASLt: MatMul, Gemm, ingot.FusedMatMul (bias / ReLU / GELU-tanh in
// cuBLASLt's epilogue, the residual as its C matrix, other activations in ingot's epilogue kernel), and
// ingot.Attention as two batched products around ingot's softmax kernel. The candidates are the
// algorithms cuBLASLt's heuristic offers, timed with CUDA events at build; the engine keeps the index.
#include <algorithm>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"

namespace ingot::backends::cuda {
namespace {

using kernels::Fn;
using kernels::FnParams;

constexpr size_t kLtWorkspace = 32 << 20;
constexpr int kLtCandidates = 8;

// Row-major D[b][M,N] = alpha * op(A)[M,K] op(B)[K,N] (+ beta * C) (+ bias[N]), per batch b, mapped onto
// cuBLASLt's column-major view (D^T = op(B)^T op(A)^T).
struct LtShape {
  int64_t m = 0, n = 0, k = 0, batch = 1;
  bool trans_a = false, trans_b = false;
  int64_t stride_a = 0, stride_b = 0, stride_d = 0;  // elements between batches (0: shared)
  bool half = false;
  float alpha = 1, beta = 0;
  cublasLtEpilogue_t epilogue = CUBLASLT_EPILOGUE_DEFAULT;
};

class LtMatmul {
 public:
  ~LtMatmul() {
    if (op_) cublasLtMatmulDescDestroy(op_);
    for (auto* l : {a_, b_, d_})
      if (l) cublasLtMatrixLayoutDestroy(l);
  }
  Status init(const LtShape& s) {
    s_ = s;
    const cudaDataType_t dt = s.half ? CUDA_R_16F : CUDA_R_32F;
    const cublasComputeType_t ct = s.half ? CUBLAS_COMPUTE_32F : CUBLAS_COMPUTE_32F_FAST_TF32;
    INGOT_CUBLAS_OK(cublasLtMatmulDescCreate(&op_, ct, CUDA_R_32F));
    // Column-major operands: "A" is the row-major B, "B" the row-major A.
    const cublasOperation_t ta = s.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                            tb = s.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    INGOT_CUBLAS_OK(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    INGOT_CUBLAS_OK(cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    INGOT_CUBLAS_OK(
        cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_EPILOGUE, &s.epilogue, sizeof s.epilogue));
    auto u = [](int64_t v) { return static_cast<uint64_t>(v); };
    // row-major B [K,N] (ld N) is column-major N x K; transposed, row-major [N,K] is column-major K x N.
    INGOT_CUBLAS_OK(cublasLtMatrixLayoutCreate(&a_, dt, s.trans_b ? u(s.k) : u(s.n),
                                               s.trans_b ? u(s.n) : u(s.k), s.trans_b ? s.k : s.n));
    INGOT_CUBLAS_OK(cublasLtMatrixLayoutCreate(&b_, dt, s.trans_a ? u(s.m) : u(s.k),
                                               s.trans_a ? u(s.k) : u(s.m), s.trans_a ? s.m : s.k));
    INGOT_CUBLAS_OK(cublasLtMatrixLayoutCreate(&d_, dt, u(s.n), u(s.m), s.n));
    if (s.batch > 1) {
      const int32_t count = static_cast<int32_t>(s.batch);
      for (auto [l, stride] :
           {std::pair{a_, s.stride_b}, std::pair{b_, s.stride_a}, std::pair{d_, s.stride_d}}) {
        INGOT_CUBLAS_OK(
            cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof count));
        INGOT_CUBLAS_OK(cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET,
                                                         &stride, sizeof stride));
      }
    }
    return Status::Ok();
  }

  Status set_bias(const void* bias) {
    return cublas_status(
        cublasLtMatmulDescSetAttribute(op_, CUBLASLT_MATMUL_DESC_BIAS_POINTER, &bias, sizeof bias),
        "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  }

  // The heuristic's algorithms for this shape (needs the bias pointer set when there is a bias).
  Expected<std::vector<cublasLtMatmulAlgo_t>> algorithms(cublasLtHandle_t h) const {
    cublasLtMatmulPreference_t pref = nullptr;
    INGOT_CUBLAS_OK(cublasLtMatmulPreferenceCreate(&pref));
    const size_t ws = kLtWorkspace;
    cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    cublasLtMatmulHeuristicResult_t res[kLtCandidates];
    int n = 0;
    const cublasStatus_t st =
        cublasLtMatmulAlgoGetHeuristic(h, op_, a_, b_, d_, d_, pref, kLtCandidates, res, &n);
    cublasLtMatmulPreferenceDestroy(pref);
    INGOT_CUBLAS_OK(st);
    std::vector<cublasLtMatmulAlgo_t> out;
    for (int i = 0; i < n; ++i)
      if (res[i].state == CUBLAS_STATUS_SUCCESS) out.push_back(res[i].algo);
    if (out.empty()) return unsupported("cuBLASLt offers no algorithm for this product");
    return out;
  }
  void set_algo(const cublasLtMatmulAlgo_t& a) { algo_ = a; }

  // d = A * B (+ beta * c). The bias pointer, when any, is the one set_bias gave.
  Status run(cublasLtHandle_t h, cudaStream_t st, const void* a, const void* b, const void* c, void* d,
             void* ws, size_t ws_bytes) const {
    const float beta = c ? s_.beta : 0.f;
    INGOT_CUBLAS_OK(cublasLtMatmul(h, op_, &s_.alpha, b, a_, a, b_, &beta, c ? c : d, d_, d, d_, &algo_, ws,
                                   std::min(ws_bytes, kLtWorkspace), st));
    return Status::Ok();
  }

 private:
  LtShape s_;
  cublasLtMatmulDesc_t op_ = nullptr;
  cublasLtMatrixLayout_t a_ = nullptr, b_ = nullptr, d_ = nullptr;
  cublasLtMatmulAlgo_t algo_{};
};

// Picks an algorithm: the engine's choice, else the fastest of the heuristic's when tuning, else its first.
Status pick_algorithm(LayerBuild& b, LtMatmul& mm, const std::function<Status(void* ws)>& run_once) {
  INGOT_ASSIGN_OR_RETURN(auto algos, mm.algorithms(b.handles->lt));
  int64_t choice = b.choice;
  if (choice < 0) {
    choice = 0;
    if (b.tune && b.tuning && algos.size() > 1) {
      void* ws = nullptr;
      INGOT_CUDA_OK(cudaMalloc(&ws, kLtWorkspace));
      double best = -1;
      for (size_t i = 0; i < algos.size(); ++i) {
        mm.set_algo(algos[i]);
        const double ms = median_ms(b.tuning->stream, 5, [&] { return run_once(ws); });
        if (ms >= 0 && (best < 0 || ms < best)) {
          best = ms;
          choice = static_cast<int64_t>(i);
        }
      }
      cudaFree(ws);
    }
    b.choice = choice;
  }
  mm.set_algo(algos[std::min<size_t>(static_cast<size_t>(choice), algos.size() - 1)]);
  return Status::Ok();
}

int64_t numel(const Dims& d) {
  int64_t n = 1;
  for (int64_t x : d) n *= x;
  return n;
}

// ---- MatMul, Gemm, FusedMatMul ----

class MatmulLayer : public CudaLayer {
 public:
  LtMatmul mm;
  int bias_input = -1, c_input = -1;  // layer inputs read as bias / as C
  FnParams after;                     // an activation cuBLASLt's epilogue does not do
  int64_t n = 1;
  Status enqueue(const Launch& l) const override {
    const void* c = c_input >= 0 ? l.in[c_input].ptr : nullptr;
    INGOT_RETURN_IF_ERROR(mm.run(l.handles->lt, l.stream, l.in[0].ptr, l.in[1].ptr, c, l.out[0].ptr,
                                 l.workspace, l.workspace_bytes));
    if (after.fn != Fn::kNone) {
      kernels::epilogue(l.out[0].half(), l.out[0].ptr, l.out[0].ptr, nullptr, nullptr, l.out[0].numel(), 1, 1,
                        after, l.stream);
      INGOT_CUDA_LAUNCHED();
    }
    return Status::Ok();
  }
  size_t workspace_bytes() const override { return kLtWorkspace; }
};

// The product's shape, or why cuBLASLt cannot take it as one (strided-batched) product.
Expected<LtShape> matmul_shape(const LayerBuild& b) {
  const Dims& a = b.in(0).dims;
  const Dims& w = b.in(1).dims;
  LtShape s;
  s.half = b.fp16;
  const bool gemm = b.layer.op_type == "Gemm";
  if (gemm) {
    if (a.size() != 2 || w.size() != 2) return unsupported("Gemm takes 2-D A and B");
    s.trans_a = b.attr_int("transA", 0) != 0;
    s.trans_b = b.attr_int("transB", 0) != 0;
    s.alpha = b.attr_float("alpha", 1.f);
    s.m = s.trans_a ? a[1] : a[0];
    s.k = s.trans_a ? a[0] : a[1];
    s.n = s.trans_b ? w[0] : w[1];
    return s;
  }
  if (a.size() < 2 || w.size() < 2) return unsupported("1-D operands");
  s.k = a.back();
  s.n = w.back();
  if (w[w.size() - 2] != s.k) return unsupported("inner dimensions differ");
  if (w.size() == 2) {  // one weight matrix for every row of A
    s.m = numel(a) / s.k;
    return s;
  }
  if (a.size() != w.size()) return unsupported("batch dims broadcast");
  for (size_t d = 0; d + 2 < a.size(); ++d)
    if (a[d] != w[d]) return unsupported("batch dims broadcast");
  s.m = a[a.size() - 2];
  s.batch = numel(a) / (s.m * s.k);
  s.stride_a = s.m * s.k;
  s.stride_b = s.k * s.n;
  s.stride_d = s.m * s.n;
  return s;
}

std::string matmul_supports(const LayerBuild& b) {
  const bool fused = b.layer.domain == "ingot" && b.layer.op_type == "FusedMatMul";
  const bool plain = b.layer.domain.empty() && (b.layer.op_type == "MatMul" || b.layer.op_type == "Gemm");
  if (!fused && !plain) return "-";
  for (size_t i = 0; i < 2; ++i)
    if (!b.has_in(i) || b.in(i).dtype != DType::kF32) return "not float32";
  auto s = matmul_shape(b);
  if (!s.ok()) return s.status().message();
  if (fused) {
    if (b.has_in(2) && numel(b.in(2).dims) != s->n) return "bias is not one value per column";
    if (b.has_in(3) && b.in(3).dims != b.out(0).dims) return "residual broadcasts";
    auto f = fused_activation(b);
    if (!f.ok()) return f.status().message();
  }
  if (b.layer.op_type == "Gemm" && b.has_in(2)) {
    const Dims& c = b.in(2).dims;
    const bool row = numel(c) == s->n && (c.size() == 1 || (c.size() == 2 && c[0] == 1));
    const bool full = c.size() == 2 && c[0] == s->m && c[1] == s->n;
    if (!row && !full) return "C broadcasts other than per column";
    if (row && b.attr_float("beta", 1.f) != 1.f) return "beta != 1 with a per-column C";
  }
  return "";
}

Expected<std::unique_ptr<CudaLayer>> matmul_prepare(LayerBuild& b) {
  auto k = std::make_unique<MatmulLayer>();
  INGOT_ASSIGN_OR_RETURN(LtShape s, matmul_shape(b));
  FnParams act;
  if (b.layer.op_type == "FusedMatMul") {
    INGOT_ASSIGN_OR_RETURN(act, fused_activation(b));
    if (b.has_in(2)) k->bias_input = 2;
    if (b.has_in(3)) {
      k->c_input = 3;
      s.beta = 1.f;
    }
  } else if (b.layer.op_type == "Gemm" && b.has_in(2)) {
    if (numel(b.in(2).dims) == s.n && b.in(2).dims.size() <= 2 &&
        (b.in(2).dims.size() == 1 || b.in(2).dims[0] == 1)) {
      k->bias_input = 2;
    } else {
      k->c_input = 2;
      s.beta = b.attr_float("beta", 1.f);
    }
  }
  const bool bias = k->bias_input >= 0;
  s.epilogue = bias ? CUBLASLT_EPILOGUE_BIAS : CUBLASLT_EPILOGUE_DEFAULT;
  if (act.fn == Fn::kRelu) {
    s.epilogue = bias ? CUBLASLT_EPILOGUE_RELU_BIAS : CUBLASLT_EPILOGUE_RELU;
  } else if (act.fn == Fn::kGeluTanh) {
    s.epilogue =
        bias ? CUBLASLT_EPILOGUE_GELU_BIAS : CUBLASLT_EPILOGUE_GELU;  // cuBLASLt's GELU is the tanh form
  } else {
    k->after = act;
  }
  INGOT_RETURN_IF_ERROR(k->mm.init(s));
  // The bias is a weight: its device pointer is fixed for the engine's life (it is set again from the
  // engine's weights when loaded).
  const void* bias_ptr = bias ? b.weights[2].ptr : nullptr;
  if (bias && !bias_ptr) return unsupported("the bias is not a constant");
  if (bias) INGOT_RETURN_IF_ERROR(k->mm.set_bias(bias_ptr));
  MatmulLayer* raw = k.get();
  INGOT_RETURN_IF_ERROR(pick_algorithm(b, k->mm, [&](void* ws) {
    Launch l = *b.tuning;
    l.workspace = ws;
    l.workspace_bytes = kLtWorkspace;
    return raw->enqueue(l);
  }));
  return std::unique_ptr<CudaLayer>(std::move(k));
}

INGOT_REGISTER_CUDA_TACTIC(cublaslt_matmul, "cuda.cublaslt.matmul", matmul_supports, matmul_prepare);

// ---- Attention: softmax(scale * Q K^T) V as two batched products ----

class AttentionLayer : public CudaLayer {
 public:
  LtMatmul scores, context;
  int64_t batch = 1, sq = 1, sk = 1;
  size_t elem = 4;
  Status enqueue(const Launch& l) const override {
    if (l.workspace_bytes < workspace_bytes()) return internal_error("attention workspace too small");
    void* s = l.workspace;
    void* ws = static_cast<char*>(l.workspace) + score_bytes();
    const size_t ws_bytes = l.workspace_bytes - score_bytes();
    INGOT_RETURN_IF_ERROR(
        scores.run(l.handles->lt, l.stream, l.in[0].ptr, l.in[1].ptr, nullptr, s, ws, ws_bytes));
    kernels::softmax(l.out[0].half(), false, s, s, batch * sq, sk, 1, 1.f, l.stream);
    INGOT_CUDA_LAUNCHED();
    return context.run(l.handles->lt, l.stream, s, l.in[2].ptr, nullptr, l.out[0].ptr, ws, ws_bytes);
  }
  size_t score_bytes() const { return (static_cast<size_t>(batch * sq * sk) * elem + 255) / 256 * 256; }
  size_t workspace_bytes() const override { return score_bytes() + kLtWorkspace; }
};

std::string attention_supports(const LayerBuild& b) {
  if (b.layer.domain != "ingot" || b.layer.op_type != "Attention") return "-";
  if (b.has_in(3)) return "a mask";
  for (const char* v : {"q_view", "k_view", "v_view", "y_view"})
    if (b.layer.attrs.count(v)) return "strided views (not yet)";
  for (size_t i = 0; i < 3; ++i)
    if (!b.has_in(i) || b.in(i).dtype != DType::kF32) return "not float32";
  const Dims &q = b.in(0).dims, &k = b.in(1).dims, &v = b.in(2).dims;
  if (q.size() < 2 || k.size() != q.size() || v.size() != q.size()) return "ranks differ";
  for (size_t d = 0; d + 2 < q.size(); ++d)
    if (q[d] != k[d] || q[d] != v[d]) return "batch dims broadcast";
  return "";
}

Expected<std::unique_ptr<CudaLayer>> attention_prepare(LayerBuild& b) {
  auto a = std::make_unique<AttentionLayer>();
  const Dims &q = b.in(0).dims, &k = b.in(1).dims, &v = b.in(2).dims;
  const bool kt = b.attr_int("k_transposed", 1) != 0;  // K given as K^T [.., d, Sk]
  const size_t r = q.size();
  a->sq = q[r - 2];
  const int64_t d = q[r - 1];
  a->sk = kt ? k[r - 1] : k[r - 2];
  const int64_t dv = v[r - 1];
  a->batch = numel(q) / (a->sq * d);
  a->elem = b.fp16 ? 2 : 4;
  LtShape s1;
  s1.half = b.fp16;
  s1.m = a->sq, s1.n = a->sk, s1.k = d, s1.batch = a->batch;
  s1.trans_b = !kt;  // row-major K [Sk, d] is K^T transposed
  s1.stride_a = a->sq * d, s1.stride_b = a->sk * d, s1.stride_d = a->sq * a->sk;
  s1.alpha = b.attr_float("scale", 1.f);
  LtShape s2;
  s2.half = b.fp16;
  s2.m = a->sq, s2.n = dv, s2.k = a->sk, s2.batch = a->batch;
  s2.stride_a = a->sq * a->sk, s2.stride_b = a->sk * dv, s2.stride_d = a->sq * dv;
  INGOT_RETURN_IF_ERROR(a->scores.init(s1));
  INGOT_RETURN_IF_ERROR(a->context.init(s2));
  INGOT_ASSIGN_OR_RETURN(auto al1, a->scores.algorithms(b.handles->lt));
  INGOT_ASSIGN_OR_RETURN(auto al2, a->context.algorithms(b.handles->lt));
  a->scores.set_algo(al1.front());
  a->context.set_algo(al2.front());
  return std::unique_ptr<CudaLayer>(std::move(a));
}

INGOT_REGISTER_CUDA_TACTIC(attention, "cuda.ingot.attention", attention_supports, attention_prepare);

}  // namespace
}  // namespace ingot::backends::cuda
