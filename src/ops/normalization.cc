// BatchNormalization, InstanceNormalization, LayerNormalization, GroupNormalization,
// RMSNormalization, LpNormalization, MeanVarianceNormalization, LRN.
#include <algorithm>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/normalization.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// A small float tensor (scale, bias, running statistics) converted to the kernels' Acc type.
template <typename Acc>
std::vector<Acc> to_acc(const Tensor& t) {
  std::vector<Acc> v(static_cast<size_t>(t.numel()));
  dispatch_float(t.dtype(), [&](auto tag) {
    using S = typename decltype(tag)::type;
    const S* p = t.data<S>();
    using Wide = std::conditional_t<std::is_same_v<S, double>, double, float>;
    for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<Acc>(static_cast<Wide>(p[i]));
  });
  return v;
}

bool is_norm_dtype(DType t) {
  return t == DType::kF32 || t == DType::kF64 || t == DType::kF16 || t == DType::kBF16;
}

Status check_float_inputs(InferContext& ctx, size_t count) {
  for (size_t i = 0; i < count && i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && !is_norm_dtype(ctx.input_dtype(i))) {
      return ctx.fail("input " + std::to_string(i) + " has unsupported type " +
                      dtype_name(ctx.input_dtype(i)));
    }
  }
  return Status::Ok();
}

Status check_float_inputs(RunContext& ctx, size_t count) {
  for (size_t i = 0; i < count && i < ctx.num_inputs(); ++i) {
    if (ctx.has_input(i) && !is_norm_dtype(ctx.input(i).dtype())) {
      return ctx.fail("input " + std::to_string(i) + " has unsupported type " +
                      dtype_name(ctx.input(i).dtype()));
    }
  }
  return Status::Ok();
}

// X viewed as [batch, C, spatial] (rank >= 2).
struct ChannelView {
  int64_t batch = 1, C = 1, spatial = 1;
};
Expected<ChannelView> channel_view(const Tensor& x) {
  if (x.rank() < 2) return invalid_argument("X must have rank >= 2, got shape " + dims_to_string(x.dims()));
  ChannelView v;
  v.batch = x.dim(0);
  v.C = x.dim(1);
  for (int64_t i = 2; i < x.rank(); ++i) v.spatial *= x.dim(i);
  return v;
}

Status check_channel_vector(RunContext& ctx, size_t i, int64_t C, const char* what) {
  if (!ctx.has_input(i)) return ctx.fail(std::string("missing input ") + what);
  const Tensor& t = ctx.input(i);
  if (t.numel() != C || t.rank() > 1) {
    return ctx.fail(std::string(what) + " has shape " + dims_to_string(t.dims()) + ", expected [" +
                    std::to_string(C) + "]");
  }
  return Status::Ok();
}

// Static channel count of X when known at build time, else -1.
int64_t static_channels(const InferContext& ctx) {
  if (!ctx.input_has_shape(0) || ctx.input_shape(0).size() < 2) return -1;
  return ctx.input_shape(0)[1].value;
}

Status infer_check_channel_vector(InferContext& ctx, size_t i, int64_t C, const char* what) {
  if (C < 0 || !ctx.input_has_shape(i)) return Status::Ok();
  const auto& s = ctx.input_shape(i);
  if (s.size() > 1 || (is_static(s) && ir::to_dims(s) != Dims(s.size(), C))) {
    return ctx.fail(std::string(what) + " has shape " + ir::shape_to_string(s) + ", expected [" +
                    std::to_string(C) + "]");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// BatchNormalization. Inference mode uses the given statistics. Training mode (opset >= 14:
// training_mode = 1; earlier opsets: more than one output) normalizes with the batch statistics
// and also returns the running ones, input * momentum + batch * (1 - momentum); opsets < 14 also
// return the batch mean and variance (saved_mean, saved_var).

bool bn_training(const ir::Node& node) {
  if (node.opset >= 14) return node.attr_int("training_mode", 0) != 0;
  for (size_t i = 1; i < node.outputs.size(); ++i)
    if (node.has_output(i)) return true;
  return false;
}

Status infer_batch_norm(InferContext& ctx) {
  if (ctx.num_inputs() != 5) return ctx.fail("expects 5 inputs (X, scale, B, input_mean, input_var)");
  for (size_t i = 0; i < 5; ++i)
    if (!ctx.has_input(i)) return ctx.fail("missing input " + std::to_string(i));
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 5));
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() < 2) return ctx.fail("X must have rank >= 2");
  const int64_t C = static_channels(ctx);
  const char* names[] = {"X", "scale", "B", "input_mean", "input_var"};
  for (size_t i = 1; i < 5; ++i) INGOT_RETURN_IF_ERROR(infer_check_channel_vector(ctx, i, C, names[i]));
  INGOT_RETURN_IF_ERROR(infer_same_as_input(ctx));
  if (bn_training(ctx.node())) {
    const ir::SymShape cshape = {C >= 0 ? ir::Dim(C) : ir::Dim()};
    for (size_t o = 1; o < ctx.num_outputs(); ++o) {
      // Running statistics take input_mean's / input_var's type; opset < 14's saved ones X's.
      const DType dt = o <= 2 ? ctx.input_dtype(o + 2) : ctx.input_dtype(0);
      ctx.set_output(o, dt, cshape);
    }
  }
  return Status::Ok();
}

template <typename Acc>
Status write_channel_vector(RunContext& ctx, size_t o, DType dt, const std::vector<Acc>& v) {
  if (o >= ctx.num_outputs() || !ctx.has_output(o)) return Status::Ok();
  INGOT_ASSIGN_OR_RETURN(Tensor * t, ctx.alloc_output(o, dt, {static_cast<int64_t>(v.size())}));
  dispatch_float(dt, [&](auto tag) {
    using S = typename decltype(tag)::type;
    for (size_t i = 0; i < v.size(); ++i) t->data<S>()[i] = static_cast<S>(v[i]);
  });
  return Status::Ok();
}

Status run_batch_norm(RunContext& ctx) {
  if (ctx.num_inputs() != 5) return ctx.fail("expects 5 inputs (X, scale, B, input_mean, input_var)");
  for (size_t i = 0; i < 5; ++i)
    if (!ctx.has_input(i)) return ctx.fail("missing input " + std::to_string(i));
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 5));
  const Tensor& x = ctx.input(0);
  auto view = channel_view(x);
  if (!view.ok()) return ctx.fail(view.status().message());
  const int64_t C = view->C;
  INGOT_RETURN_IF_ERROR(check_channel_vector(ctx, 1, C, "scale"));
  INGOT_RETURN_IF_ERROR(check_channel_vector(ctx, 2, C, "B"));
  INGOT_RETURN_IF_ERROR(check_channel_vector(ctx, 3, C, "input_mean"));
  INGOT_RETURN_IF_ERROR(check_channel_vector(ctx, 4, C, "input_var"));
  const bool training = bn_training(ctx.node());
  const float eps = ctx.node().attr_float("epsilon", 1e-5f);
  const float momentum = ctx.node().attr_float("momentum", 0.9f);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  Status st;
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = ref::NormAcc<T>;
    const auto scale = to_acc<Acc>(ctx.input(1)), bias = to_acc<Acc>(ctx.input(2));
    auto mean = to_acc<Acc>(ctx.input(3)), var = to_acc<Acc>(ctx.input(4));
    if (!training) {
      ref::batch_norm(x.data<T>(), y->data<T>(), view->batch, C, view->spatial, static_cast<Acc>(eps),
                      scale.data(), bias.data(), mean.data(), var.data());
      return;
    }
    std::vector<Acc> bmean(C), bvar(C);
    if (x.numel() > 0)
      ref::channel_moments(x.data<T>(), view->batch, C, view->spatial, bmean.data(), bvar.data());
    ref::batch_norm(x.data<T>(), y->data<T>(), view->batch, C, view->spatial, static_cast<Acc>(eps),
                    scale.data(), bias.data(), bmean.data(), bvar.data());
    const Acc m = static_cast<Acc>(momentum);
    for (int64_t c = 0; c < C; ++c) {
      mean[c] = mean[c] * m + bmean[c] * (1 - m);
      var[c] = var[c] * m + bvar[c] * (1 - m);
    }
    st = write_channel_vector(ctx, 1, ctx.input(3).dtype(), mean);
    if (st.ok()) st = write_channel_vector(ctx, 2, ctx.input(4).dtype(), var);
    if (st.ok()) st = write_channel_vector(ctx, 3, x.dtype(), bmean);
    if (st.ok()) st = write_channel_vector(ctx, 4, x.dtype(), bvar);
  });
  return st;
}

// ---------------------------------------------------------------------------------------------
// InstanceNormalization and GroupNormalization: statistics per (batch, group of channels).
// GroupNormalization-18 has scale/bias per group, 21 per channel; the per-group form is expanded
// to channels here.

Status infer_instance_norm(InferContext& ctx) {
  if (ctx.num_inputs() != 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects 3 inputs (input, scale, B)");
  }
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 3));
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() < 2) return ctx.fail("input must have rank >= 2");
  const int64_t C = static_channels(ctx);
  INGOT_RETURN_IF_ERROR(infer_check_channel_vector(ctx, 1, C, "scale"));
  INGOT_RETURN_IF_ERROR(infer_check_channel_vector(ctx, 2, C, "B"));
  return infer_same_as_input(ctx);
}

int64_t group_count(const ir::Node& node, int64_t C) {
  return node.op_type == "InstanceNormalization" ? C : node.attr_int("num_groups", -1);
}

Status infer_group_norm(InferContext& ctx) {
  if (!ctx.node().has_attr("num_groups")) return ctx.fail("missing attribute num_groups");
  const int64_t G = ctx.node().attr_int("num_groups", 1);
  if (G <= 0) return ctx.fail("num_groups must be positive");
  if (ctx.num_inputs() != 3 || !ctx.has_input(0) || !ctx.has_input(1) || !ctx.has_input(2)) {
    return ctx.fail("expects 3 inputs (X, scale, bias)");
  }
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 3));
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() < 2) return ctx.fail("X must have rank >= 2");
  const int64_t C = static_channels(ctx);
  if (C >= 0 && C % G != 0) {
    return ctx.fail("channel count " + std::to_string(C) + " is not divisible by num_groups " +
                    std::to_string(G));
  }
  const int64_t per = ctx.opset() < 21 ? G : C;
  INGOT_RETURN_IF_ERROR(infer_check_channel_vector(ctx, 1, per, "scale"));
  INGOT_RETURN_IF_ERROR(infer_check_channel_vector(ctx, 2, per, "bias"));
  return infer_same_as_input(ctx);
}

Status run_group_norm(RunContext& ctx) {
  if (ctx.num_inputs() != 3) return ctx.fail("expects 3 inputs");
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 3));
  const Tensor& x = ctx.input(0);
  auto view = channel_view(x);
  if (!view.ok()) return ctx.fail(view.status().message());
  const int64_t C = view->C;
  const int64_t G = group_count(ctx.node(), C);
  const bool instance = ctx.node().op_type == "InstanceNormalization";
  if (G <= 0 || (C > 0 && C % G != 0)) {
    return ctx.fail("channel count " + std::to_string(C) + " is not divisible by num_groups " +
                    std::to_string(G));
  }
  const bool per_group = !instance && ctx.opset() < 21;
  const int64_t per = per_group ? G : C;
  INGOT_RETURN_IF_ERROR(check_channel_vector(ctx, 1, per, "scale"));
  INGOT_RETURN_IF_ERROR(check_channel_vector(ctx, 2, per, "bias"));
  const float eps = ctx.node().attr_float("epsilon", 1e-5f);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  if (x.numel() == 0) return Status::Ok();
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = ref::NormAcc<T>;
    auto scale = to_acc<Acc>(ctx.input(1)), bias = to_acc<Acc>(ctx.input(2));
    if (per_group) {
      std::vector<Acc> s(C), b(C);
      for (int64_t c = 0; c < C; ++c) s[c] = scale[c / (C / G)], b[c] = bias[c / (C / G)];
      scale.swap(s);
      bias.swap(b);
    }
    ref::group_norm(x.data<T>(), y->data<T>(), view->batch, C, view->spatial, G, static_cast<Acc>(eps),
                    scale.data(), bias.data());
  });
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------
// LayerNormalization and RMSNormalization: statistics over the trailing dims from `axis` on.
// Scale and B broadcast to X.shape[axis:] and are expanded to one value per normalized element.

// Stash (statistics) type of LayerNormalization's Mean / InvStdDev outputs.
DType stash_dtype(const ir::Node& node) { return static_cast<DType>(node.attr_int("stash_type", 1)); }

Status infer_layer_norm(InferContext& ctx) {
  const bool rms = ctx.node().op_type == "RMSNormalization";
  if (ctx.num_inputs() < 2 || !ctx.has_input(0) || !ctx.has_input(1))
    return ctx.fail("expects inputs X and scale");
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 3));
  const DType stash = stash_dtype(ctx.node());
  if (stash != DType::kF32 && stash != DType::kF64 && stash != DType::kBF16 && stash != DType::kF16) {
    return ctx.fail("unsupported stash_type " + std::to_string(static_cast<int>(stash)));
  }
  const DType ydt = rms ? ctx.input_dtype(1) : ctx.input_dtype(0);
  if (!ctx.input_has_shape(0)) {
    for (size_t o = 0; o < ctx.num_outputs(); ++o) ctx.set_output_rank_unknown(o, o == 0 ? ydt : stash);
    return Status::Ok();
  }
  const ir::SymShape& xs = ctx.input_shape(0);
  const int64_t rank = static_cast<int64_t>(xs.size());
  auto axis = normalize_axis(ctx.node().attr_int("axis", -1), rank, ctx.node());
  if (!axis.ok()) return axis.status();
  ctx.set_output(0, ydt, xs);
  ir::SymShape stat(xs.begin(), xs.begin() + *axis);
  stat.resize(xs.size(), ir::Dim(1));
  for (size_t o = 1; o < ctx.num_outputs(); ++o) ctx.set_output(o, stash, stat);
  return Status::Ok();
}

// `t` unidirectionally broadcast to `norm` (X.shape[axis:]) and flattened: one value per element.
template <typename Acc>
Expected<std::vector<Acc>> expand_to_row(const Tensor& t, const Dims& norm, const char* what) {
  Dims shape = t.dims();
  // Leading dims of size 1 beyond the normalized rank broadcast over the rows; drop them.
  while (shape.size() > norm.size() && shape.front() == 1) shape.erase(shape.begin());
  bool ok = shape.size() <= norm.size();
  for (size_t i = 0; ok && i < shape.size(); ++i) {
    const int64_t d = shape[shape.size() - 1 - i];
    ok = d == 1 || d == norm[norm.size() - 1 - i];
  }
  if (!ok) {
    return invalid_argument(std::string(what) + " of shape " + dims_to_string(t.dims()) +
                            " does not broadcast to the normalized shape " + dims_to_string(norm));
  }
  const std::vector<Acc> v = to_acc<Acc>(t);
  int64_t n = 1;
  for (int64_t d : norm) n *= d;
  std::vector<Acc> out(static_cast<size_t>(n));
  const std::vector<int64_t> bs = broadcast_strides(shape, norm);
  std::vector<int64_t> idx(norm.size(), 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t off = 0;
    for (size_t d = 0; d < norm.size(); ++d) off += idx[d] * bs[d];
    out[i] = v[off];
    for (size_t d = norm.size(); d-- > 0;) {
      if (++idx[d] < norm[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

Status run_layer_norm(RunContext& ctx) {
  const bool rms = ctx.node().op_type == "RMSNormalization";
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 3));
  const Tensor& x = ctx.input(0);
  auto axis = normalize_axis(ctx.node().attr_int("axis", -1), x.rank(), ctx.node());
  if (!axis.ok()) return axis.status();
  const Dims norm(x.dims().begin() + *axis, x.dims().end());
  int64_t rows = 1, n = 1;
  for (int64_t i = 0; i < x.rank(); ++i) (i < *axis ? rows : n) *= x.dim(i);
  const DType stash = stash_dtype(ctx.node());
  const DType ydt = rms ? ctx.input(1).dtype() : x.dtype();
  Dims stat_dims(x.dims().begin(), x.dims().begin() + *axis);
  stat_dims.resize(x.dims().size(), 1);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, ydt, x.dims()));
  Tensor* mean_t = nullptr;
  Tensor* inv_t = nullptr;
  if (!rms && ctx.num_outputs() > 1) {
    INGOT_ASSIGN_OR_RETURN(mean_t, ctx.alloc_output(1, stash, stat_dims));
  }
  if (!rms && ctx.num_outputs() > 2) {
    INGOT_ASSIGN_OR_RETURN(inv_t, ctx.alloc_output(2, stash, stat_dims));
  }
  Status st;
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    // Statistics in double when X or the stash type asks for it, float otherwise.
    using Acc = ref::NormAcc<T>;
    auto scale = expand_to_row<Acc>(ctx.input(1), norm, "scale");
    if (!scale.ok()) {
      st = ctx.fail(scale.status().message());
      return;
    }
    std::vector<Acc> bias;
    if (ctx.has_input(2)) {
      auto b = expand_to_row<Acc>(ctx.input(2), norm, "B");
      if (!b.ok()) {
        st = ctx.fail(b.status().message());
        return;
      }
      bias = std::move(*b);
    }
    std::vector<Acc> mean(static_cast<size_t>(rows)), inv(static_cast<size_t>(rows));
    const Acc eps = static_cast<Acc>(ctx.node().attr_float("epsilon", 1e-5f));
    dispatch_float(ydt, [&](auto ytag) {
      using TY = typename decltype(ytag)::type;
      ref::normalize_rows<T, Acc, TY>(x.data<T>(), y->data<TY>(), rows, n, eps, scale->data(),
                                      bias.empty() ? nullptr : bias.data(), rms, mean.data(), inv.data());
    });
    auto store = [&](Tensor* t, const std::vector<Acc>& v) {
      if (!t) return;
      dispatch_float(t->dtype(), [&](auto stag) {
        using S = typename decltype(stag)::type;
        for (size_t i = 0; i < v.size(); ++i) t->data<S>()[i] = static_cast<S>(v[i]);
      });
    };
    store(mean_t, mean);
    store(inv_t, inv);
  });
  return st;
}

// ---------------------------------------------------------------------------------------------
// LpNormalization, MeanVarianceNormalization, LRN.

Status infer_unary_float(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input");
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 1));
  return infer_same_as_input(ctx);
}

Status infer_lp_norm(InferContext& ctx) {
  const int64_t p = ctx.node().attr_int("p", 2);
  if (p != 1 && p != 2) return ctx.fail("p must be 1 or 2, got " + std::to_string(p));
  if (ctx.input_has_shape(0)) {
    auto axis = normalize_axis(ctx.node().attr_int("axis", -1), ctx.input_shape(0).size(), ctx.node());
    if (!axis.ok()) return axis.status();
  }
  return infer_unary_float(ctx);
}

Status run_lp_norm(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 1));
  const Tensor& x = ctx.input(0);
  const int64_t p = ctx.node().attr_int("p", 2);
  if (p != 1 && p != 2) return ctx.fail("p must be 1 or 2, got " + std::to_string(p));
  auto axis = normalize_axis(ctx.node().attr_int("axis", -1), x.rank(), ctx.node());
  if (!axis.ok()) return axis.status();
  int64_t outer = 1, n = 1, inner = 1;
  for (int64_t i = 0; i < x.rank(); ++i) (i < *axis ? outer : i == *axis ? n : inner) *= x.dim(i);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::lp_norm<T, ref::NormAcc<T>>(x.data<T>(), y->data<T>(), outer, n, inner, static_cast<int>(p));
  });
  return Status::Ok();
}

Expected<std::vector<bool>> mvn_reduced(const ir::Node& node, int64_t rank) {
  std::vector<bool> reduced(static_cast<size_t>(rank), false);
  for (int64_t a : node.attr_ints("axes", {0, 2, 3})) {
    INGOT_ASSIGN_OR_RETURN(int64_t ax, normalize_axis(a, rank, node));
    reduced[ax] = true;
  }
  return reduced;
}

Status infer_mvn(InferContext& ctx) {
  if (ctx.input_has_shape(0)) {
    auto r = mvn_reduced(ctx.node(), ctx.input_shape(0).size());
    if (!r.ok()) return r.status();
  }
  return infer_unary_float(ctx);
}

Status run_mvn(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 1));
  const Tensor& x = ctx.input(0);
  auto reduced = mvn_reduced(ctx.node(), x.rank());
  if (!reduced.ok()) return reduced.status();
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::mean_variance_norm<T, ref::NormAcc<T>>(x.data<T>(), y->data<T>(), x.dims(), *reduced);
  });
  return Status::Ok();
}

Status infer_lrn(InferContext& ctx) {
  if (!ctx.node().has_attr("size")) return ctx.fail("missing attribute size");
  if (ctx.node().attr_int("size", 1) <= 0) return ctx.fail("size must be positive");
  if (ctx.input_has_shape(0) && ctx.input_shape(0).size() < 2) return ctx.fail("input must have rank >= 2");
  return infer_unary_float(ctx);
}

Status run_lrn(RunContext& ctx) {
  INGOT_RETURN_IF_ERROR(check_float_inputs(ctx, 1));
  const Tensor& x = ctx.input(0);
  const int64_t size = ctx.node().attr_int("size", 0);
  if (size <= 0) return ctx.fail("size must be positive");
  auto view = channel_view(x);
  if (!view.ok()) return ctx.fail(view.status().message());
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  const ir::Node& node = ctx.node();
  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    using Acc = ref::NormAcc<T>;
    ref::lrn<T, Acc>(x.data<T>(), y->data<T>(), view->batch, view->C, view->spatial, size,
                     static_cast<Acc>(node.attr_float("alpha", 1e-4f)),
                     static_cast<Acc>(node.attr_float("beta", 0.75f)),
                     static_cast<Acc>(node.attr_float("bias", 1.0f)));
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(BatchNormalization, .infer = infer_batch_norm, .run = run_batch_norm);
INGOT_REGISTER_OP(InstanceNormalization, .infer = infer_instance_norm, .run = run_group_norm);
INGOT_REGISTER_OP(GroupNormalization, .infer = infer_group_norm, .run = run_group_norm);
INGOT_REGISTER_OP(LayerNormalization, .infer = infer_layer_norm, .run = run_layer_norm);
INGOT_REGISTER_OP(RMSNormalization, .infer = infer_layer_norm, .run = run_layer_norm);
INGOT_REGISTER_OP(LpNormalization, .infer = infer_lp_norm, .run = run_lp_norm);
INGOT_REGISTER_OP(MeanVarianceNormalization, .infer = infer_mvn, .run = run_mvn);
INGOT_REGISTER_OP(LRN, .infer = infer_lrn, .run = run_lrn);

}  // namespace ingot::ops
