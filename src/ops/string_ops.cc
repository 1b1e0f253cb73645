// String ops: StringConcat, StringSplit, StringNormalizer, RegexFullMatch. Case mapping is ASCII
// only; RegexFullMatch uses std::regex (ECMAScript), which covers the RE2 syntax models use in practice.
#include <algorithm>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "kernels/reference/string_ops.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status require_string_input(const InferContext& ctx, size_t i) {
  if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  if (ctx.input_type(i).kind != ir::ValueType::Kind::kTensor || ctx.input_dtype(i) != DType::kString) {
    return ctx.fail("input " + std::to_string(i) + " must be a string tensor");
  }
  return Status::Ok();
}

Status require_string_input(const RunContext& ctx, size_t i) {
  if (!ctx.has_input(i) || !ctx.input_value(i).is_tensor() || ctx.input(i).dtype() != DType::kString) {
    return ctx.fail("input " + std::to_string(i) + " must be a string tensor");
  }
  return Status::Ok();
}

// ---- StringConcat ----

Status infer_string_concat(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 1));
  return infer_broadcast(ctx);
}

Status run_string_concat(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 1));
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  auto dims = broadcast_dims(a.dims(), b.dims());
  if (!dims.ok()) return ctx.fail(dims.status().message());
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, DType::kString, *dims));
  const std::vector<int64_t> sa = broadcast_strides(a.dims(), *dims), sb = broadcast_strides(b.dims(), *dims);
  const size_t r = dims->size();
  std::vector<int64_t> idx(r, 0);
  int64_t ia = 0, ib = 0;
  std::string* o = out->strings();
  for (int64_t k = 0; k < out->numel(); ++k) {
    o[k] = a.strings()[ia] + b.strings()[ib];
    for (size_t d = r; d-- > 0;) {
      ia += sa[d];
      ib += sb[d];
      if (++idx[d] < (*dims)[d]) break;
      ia -= sa[d] * (*dims)[d];
      ib -= sb[d] * (*dims)[d];
      idx[d] = 0;
    }
  }
  return Status::Ok();
}

// ---- StringSplit ----

Status infer_string_split(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, DType::kString);
    ctx.set_output_rank_unknown(1, DType::kI64);
    return Status::Ok();
  }
  ir::SymShape y = ctx.input_shape(0);
  ctx.set_output(1, DType::kI64, y);
  y.push_back(ir::Dim());  // the most pieces any element splits into
  ctx.set_output(0, DType::kString, y);
  return Status::Ok();
}

Status run_string_split(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  const Tensor& x = ctx.input(0);
  const std::string delim = ctx.node().attr_string("delimiter", "");
  const int64_t maxsplit = ctx.node().has_attr("maxsplit") ? ctx.node().attr_int("maxsplit", -1) : -1;
  if (ctx.node().has_attr("maxsplit") && maxsplit < 0) {
    return ctx.fail("maxsplit must be >= 0, got " + std::to_string(maxsplit));
  }
  std::vector<std::vector<std::string>> pieces(static_cast<size_t>(x.numel()));
  int64_t width = 0;
  for (int64_t i = 0; i < x.numel(); ++i) {
    pieces[i] = ref::split_string(x.strings()[i], delim, maxsplit);
    width = std::max<int64_t>(width, static_cast<int64_t>(pieces[i].size()));
  }
  Dims ydims = x.dims();
  ydims.push_back(width);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kString, ydims));
  INGOT_ASSIGN_OR_RETURN(Tensor * z, ctx.alloc_output(1, DType::kI64, x.dims()));
  for (int64_t i = 0; i < x.numel(); ++i) {
    z->data<int64_t>()[i] = static_cast<int64_t>(pieces[i].size());
    for (size_t j = 0; j < pieces[i].size(); ++j)
      y->strings()[i * width + static_cast<int64_t>(j)] = std::move(pieces[i][j]);
  }
  return Status::Ok();
}

// ---- StringNormalizer ----

Status check_normalizer_attrs(const ir::Node& node) {
  const std::string action = node.attr_string("case_change_action", "NONE");
  if (action != "NONE" && action != "LOWER" && action != "UPPER") {
    return invalid_argument(node.describe() + ": case_change_action must be NONE, LOWER or UPPER, got '" +
                            action + "'");
  }
  return Status::Ok();
}

Status infer_string_normalizer(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  INGOT_RETURN_IF_ERROR(check_normalizer_attrs(ctx.node()));
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, DType::kString);
    return Status::Ok();
  }
  ir::SymShape s = ctx.input_shape(0);
  if (s.size() != 1 && !(s.size() == 2 && (!s[0].is_static() || s[0].value == 1))) {
    return ctx.fail("input must be [C] or [1, C], got " + ir::shape_to_string(s));
  }
  s.back() = ir::Dim();  // stopwords may drop elements
  ctx.set_output(0, DType::kString, s);
  return Status::Ok();
}

Status run_string_normalizer(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  INGOT_RETURN_IF_ERROR(check_normalizer_attrs(ctx.node()));
  const Tensor& x = ctx.input(0);
  if (x.rank() != 1 && !(x.rank() == 2 && x.dims()[0] == 1)) {
    return ctx.fail("input must be [C] or [1, C], got " + dims_to_string(x.dims()));
  }
  const std::string action = ctx.node().attr_string("case_change_action", "NONE");
  const bool case_sensitive = ctx.node().attr_int("is_case_sensitive", 0) != 0;
  std::set<std::string> stops;
  for (const std::string& w : ctx.node().attr_strings("stopwords"))
    stops.insert(case_sensitive ? w : ref::ascii_lower(w));
  std::vector<std::string> kept;
  for (int64_t i = 0; i < x.numel(); ++i) {
    const std::string& s = x.strings()[i];
    if (!stops.empty() && stops.count(case_sensitive ? s : ref::ascii_lower(s))) continue;
    kept.push_back(action == "LOWER" ? ref::ascii_lower(s) : action == "UPPER" ? ref::ascii_upper(s) : s);
  }
  // Nothing left: one empty string, so the output is never empty (as the spec asks).
  if (kept.empty()) kept.emplace_back();
  Dims dims = x.dims();
  dims.back() = static_cast<int64_t>(kept.size());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kString, dims));
  for (size_t i = 0; i < kept.size(); ++i) y->strings()[i] = std::move(kept[i]);
  return Status::Ok();
}

// ---- RegexFullMatch ----

Expected<std::regex> compile_pattern(const ir::Node& node) {
  if (!node.has_attr("pattern"))
    return invalid_argument(node.describe() + ": attribute 'pattern' is required");
  const std::string p = node.attr_string("pattern", "");
  try {
    return std::regex(p, std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    return invalid_argument(node.describe() + ": invalid pattern '" + p + "': " + e.what());
  }
}

Status infer_regex_full_match(InferContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  INGOT_RETURN_IF_ERROR(compile_pattern(ctx.node()).status());
  if (ctx.input_has_shape(0)) {
    ctx.set_output(0, DType::kBool, ctx.input_shape(0));
  } else {
    ctx.set_output_rank_unknown(0, DType::kBool);
  }
  return Status::Ok();
}

Status run_regex_full_match(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(require_string_input(ctx, 0));
  INGOT_ASSIGN_OR_RETURN(std::regex re, compile_pattern(ctx.node()));
  const Tensor& x = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kBool, x.dims()));
  for (int64_t i = 0; i < x.numel(); ++i) {
    try {
      y->data<bool>()[i] = std::regex_match(x.strings()[i], re);
    } catch (const std::regex_error& e) {
      return ctx.fail(std::string("matching failed (") + e.what() + ")");  // e.g. backtracking limit
    }
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(StringConcat, .infer = infer_string_concat, .run = run_string_concat);
INGOT_REGISTER_OP(StringSplit, .infer = infer_string_split, .run = run_string_split);
INGOT_REGISTER_OP(StringNormalizer, .infer = infer_string_normalizer, .run = run_string_normalizer);
INGOT_REGISTER_OP(RegexFullMatch, .infer = infer_regex_full_match, .run = run_regex_full_match);

}  // namespace ingot::ops
