// ai.onnx.preview.training optimizers: Adagrad, Adam, Momentum. Inputs are the learning rate R, the step
// count T (int64 scalar), then k groups of tensors laid out as [X1..Xk, G1..Gk, state1 1..k, ...]; the
// outputs are the updated [X1..Xk, state...] in the same order (X and each state of one group share a
// shape and dtype).
#include <cmath>
#include <string>
#include <type_traits>
#include <vector>

#include "core/dispatch.h"
#include "kernels/reference/training.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Tensors per optimized parameter among the inputs (X, G and the states) and among the outputs.
template <int kInputs>
Status infer_optimizer(InferContext& ctx) {
  const size_t n_in = ctx.num_inputs();
  if (n_in < 2 + kInputs || (n_in - 2) % kInputs != 0) {
    return ctx.fail("expects R, T and groups of " + std::to_string(kInputs) + " tensors, got " +
                    std::to_string(n_in) + " inputs");
  }
  const size_t k = (n_in - 2) / kInputs;
  if (ctx.num_outputs() > k * (kInputs - 1)) {
    return ctx.fail("has " + std::to_string(ctx.num_outputs()) + " outputs for " + std::to_string(k) +
                    " tensors (at most " + std::to_string(k * (kInputs - 1)) + ")");
  }
  for (size_t i = 0; i < n_in; ++i)
    if (!ctx.has_input(i)) return ctx.fail("input " + std::to_string(i) + " is missing");
  if (!dtype_is_float(ctx.input_dtype(0))) return ctx.fail("R must be float or double");
  if (ctx.input_dtype(1) != DType::kI64) return ctx.fail("T must be int64");
  for (size_t i = 2; i < n_in; ++i) {
    const DType dt = ctx.input_dtype(i);
    if (dt != DType::kF32 && dt != DType::kF64) {
      return ctx.fail(std::string("tensors must be float or double, got ") + dtype_name(dt));
    }
  }
  // Output j * k + i is the updated X (j = 0) or state j of parameter i, shaped like X_i.
  for (size_t o = 0; o < ctx.num_outputs(); ++o) {
    const size_t i = o % k, j = o / k;
    const size_t src = j == 0 ? 2 + i : 2 + (j + 1) * k + i;
    ctx.set_output(o, ctx.input_type(src));
  }
  return Status::Ok();
}

// Checks that the group's tensors agree and allocates the outputs shaped like X_i (nullptr if unused).
Status group_outputs(RunContext& ctx, size_t k, size_t i, int states, std::vector<const Tensor*>& in,
                     std::vector<Tensor*>& out, std::vector<Tensor>& scratch) {
  const int per = 2 + states;
  in.assign(per, nullptr);
  for (int j = 0; j < per; ++j) in[j] = &ctx.input(2 + j * k + i);
  const Tensor& x = *in[0];
  if (x.dtype() != DType::kF32 && x.dtype() != DType::kF64)
    return ctx.fail("tensors must be float or double");
  for (int j = 1; j < per; ++j) {
    if (in[j]->dtype() != x.dtype() || in[j]->dims() != x.dims()) {
      return ctx.fail("input " + std::to_string(2 + j * k + i) + " (" + dims_to_string(in[j]->dims()) +
                      ") does not match X" + std::to_string(i + 1) + " (" + dims_to_string(x.dims()) + ")");
    }
  }
  out.assign(1 + states, nullptr);
  scratch.resize(1 + states);
  for (int j = 0; j <= states; ++j) {
    const size_t o = j * k + i;
    if (o < ctx.num_outputs() && ctx.has_output(o)) {
      INGOT_ASSIGN_OR_RETURN(out[j], ctx.alloc_output(o, x.dtype(), x.dims()));
    } else {
      INGOT_ASSIGN_OR_RETURN(scratch[j], Tensor::create(x.dtype(), x.dims()));
      out[j] = &scratch[j];
    }
  }
  return Status::Ok();
}

struct Step {
  double r = 0;
  int64_t t = 0;
};

Expected<Step> read_step(RunContext& ctx) {
  const Tensor& r = ctx.input(0);
  const Tensor& t = ctx.input(1);
  if (r.numel() != 1 || !dtype_is_float(r.dtype())) return ctx.fail("R must be a float scalar");
  if (t.numel() != 1 || t.dtype() != DType::kI64) return ctx.fail("T must be an int64 scalar");
  return Step{r.get_f64(0), t.get_i64(0)};
}

template <int kStates, typename F>
Status run_groups(RunContext& ctx, F&& update) {
  const size_t k = (ctx.num_inputs() - 2) / (2 + kStates);
  std::vector<const Tensor*> in;
  std::vector<Tensor*> out;
  std::vector<Tensor> scratch;
  for (size_t i = 0; i < k; ++i) {
    INGOT_RETURN_IF_ERROR(group_outputs(ctx, k, i, kStates, in, out, scratch));
    dispatch_float(in[0]->dtype(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      if constexpr (std::is_same_v<T, float> || std::is_same_v<T, double>)
        update(tag, in, out, in[0]->numel());
    });
  }
  return Status::Ok();
}

Status run_adagrad(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Step s, read_step(ctx));
  const ir::Node& node = ctx.node();
  const double rate = s.r / (1 + static_cast<double>(s.t) * node.attr_float("decay_factor", 0.0f));
  const double norm = node.attr_float("norm_coefficient", 0.0f), eps = node.attr_float("epsilon", 1e-6f);
  return run_groups<1>(ctx, [&](auto tag, const auto& in, const auto& out, int64_t n) {
    using T = typename decltype(tag)::type;
    ref::adagrad(in[0]->template data<T>(), in[1]->template data<T>(), in[2]->template data<T>(),
                 out[0]->template data<T>(), out[1]->template data<T>(), n, rate, norm, eps);
  });
}

Status run_adam(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Step s, read_step(ctx));
  const ir::Node& node = ctx.node();
  ref::AdamParams p;
  p.alpha = node.attr_float("alpha", 0.9f);
  p.beta = node.attr_float("beta", 0.999f);
  p.eps = node.attr_float("epsilon", 1e-6f);
  p.norm = node.attr_float("norm_coefficient", 0.0f);
  p.norm_post = node.attr_float("norm_coefficient_post", 0.0f);
  const double t = static_cast<double>(s.t);
  // Bias correction of the running moments; undefined before the first step, where the plain rate is used.
  p.rate = s.t > 0 ? s.r * std::sqrt(1 - std::pow(p.beta, t)) / (1 - std::pow(p.alpha, t)) : s.r;
  return run_groups<2>(ctx, [&](auto tag, const auto& in, const auto& out, int64_t n) {
    using T = typename decltype(tag)::type;
    ref::adam(in[0]->template data<T>(), in[1]->template data<T>(), in[2]->template data<T>(),
              in[3]->template data<T>(), out[0]->template data<T>(), out[1]->template data<T>(),
              out[2]->template data<T>(), n, p);
  });
}

Status run_momentum(RunContext& ctx) {
  INGOT_ASSIGN_OR_RETURN(Step s, read_step(ctx));
  const ir::Node& node = ctx.node();
  for (const char* a : {"alpha", "beta", "norm_coefficient", "mode"})
    if (!node.has_attr(a)) return ctx.fail(std::string("attribute '") + a + "' is required");
  const std::string mode = node.attr_string("mode", "");
  if (mode != "standard" && mode != "nesterov") {
    return ctx.fail("mode must be 'standard' or 'nesterov', got '" + mode + "'");
  }
  const double alpha = node.attr_float("alpha", 0.0f), norm = node.attr_float("norm_coefficient", 0.0f);
  // The first step (T = 0) takes the whole gradient into the empty velocity.
  const double beta = s.t > 0 ? node.attr_float("beta", 0.0f) : 1.0;
  return run_groups<1>(ctx, [&](auto tag, const auto& in, const auto& out, int64_t n) {
    using T = typename decltype(tag)::type;
    ref::momentum(in[0]->template data<T>(), in[1]->template data<T>(), in[2]->template data<T>(),
                  out[0]->template data<T>(), out[1]->template data<T>(), n, s.r, alpha, beta, norm,
                  mode == "nesterov");
  });
}

}  // namespace

INGOT_REGISTER_OP_DOMAIN("ai.onnx.preview.training", Adagrad, "Adagrad", .infer = infer_optimizer<3>,
                         .run = run_adagrad);
INGOT_REGISTER_OP_DOMAIN("ai.onnx.preview.training", Adam, "Adam", .infer = infer_optimizer<4>,
                         .run = run_adam);
INGOT_REGISTER_OP_DOMAIN("ai.onnx.preview.training", Momentum, "Momentum", .infer = infer_optimizer<3>,
                         .run = run_momentum);

}  // namespace ingot::ops
