// TfIdfVectorizer (opset 9). The pool (pool_int64s or pool_strings) lists n-grams grouped by size:
// ngram_counts[i] is where the n-grams of i + 1 tokens start. N-gram number k (over all sizes) is
// counted in output column ngram_indexes[k]. X [C] gives Y [out_size]; X [B, C] gives [B, out_size].
#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "kernels/reference/tfidf.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

struct TfIdfAttrs {
  ref::TfIdfParams params;
  std::vector<int64_t> counts, indexes;
  std::vector<float> weights;
};

template <typename Ctx>
Expected<TfIdfAttrs> read_attrs(const Ctx& ctx) {
  const ir::Node& node = ctx.node();
  TfIdfAttrs a;
  auto& p = a.params;
  p.min_gram = node.attr_int("min_gram_length", 0);
  p.max_gram = node.attr_int("max_gram_length", 0);
  p.max_skip = node.attr_int("max_skip_count", 0);
  if (p.min_gram < 1 || p.max_gram < p.min_gram) {
    return ctx.fail("need 1 <= min_gram_length <= max_gram_length, got " + std::to_string(p.min_gram) +
                    " and " + std::to_string(p.max_gram));
  }
  if (p.max_skip < 0) return ctx.fail("max_skip_count must be non-negative");
  const std::string mode = node.attr_string("mode", "");
  if (mode == "TF") {
    p.mode = ref::TfIdfMode::kTf;
  } else if (mode == "IDF") {
    p.mode = ref::TfIdfMode::kIdf;
  } else if (mode == "TFIDF") {
    p.mode = ref::TfIdfMode::kTfIdf;
  } else {
    return ctx.fail("mode must be TF, IDF or TFIDF, got '" + mode + "'");
  }
  a.counts = node.attr_ints("ngram_counts");
  a.indexes = node.attr_ints("ngram_indexes");
  a.weights = node.attr_floats("weights");
  if (a.indexes.empty()) return ctx.fail("ngram_indexes is required");
  for (int64_t v : a.indexes)
    if (v < 0) return ctx.fail("ngram_indexes must be non-negative");
  p.out_size = *std::max_element(a.indexes.begin(), a.indexes.end()) + 1;
  if (!a.weights.empty() && static_cast<int64_t>(a.weights.size()) < p.out_size) {
    return ctx.fail("weights has " + std::to_string(a.weights.size()) + " values for " +
                    std::to_string(p.out_size) + " outputs");
  }
  return a;
}

// N-gram -> output column, for the sizes in [min_gram, max_gram] (the others are never counted).
template <typename K, typename Ctx>
Expected<std::map<std::vector<K>, int64_t>> build_pool(const Ctx& ctx, const TfIdfAttrs& a,
                                                       const std::vector<K>& pool) {
  std::map<std::vector<K>, int64_t> grams;
  const int64_t total = static_cast<int64_t>(pool.size());
  int64_t id = 0;
  for (size_t i = 0; i < a.counts.size(); ++i) {
    const int64_t size = static_cast<int64_t>(i) + 1;
    const int64_t begin = a.counts[i], end = i + 1 < a.counts.size() ? a.counts[i + 1] : total;
    if (begin < 0 || end < begin || end > total)
      return ctx.fail("ngram_counts must be ascending offsets into the pool");
    const int64_t n = (end - begin) / size;
    if (size < a.params.min_gram || size > a.params.max_gram) {
      id += n;
      continue;
    }
    for (int64_t g = 0; g < n; ++g, ++id) {
      if (id >= static_cast<int64_t>(a.indexes.size()))
        return ctx.fail("ngram_indexes has fewer entries than the pool");
      const auto first = pool.begin() + begin + g * size;
      grams[std::vector<K>(first, first + size)] = a.indexes[id];
    }
  }
  return grams;
}

Status infer_tfidf(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  const DType dt = ctx.input_dtype(0);
  if (dt != DType::kString && dt != DType::kI32 && dt != DType::kI64) {
    return ctx.fail(std::string("X must be string, int32 or int64, got ") + dtype_name(dt));
  }
  INGOT_ASSIGN_OR_RETURN(TfIdfAttrs a, read_attrs(ctx));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, DType::kF32);
    return Status::Ok();
  }
  const auto& x = ctx.input_shape(0);
  if (x.size() > 2) return ctx.fail("X must be [C] or [B, C], got " + shape_to_string(x));
  ir::SymShape out;
  if (x.size() == 2) out.push_back(x[0]);
  out.push_back(a.params.out_size);
  ctx.set_output(0, DType::kF32, out);
  return Status::Ok();
}

template <typename K>
Status run_with(RunContext& ctx, const TfIdfAttrs& a, const std::vector<K>& pool, const K* x, int64_t rows,
                int64_t cols, Tensor* y) {
  INGOT_ASSIGN_OR_RETURN(auto grams, build_pool(ctx, a, pool));
  ref::TfIdfParams p = a.params;
  p.weights = a.weights.empty() ? nullptr : a.weights.data();
  ref::tfidf(x, rows, cols, grams, p, y->data<float>());
  return Status::Ok();
}

Status run_tfidf(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(TfIdfAttrs a, read_attrs(ctx));
  if (x.rank() > 2) return ctx.fail("X must be [C] or [B, C], got " + dims_to_string(x.dims()));
  const int64_t rows = x.rank() == 2 ? x.dim(0) : 1;
  const int64_t cols = x.rank() == 0 ? 1 : x.dim(-1);
  Dims out{a.params.out_size};
  if (x.rank() == 2) out.insert(out.begin(), rows);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kF32, out));
  if (x.dtype() == DType::kString) {
    const auto& node = ctx.node();
    const std::vector<std::string> pool = node.attr_strings("pool_strings");
    return run_with(ctx, a, pool, x.strings(), rows, cols, y);
  }
  if (x.dtype() != DType::kI32 && x.dtype() != DType::kI64) {
    return ctx.fail(std::string("X must be string, int32 or int64, got ") + dtype_name(x.dtype()));
  }
  // int32 tokens are widened so one pool type serves both.
  std::vector<int64_t> tokens = x.to_i64_vector();
  return run_with(ctx, a, ctx.node().attr_ints("pool_int64s"), tokens.data(), rows, cols, y);
}

}  // namespace

INGOT_REGISTER_OP(TfIdfVectorizer, .infer = infer_tfidf, .run = run_tfidf);

}  // namespace ingot::ops
