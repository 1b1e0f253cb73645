// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss. Input [N, C, d1..dk], target [N, d1..dk]
// (int32/int64), optional per-class weight [C]; the kernel sees [N, C, prod(d)]. The loss is per element
// (reduction "none", the target's shape) or a scalar ("sum", "mean" weighted by the class weights).
#include <algorithm>
#include <string>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/loss.h"
#include "kernels/reference/softmax.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

template <typename Ctx>
Expected<ref::LossReduction> reduction_of(const Ctx& ctx) {
  const std::string r = ctx.node().attr_string("reduction", "mean");
  if (r == "none") return ref::LossReduction::kNone;
  if (r == "sum") return ref::LossReduction::kSum;
  if (r == "mean") return ref::LossReduction::kMean;
  return ctx.fail("reduction must be 'none', 'sum' or 'mean', got '" + r + "'");
}

// Static dims that disagree are an error; unknown ones pass.
bool dims_compatible(const ir::Dim& a, const ir::Dim& b) {
  return !a.is_static() || !b.is_static() || a == b;
}

Status infer_loss(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("needs the input and target");
  const DType dt = ctx.input_dtype(0);
  if (!dtype_is_float(dt)) return ctx.fail(std::string("unsupported input type ") + dtype_name(dt));
  const DType tt = ctx.input_dtype(1);
  if (tt != DType::kI32 && tt != DType::kI64) {
    return ctx.fail(std::string("target must be int32 or int64, got ") + dtype_name(tt));
  }
  if (ctx.has_input(2) && ctx.input_dtype(2) != dt) return ctx.fail("weight must have the input's type");
  INGOT_ASSIGN_OR_RETURN(auto reduction, reduction_of(ctx));

  ir::SymShape per_element;  // [N, d1..dk]
  bool known = false;
  if (ctx.input_has_shape(0)) {
    const auto& x = ctx.input_shape(0);
    if (x.size() < 2) return ctx.fail("input must have rank >= 2 ([N, C, ...]), got " + shape_to_string(x));
    per_element = x;
    per_element.erase(per_element.begin() + 1);
    known = true;
    if (ctx.input_has_shape(1)) {
      const auto& t = ctx.input_shape(1);
      bool ok = t.size() == per_element.size();
      for (size_t i = 0; ok && i < t.size(); ++i) ok = dims_compatible(t[i], per_element[i]);
      if (!ok) {
        return ctx.fail("target shape " + shape_to_string(t) + " does not match input shape " +
                        shape_to_string(x) + " (expected [N, d1..dk])");
      }
    }
    if (ctx.input_has_shape(2)) {
      const auto& w = ctx.input_shape(2);
      if (w.size() != 1 || !dims_compatible(w[0], x[1])) {
        return ctx.fail("weight shape " + shape_to_string(w) + " must be [C] for input " +
                        shape_to_string(x));
      }
    }
  } else if (ctx.input_has_shape(1)) {
    per_element = ctx.input_shape(1);
    known = true;
  }
  if (reduction != ref::LossReduction::kNone) {
    ctx.set_output(0, dt, {});
  } else if (known) {
    ctx.set_output(0, dt, per_element);
  } else {
    ctx.set_output_rank_unknown(0, dt);
  }
  if (ctx.num_outputs() > 1) {
    if (ctx.input_has_shape(0)) {
      ctx.set_output(1, dt, ctx.input_shape(0));
    } else {
      ctx.set_output_rank_unknown(1, dt);
    }
  }
  return Status::Ok();
}

template <bool kSoftmax>
Status run_loss(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& target = ctx.input(1);
  const Tensor* weight = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  INGOT_ASSIGN_OR_RETURN(auto reduction, reduction_of(ctx));
  if (x.rank() < 2)
    return ctx.fail("input must have rank >= 2 ([N, C, ...]), got " + dims_to_string(x.dims()));
  Dims per_element = x.dims();
  per_element.erase(per_element.begin() + 1);
  if (target.dims() != per_element) {
    return ctx.fail("target shape " + dims_to_string(target.dims()) + " does not match input shape " +
                    dims_to_string(x.dims()) + " (expected " + dims_to_string(per_element) + ")");
  }
  if (target.dtype() != DType::kI32 && target.dtype() != DType::kI64) {
    return ctx.fail(std::string("target must be int32 or int64, got ") + dtype_name(target.dtype()));
  }
  if (weight && (weight->dtype() != x.dtype() || weight->rank() != 1 || weight->dim(0) != x.dim(1))) {
    return ctx.fail("weight must be [" + std::to_string(x.dim(1)) + "] of the input's type, got " +
                    dims_to_string(weight->dims()));
  }
  ref::NllParams p;
  p.n = x.dim(0);
  p.c = x.dim(1);
  p.d = 1;
  for (int64_t i = 2; i < x.rank(); ++i) p.d *= x.dim(i);
  p.has_ignore_index = ctx.node().has_attr("ignore_index");
  p.ignore_index = ctx.node().attr_int("ignore_index", 0);
  p.reduction = reduction;

  INGOT_ASSIGN_OR_RETURN(
      Tensor * loss,
      ctx.alloc_output(0, x.dtype(), reduction == ref::LossReduction::kNone ? per_element : Dims{}));
  // SoftmaxCrossEntropyLoss writes the log-softmax to its optional second output, or to a scratch tensor.
  Tensor scratch;
  Tensor* log_softmax = nullptr;
  if constexpr (kSoftmax) {
    if (ctx.num_outputs() > 1 && ctx.has_output(1)) {
      INGOT_ASSIGN_OR_RETURN(log_softmax, ctx.alloc_output(1, x.dtype(), x.dims()));
    } else {
      INGOT_ASSIGN_OR_RETURN(scratch, Tensor::create(x.dtype(), x.dims()));
      log_softmax = &scratch;
    }
  }
  const Tensor* log_prob = kSoftmax ? log_softmax : &x;
  int64_t bad = -1;
  bool ok = dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (kSoftmax) {
      if (x.numel() > 0) ref::softmax(x.data<T>(), log_softmax->data<T>(), p.n, p.c, p.d, true);
    }
    const T* w = weight ? weight->data<T>() : nullptr;
    if (target.dtype() == DType::kI32) {
      bad = ref::nll_loss(log_prob->data<T>(), target.data<int32_t>(), w, p, loss->data<T>());
    } else {
      bad = ref::nll_loss(log_prob->data<T>(), target.data<int64_t>(), w, p, loss->data<T>());
    }
  });
  if (!ok) return ctx.fail(std::string("unsupported input type ") + dtype_name(x.dtype()));
  if (bad >= 0) {
    return ctx.fail("target value " + std::to_string(target.get_i64(bad)) + " at index " +
                    std::to_string(bad) + " is outside [0, " + std::to_string(p.c) +
                    ") and is not ignore_index");
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(NegativeLogLikelihoodLoss, .infer = infer_loss, .run = run_loss<false>);
INGOT_REGISTER_OP(SoftmaxCrossEntropyLoss, .infer = infer_loss, .run = run_loss<true>);

}  // namespace ingot::ops
