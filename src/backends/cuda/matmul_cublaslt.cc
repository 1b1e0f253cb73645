// Matrix products through cuBLASLt: MatMul, Gemm, ingot.FusedMatMul (bias / ReLU / GELU-tanh in
// cuBLASLt's epilogue, the residual as its C matrix, other activations in ingot's epilogue kernel), and
// ingot.Attention as two batched products around ingot's softmax kernel. The candidates are the
// algorithms cuBLASLt's heuristic offers, timed with CUDA events at build; the engine keeps the index.
// ingot.Attention in FP16 engines runs ingot's flash attention kernel instead when it can (no mask).
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "backends/cuda/cuda_common.h"
#include "backends/cuda/kernels.h"
#include "kernels/reference/attention.h"

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

// ---- Attention ----
// cuda.ingot.flash_attention.f16, first: FP16 engines without a mask, ingot's flash attention kernel
// (attention.cu), reading Q, K, V and writing Y in place through the layer's views. cuda.ingot.attention,
// the rest: softmax(scale * Q K^T + mask) V as two batched cuBLASLt products around the softmax kernel,
// over contiguous operands (gathered into the workspace first when the layer has views, the output
// scattered back after).

// Q, K, V and Y as [B, H, S, D] views: from the view attributes fold_attention_views sets, else the
// tensors as they are.
struct AttentionShape {
  ref::AttentionView view[4];  // Q, K, V, Y
  bool views = false, kt = false;
  int64_t batch = 0, heads = 0, sq = 0, sk = 0, d = 0, dv = 0;
  kernels::Strided mask;  // the mask over the scores [B, H, Sq, Sk] (rank 0: none)
};

Expected<AttentionShape> attention_shape(const LayerBuild& b) {
  AttentionShape a;
  a.kt = b.attr_int("k_transposed", 1) != 0;  // K given as K^T [.., d, Sk]
  size_t rank = 0;
  for (size_t i = 0; i < 3; ++i) {
    const std::vector<int64_t> attr = b.attr_ints(ref::kAttentionViewAttrs[i]);
    a.views = a.views || !attr.empty();
    const std::string why = ref::attention_view(attr, b.in(i).dims, numel(b.in(i).dims), &a.view[i]);
    if (!why.empty()) return unsupported(std::string(ref::kAttentionViewAttrs[i]) + ": " + why);
    const size_t ri = attr.empty() ? b.in(i).dims.size() : attr.size() / 2;
    if (i && ri != rank) return unsupported("ranks differ");
    rank = ri;
  }
  if (a.views && a.kt) return unsupported("views with K^T given");
  const ref::AttentionView &q = a.view[0], &k = a.view[1], &v = a.view[2];
  a.batch = q.dims[0], a.heads = q.dims[1], a.sq = q.dims[2], a.d = q.dims[3];
  a.sk = v.dims[2], a.dv = v.dims[3];
  if (k.dims[0] != a.batch || v.dims[0] != a.batch || k.dims[1] != a.heads || v.dims[1] != a.heads)
    return unsupported("batch dims broadcast");
  if ((a.kt ? k.dims[3] : k.dims[2]) != a.sk || (a.kt ? k.dims[2] : k.dims[3]) != a.d)
    return unsupported("K does not fit Q and V");
  Dims logical{a.batch, a.heads, a.sq, a.dv};
  if (rank == 3) logical.erase(logical.begin() + 1);
  const std::vector<int64_t> y_attr = b.attr_ints("y_view");
  a.views = a.views || !y_attr.empty();
  const std::string why = ref::attention_view(y_attr, logical, numel(b.out(0).dims), &a.view[3]);
  if (!why.empty()) return unsupported("y_view: " + why);
  const ref::AttentionView& y = a.view[3];
  if (y.dims[0] != a.batch || y.dims[1] != a.heads || y.dims[2] != a.sq || y.dims[3] != a.dv)
    return unsupported("y_view's dims are not the output's");
  if (b.has_in(3)) {
    // Right-aligned to the scores [B, H, Sq, Sk], stride 0 where it broadcasts.
    const Dims& m = b.in(3).dims;
    if (m.size() > rank) return unsupported("the mask has a higher rank than the scores");
    Dims md(rank - m.size(), 1);
    md.insert(md.end(), m.begin(), m.end());
    if (rank == 3) md.insert(md.begin() + 1, 1);
    const int64_t target[4] = {a.batch, a.heads, a.sq, a.sk};
    a.mask.rank = 4;
    int64_t stride = 1;
    for (int i = 3; i >= 0; --i) {
      if (md[i] != target[i] && md[i] != 1) return unsupported("the mask does not broadcast to the scores");
      a.mask.dims[i] = target[i];
      a.mask.strides[i] = md[i] == 1 ? 0 : stride;
      stride *= md[i];
    }
  }
  return a;
}

// The gather of a view into a contiguous [B, H, S, D] buffer.
kernels::Strided gather_map(const ref::AttentionView& v) {
  kernels::Strided m;
  m.rank = 4;
  for (int i = 0; i < 4; ++i) m.dims[i] = v.dims[i], m.strides[i] = v.strides[i];
  m.offset = v.offset;
  return m;
}

// The scatter of a contiguous [B, H, S, D] buffer through the output's view, as a gather over the output's
// own order: the view's axes by decreasing stride must tile the output exactly (a Transpose + Reshape of
// it, as fold_attention_views makes). Else nullopt.
std::optional<kernels::Strided> scatter_map(const ref::AttentionView& v, int64_t out_numel) {
  int order[4] = {0, 1, 2, 3};
  std::stable_sort(order, order + 4, [&](int x, int y) { return v.strides[x] > v.strides[y]; });
  const int64_t dense[4] = {v.dims[1] * v.dims[2] * v.dims[3], v.dims[2] * v.dims[3], v.dims[3], 1};
  kernels::Strided m;
  m.rank = 4;
  int64_t expect = 1;
  for (int i = 3; i >= 0; --i) {
    const int a = order[i];
    m.dims[i] = v.dims[a];
    m.strides[i] = dense[a];
    if (v.dims[a] == 1) continue;
    if (v.strides[a] != expect) return std::nullopt;
    expect *= v.dims[a];
  }
  if (v.offset != 0 || expect != out_numel) return std::nullopt;
  return m;
}

kernels::AttnView attn_view(const ref::AttentionView& v) {
  return {v.offset, v.strides[0], v.strides[1], v.strides[2]};
}

// Whether this device lets a CTA take `bytes` of shared memory.
bool smem_fits(size_t bytes) {
  int dev = 0, optin = 0;
  if (cudaGetDevice(&dev) != cudaSuccess ||
      cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev) != cudaSuccess)
    return false;
  return bytes <= static_cast<size_t>(optin);
}

// INGOT_CUDA_FLASH=0 turns the flash kernel off (cuda.ingot.attention then runs every attention), =1 gives it
// every attention it runs (tests); unset, the builder times both tactics and keeps the faster.
const char* flash_env() {
  static const char* e = std::getenv("INGOT_CUDA_FLASH");
  return e ? e : "";
}
bool flash_allowed() { return std::string(flash_env()) != "0"; }
bool flash_forced() { return std::string(flash_env()) == "1"; }

class FlashAttentionLayer : public CudaLayer {
 public:
  AttentionShape a;
  float scale = 1;
  int warps = 0;  // per CTA, picked once for this device at prepare
  Status enqueue(const Launch& l) const override {
    INGOT_CUDA_OK(kernels::flash_attention_f16(l.in[0].ptr, attn_view(a.view[0]), l.in[1].ptr,
                                               attn_view(a.view[1]), l.in[2].ptr, attn_view(a.view[2]),
                                               l.out[0].ptr, attn_view(a.view[3]), a.batch, a.heads, a.sq,
                                               a.sk, a.d, a.dv, scale, l.stream, warps));
    return Status::Ok();
  }
};

std::string flash_attention_supports(const LayerBuild& b) {
  if (b.layer.domain != "ingot" || b.layer.op_type != "Attention") return "-";
  if (!b.fp16) return "not an FP16 engine";
  if (!flash_allowed()) return "off (INGOT_CUDA_FLASH=0)";
  if (b.has_in(3)) return "a mask";
  for (size_t i = 0; i < 3; ++i)
    if (!b.has_in(i) || b.in(i).dtype != DType::kF32) return "not float32";
  auto a = attention_shape(b);
  if (!a.ok()) return a.status().message();
  if (a->kt) return "K^T given";
  if (!kernels::flash_attention_fits(a->d, a->dv, a->sq, a->sk))
    return "head dims " + std::to_string(a->d) + ", " + std::to_string(a->dv) + " (multiples of 8 up to 128)";
  if (a->batch > 65535 || a->heads > 65535) return "more than 65535 batches or heads";
  if (!smem_fits(kernels::flash_attention_smem(a->d, a->dv))) return "not enough shared memory per block";
  return "";
}

Expected<std::unique_ptr<CudaLayer>> flash_attention_prepare(LayerBuild& b) {
  auto l = std::make_unique<FlashAttentionLayer>();
  INGOT_ASSIGN_OR_RETURN(l->a, attention_shape(b));
  l->scale = b.attr_float("scale", 1.f);
  l->warps = kernels::flash_attention_warps(l->a.batch, l->a.heads, l->a.sq);
  INGOT_CUDA_OK(kernels::flash_attention_setup());
  return std::unique_ptr<CudaLayer>(std::move(l));
}

// Registered before cuda.ingot.attention: at --opt-level 0 the backend takes the first tactic that supports a
// layer; above, it times both.
INGOT_REGISTER_CUDA_TACTIC(flash_attention, "cuda.ingot.flash_attention.f16", flash_attention_supports,
                           flash_attention_prepare);

class AttentionLayer : public CudaLayer {
 public:
  LtMatmul scores, context;
  AttentionShape a;
  size_t elem = 4;
  kernels::Strided y_map;
  Status enqueue(const Launch& l) const override {
    if (l.workspace_bytes < workspace_bytes()) return internal_error("attention workspace too small");
    char* w = static_cast<char*>(l.workspace);
    void* s = w;
    w += score_bytes();
    const void* in[3] = {l.in[0].ptr, l.in[1].ptr, l.in[2].ptr};
    void* y = l.out[0].ptr;
    if (a.views) {
      for (int i = 0; i < 3; ++i) {
        kernels::strided_copy(elem, w, in[i], gather_map(a.view[i]), l.stream);
        INGOT_CUDA_LAUNCHED();
        in[i] = w;
        w += operand_bytes(i);
      }
      y = w;
      w += operand_bytes(3);
    }
    const size_t ws_bytes = l.workspace_bytes - static_cast<size_t>(w - static_cast<char*>(l.workspace));
    INGOT_RETURN_IF_ERROR(scores.run(l.handles->lt, l.stream, in[0], in[1], nullptr, s, w, ws_bytes));
    if (a.mask.rank) {
      kernels::Strided id = a.mask;
      for (int64_t i = 3, stride = 1; i >= 0; stride *= id.dims[i], --i) id.strides[i] = stride;
      kernels::binary(l.out[0].half(), kernels::BinOp::kAdd, s, s, id, l.in[3].ptr, a.mask, l.stream);
      INGOT_CUDA_LAUNCHED();
    }
    kernels::softmax(l.out[0].half(), false, s, s, a.batch * a.heads * a.sq, a.sk, 1, 1.f, l.stream);
    INGOT_CUDA_LAUNCHED();
    INGOT_RETURN_IF_ERROR(context.run(l.handles->lt, l.stream, s, in[2], nullptr, y, w, ws_bytes));
    if (a.views) {
      kernels::strided_copy(elem, l.out[0].ptr, y, y_map, l.stream);
      INGOT_CUDA_LAUNCHED();
    }
    return Status::Ok();
  }
  static size_t aligned(size_t bytes) { return (bytes + 255) / 256 * 256; }
  size_t score_bytes() const { return aligned(static_cast<size_t>(a.batch * a.heads * a.sq * a.sk) * elem); }
  // The contiguous copy of Q, K, V or Y.
  size_t operand_bytes(int i) const {
    const ref::AttentionView& v = a.view[i];
    return aligned(static_cast<size_t>(v.dims[0] * v.dims[1] * v.dims[2] * v.dims[3]) * elem);
  }
  size_t workspace_bytes() const override {
    size_t n = score_bytes() + kLtWorkspace;
    if (a.views)
      for (int i = 0; i < 4; ++i) n += operand_bytes(i);
    return n;
  }
};

std::string attention_supports(const LayerBuild& b) {
  if (b.layer.domain != "ingot" || b.layer.op_type != "Attention") return "-";
  if (flash_forced() && flash_attention_supports(b).empty())
    return "the flash kernel runs it (INGOT_CUDA_FLASH=1)";
  for (size_t i = 0; i < 3; ++i)
    if (!b.has_in(i) || b.in(i).dtype != DType::kF32) return "not float32";
  if (b.has_in(3) && b.in(3).dtype != DType::kF32) return "the mask is not float32";
  auto a = attention_shape(b);
  if (!a.ok()) return a.status().message();
  if (a->views && !scatter_map(a->view[3], numel(b.out(0).dims))) return "y_view is not a permutation of Y";
  return "";
}

Expected<std::unique_ptr<CudaLayer>> attention_prepare(LayerBuild& b) {
  auto l = std::make_unique<AttentionLayer>();
  INGOT_ASSIGN_OR_RETURN(l->a, attention_shape(b));
  const AttentionShape& a = l->a;
  l->elem = b.fp16 ? 2 : 4;
  if (a.views) {
    auto m = scatter_map(a.view[3], numel(b.out(0).dims));
    if (!m) return unsupported("y_view is not a permutation of Y");
    l->y_map = *m;
  }
  LtShape s1;
  s1.half = b.fp16;
  s1.m = a.sq, s1.n = a.sk, s1.k = a.d, s1.batch = a.batch * a.heads;
  s1.trans_b = !a.kt;  // row-major K [Sk, d] is K^T transposed
  s1.stride_a = a.sq * a.d, s1.stride_b = a.sk * a.d, s1.stride_d = a.sq * a.sk;
  s1.alpha = b.attr_float("scale", 1.f);
  LtShape s2;
  s2.half = b.fp16;
  s2.m = a.sq, s2.n = a.dv, s2.k = a.sk, s2.batch = a.batch * a.heads;
  s2.stride_a = a.sq * a.sk, s2.stride_b = a.sk * a.dv, s2.stride_d = a.sq * a.dv;
  INGOT_RETURN_IF_ERROR(l->scores.init(s1));
  INGOT_RETURN_IF_ERROR(l->context.init(s2));
  INGOT_ASSIGN_OR_RETURN(auto al1, l->scores.algorithms(b.handles->lt));
  INGOT_ASSIGN_OR_RETURN(auto al2, l->context.algorithms(b.handles->lt));
  l->scores.set_algo(al1.front());
  l->context.set_algo(al2.front());
  return std::unique_ptr<CudaLayer>(std::move(l));
}

INGOT_REGISTER_CUDA_TACTIC(attention, "cuda.ingot.attention", attention_supports, attention_prepare);

}  // namespace
}  // namespace ingot::backends::cuda
