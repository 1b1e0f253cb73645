// ai.onnx.ml Binarizer, ArrayFeatureExtractor and TreeEnsemble (opset 5).
#include <cfloat>
#include <cmath>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/tree_ensemble.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// ---- Binarizer: y = x > threshold ? 1 : 0, in x's type ----

bool is_binarizer_type(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kI64 || t == DType::kI32;
}

Status infer_binarizer(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("expects input X");
  if (!is_binarizer_type(ctx.input_dtype(0))) {
    return ctx.fail(std::string("unsupported type ") + dtype_name(ctx.input_dtype(0)));
  }
  return infer_same_as_input(ctx);
}

Status run_binarizer(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_binarizer_type(x.dtype()))
    return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  const double threshold = ctx.node().attr_float("threshold", 0.0f);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  dispatch_arith(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* py = y->data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) py[i] = static_cast<double>(px[i]) > threshold ? T(1) : T(0);
  });
  return Status::Ok();
}

// ---- ArrayFeatureExtractor: y[..., j] = x[..., indices[j]]; a 1-D x reads as one row ----

Status infer_array_feature_extractor(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and Y");
  if (ctx.input_dtype(1) != DType::kI64) return ctx.fail("indices must be int64");
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& x = ctx.input_shape(0);
  if (x.empty()) return ctx.fail("X must have rank >= 1");
  ir::Dim count;
  if (ctx.input_has_shape(1) && is_static(ctx.input_shape(1))) {
    int64_t n = 1;
    for (const ir::Dim& d : ctx.input_shape(1)) n *= d.value;
    count = n;
  }
  ir::SymShape out = x.size() == 1 ? ir::SymShape{ir::Dim(1)} : ir::SymShape(x.begin(), x.end() - 1);
  out.push_back(count);
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

Status run_array_feature_extractor(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& idx = ctx.input(1);
  if (idx.dtype() != DType::kI64) return ctx.fail("indices must be int64");
  if (x.rank() < 1) return ctx.fail("X must have rank >= 1");
  const int64_t C = x.dim(-1);
  const std::vector<int64_t> ids = idx.to_i64_vector();
  for (int64_t i : ids) {
    if (i < 0 || i >= C) {
      return ctx.fail("index " + std::to_string(i) + " is outside the " + std::to_string(C) + " features");
    }
  }
  Dims out = x.rank() == 1 ? Dims{1} : Dims(x.dims().begin(), x.dims().end() - 1);
  out.push_back(static_cast<int64_t>(ids.size()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out));
  const int64_t rows = C > 0 ? x.numel() / C : 0;
  const int64_t K = static_cast<int64_t>(ids.size());
  const bool ok = dispatch_all(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* py = y->data<T>();
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k) py[r * K + k] = px[r * C + ids[k]];
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

// ---- TreeEnsemble ----

bool is_tree_type(DType t) { return t == DType::kF32 || t == DType::kF64 || t == DType::kF16; }

std::vector<double> tensor_attr_doubles(const ir::Node& node, const char* name) {
  std::vector<double> v;
  if (const Tensor* t = node.attr_tensor(name)) {
    for (int64_t i = 0; i < t->numel(); ++i) v.push_back(t->get_f64(i));
  }
  return v;
}

Expected<ref::TreeEnsembleModel> read_tree_model(const ir::Node& node, int64_t n_features) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
  ref::TreeEnsembleModel m;
  m.splits = tensor_attr_doubles(node, "nodes_splits");
  m.featureids = node.attr_ints("nodes_featureids");
  for (double v : tensor_attr_doubles(node, "nodes_modes")) m.modes.push_back(static_cast<ref::TreeMode>(v));
  m.truenodeids = node.attr_ints("nodes_truenodeids");
  m.falsenodeids = node.attr_ints("nodes_falsenodeids");
  for (int64_t v : node.attr_ints("nodes_trueleafs")) m.trueleafs.push_back(v != 0);
  for (int64_t v : node.attr_ints("nodes_falseleafs")) m.falseleafs.push_back(v != 0);
  const std::vector<int64_t> missing = node.attr_ints("nodes_missing_value_tracks_true");
  if (!missing.empty() && missing.size() != m.modes.size()) {
    return fail("nodes_missing_value_tracks_true has the wrong length");
  }
  for (size_t i = 0; i < m.modes.size(); ++i)
    m.missing_tracks_true.push_back(!missing.empty() && missing[i] != 0);
  // Members of each BRANCH_MEMBER node, in node order, separated by NaN.
  const std::vector<double> members = tensor_attr_doubles(node, "membership_values");
  m.members.resize(m.modes.size());
  size_t pos = 0;
  for (size_t i = 0; i < m.modes.size(); ++i) {
    if (m.modes[i] != ref::TreeMode::kMember) continue;
    if (pos >= members.size()) return fail("membership_values lists fewer sets than there are member nodes");
    while (pos < members.size() && !std::isnan(members[pos])) m.members[i].push_back(members[pos++]);
    ++pos;  // the NaN
  }
  m.leaf_targetids = node.attr_ints("leaf_targetids");
  m.leaf_weights = tensor_attr_doubles(node, "leaf_weights");
  m.tree_roots = node.attr_ints("tree_roots");
  m.n_targets = node.attr_int("n_targets", 1);
  const int64_t agg = node.attr_int("aggregate_function", 1), post = node.attr_int("post_transform", 0);
  if (agg < 0 || agg > 3) return fail("unknown aggregate_function " + std::to_string(agg));
  if (post < 0 || post > 4) return fail("unknown post_transform " + std::to_string(post));
  m.aggregate = static_cast<ref::TreeAggregate>(agg);
  m.post_transform = static_cast<ref::TreePostTransform>(post);
  const std::string why = ref::validate_tree_ensemble(m, n_features);
  if (!why.empty()) return fail(why);
  return m;
}

Status infer_tree_ensemble(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("expects input X");
  const DType dt = ctx.input_dtype(0);
  if (!is_tree_type(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  const int64_t n_targets = ctx.node().attr_int("n_targets", 1);
  if (n_targets < 1) return ctx.fail("n_targets must be positive");
  ir::Dim n;
  if (ctx.input_has_shape(0)) {
    const auto& x = ctx.input_shape(0);
    if (x.size() != 2) return ctx.fail("X must be [N, features], got " + ir::shape_to_string(x));
    n = x[0];
  }
  ctx.set_output(0, dt, {n, ir::Dim(n_targets)});
  return Status::Ok();
}

Status run_tree_ensemble(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!is_tree_type(x.dtype())) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
  if (x.rank() != 2) return ctx.fail("X must be [N, features], got " + dims_to_string(x.dims()));
  INGOT_ASSIGN_OR_RETURN(ref::TreeEnsembleModel m, read_tree_model(ctx.node(), x.dim(1)));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), {x.dim(0), m.n_targets}));
  std::vector<double> xd(static_cast<size_t>(x.numel())), yd(static_cast<size_t>(y->numel()));
  for (int64_t i = 0; i < x.numel(); ++i) xd[i] = x.get_f64(i);
  const double max_value = x.dtype() == DType::kF64 ? DBL_MAX : x.dtype() == DType::kF16 ? 65504.0 : FLT_MAX;
  ref::tree_ensemble(m, xd.data(), x.dim(0), x.dim(1), max_value, yd.data());
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* p = y->data<T>();
    for (size_t i = 0; i < yd.size(); ++i) p[i] = static_cast<T>(yd[i]);
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP_DOMAIN("ai.onnx.ml", MlBinarizer, "Binarizer", .infer = infer_binarizer,
                         .run = run_binarizer);
INGOT_REGISTER_OP_DOMAIN("ai.onnx.ml", MlArrayFeatureExtractor, "ArrayFeatureExtractor",
                         .infer = infer_array_feature_extractor, .run = run_array_feature_extractor);
INGOT_REGISTER_OP_DOMAIN("ai.onnx.ml", MlTreeEnsemble, "TreeEnsemble", .infer = infer_tree_ensemble,
                         .run = run_tree_ensemble);

}  // namespace ingot::ops
