// RandomNormal, RandomUniform, RandomNormalLike, RandomUniformLike, Bernoulli, Multinomial. With a
// `seed` attribute the outputs repeat from run to run (ingot's own sequence: no two runtimes agree on
// random streams); without one each run draws fresh values. Never constant-folded (see shape_inference).
#include <cstring>
#include <random>
#include <string>

#include "core/dispatch.h"
#include "kernels/reference/random.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

ref::RandomEngine make_engine(const ir::Node& node) {
  if (const ir::Attribute* a = node.attr("seed")) {
    uint32_t bits = 0;
    std::memcpy(&bits, &a->f, sizeof bits);
    return ref::RandomEngine(a->kind == ir::Attribute::Kind::kInt ? static_cast<uint64_t>(a->i) : bits);
  }
  std::random_device rd;
  return ref::RandomEngine((static_cast<uint64_t>(rd()) << 32) ^ rd());
}

Expected<DType> attr_dtype(const ir::Node& node, DType dflt) {
  if (!node.has_attr("dtype")) return dflt;
  const int64_t code = node.attr_int("dtype", 0);
  if (code <= 0 || code > INT32_MAX || !dtype_is_valid(static_cast<int32_t>(code))) {
    return invalid_argument(node.describe() + ": dtype " + std::to_string(code) +
                            " is not a tensor element type");
  }
  return static_cast<DType>(code);
}

Status require_float_dtype(const ir::Node& node, DType d) {
  if (!dispatch_float(d, [](auto) {})) {
    return invalid_argument(node.describe() + ": output type must be a float type, got " + dtype_name(d));
  }
  return Status::Ok();
}

// The output dtype and, for the *Like ops, the input whose shape (and default dtype) is used.
Expected<DType> random_dtype(const ir::Node& node, bool like, DType input_dtype) {
  INGOT_ASSIGN_OR_RETURN(DType d, attr_dtype(node, like ? input_dtype : DType::kF32));
  INGOT_RETURN_IF_ERROR(require_float_dtype(node, d));
  return d;
}

bool is_normal(const ir::Node& node) { return node.op_type.find("Normal") != std::string::npos; }
bool is_like(const ir::Node& node) { return node.op_type.find("Like") != std::string::npos; }

Status infer_random(InferContext& ctx) {
  const bool like = is_like(ctx.node());
  if (like && !ctx.has_input(0)) return ctx.fail("input is missing");
  INGOT_ASSIGN_OR_RETURN(DType d, random_dtype(ctx.node(), like, like ? ctx.input_dtype(0) : DType::kF32));
  if (like) {
    if (ctx.input_has_shape(0)) {
      ctx.set_output(0, d, ctx.input_shape(0));
    } else {
      ctx.set_output_rank_unknown(0, d);
    }
    return Status::Ok();
  }
  if (!ctx.node().has_attr("shape")) return ctx.fail("attribute 'shape' is required");
  Dims dims = ctx.node().attr_ints("shape");
  for (int64_t v : dims)
    if (v < 0) return ctx.fail("shape " + dims_to_string(dims) + " has a negative dim");
  ctx.set_output(0, d, ir::to_sym_shape(dims));
  return Status::Ok();
}

Status run_random(RunContext& ctx) {
  const ir::Node& node = ctx.node();
  const bool like = is_like(node);
  if (like && (!ctx.has_input(0) || !ctx.input_value(0).is_tensor()))
    return ctx.fail("input must be a tensor");
  INGOT_ASSIGN_OR_RETURN(DType d, random_dtype(node, like, like ? ctx.input(0).dtype() : DType::kF32));
  Dims dims = like ? ctx.input(0).dims() : node.attr_ints("shape");
  if (!like && !node.has_attr("shape")) return ctx.fail("attribute 'shape' is required");
  for (int64_t v : dims)
    if (v < 0) return ctx.fail("shape " + dims_to_string(dims) + " has a negative dim");
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, d, dims));
  ref::RandomEngine rng = make_engine(node);
  const bool normal = is_normal(node);
  const double a = normal ? node.attr_float("mean", 0.f) : node.attr_float("low", 0.f);
  const double b = normal ? node.attr_float("scale", 1.f) : node.attr_float("high", 1.f);
  if (!normal && !(a <= b)) return ctx.fail("low must not exceed high");
  dispatch_float(d, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (normal) {
      ref::random_normal(rng, a, b, out->data<T>(), out->numel());
    } else {
      ref::random_uniform(rng, a, b, out->data<T>(), out->numel());
    }
  });
  return Status::Ok();
}

// ---- Bernoulli ----

Status infer_bernoulli(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("input is missing");
  if (!dispatch_float(ctx.input_dtype(0), [](auto) {})) return ctx.fail("input must be a float type");
  INGOT_ASSIGN_OR_RETURN(DType d, attr_dtype(ctx.node(), ctx.input_dtype(0)));
  if (!dispatch_numeric(d, [](auto) {}))
    return ctx.fail(std::string("unsupported output type ") + dtype_name(d));
  if (ctx.input_has_shape(0)) {
    ctx.set_output(0, d, ctx.input_shape(0));
  } else {
    ctx.set_output_rank_unknown(0, d);
  }
  return Status::Ok();
}

Status run_bernoulli(RunContext& ctx) {
  if (!ctx.has_input(0) || !ctx.input_value(0).is_tensor()) return ctx.fail("input must be a tensor");
  const Tensor& p = ctx.input(0);
  INGOT_ASSIGN_OR_RETURN(DType d, attr_dtype(ctx.node(), p.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, d, p.dims()));
  ref::RandomEngine rng = make_engine(ctx.node());
  bool ok = false;
  dispatch_float(p.dtype(), [&](auto ptag) {
    using P = typename decltype(ptag)::type;
    ok = dispatch_numeric(d, [&](auto tag) {
      using T = typename decltype(tag)::type;
      ref::bernoulli(rng, p.data<P>(), out->data<T>(), p.numel());
    });
  });
  if (!ok)
    return ctx.fail(std::string("unsupported types ") + dtype_name(p.dtype()) + " -> " + dtype_name(d));
  return Status::Ok();
}

// ---- Multinomial ----

Status infer_multinomial(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("input is missing");
  if (!dispatch_float(ctx.input_dtype(0), [](auto) {})) return ctx.fail("input must be a float type");
  INGOT_ASSIGN_OR_RETURN(DType d, attr_dtype(ctx.node(), DType::kI32));
  if (d != DType::kI32 && d != DType::kI64) return ctx.fail("dtype must be int32 or int64");
  const int64_t samples = ctx.node().attr_int("sample_size", 1);
  if (samples < 1) return ctx.fail("sample_size must be >= 1");
  if (!ctx.input_has_shape(0)) {
    ctx.set_output(0, d, {ir::Dim(), ir::Dim(samples)});
    return Status::Ok();
  }
  if (ctx.input_shape(0).size() != 2) return ctx.fail("input must be [batch, classes]");
  ctx.set_output(0, d, {ctx.input_shape(0)[0], ir::Dim(samples)});
  return Status::Ok();
}

Status run_multinomial(RunContext& ctx) {
  if (!ctx.has_input(0) || !ctx.input_value(0).is_tensor()) return ctx.fail("input must be a tensor");
  const Tensor& x = ctx.input(0);
  if (x.rank() != 2) return ctx.fail("input must be [batch, classes], got " + dims_to_string(x.dims()));
  if (x.dims()[1] < 1) return ctx.fail("input has no classes");
  INGOT_ASSIGN_OR_RETURN(DType d, attr_dtype(ctx.node(), DType::kI32));
  if (d != DType::kI32 && d != DType::kI64) return ctx.fail("dtype must be int32 or int64");
  const int64_t samples = ctx.node().attr_int("sample_size", 1);
  if (samples < 1) return ctx.fail("sample_size must be >= 1");
  INGOT_ASSIGN_OR_RETURN(Tensor * out, ctx.alloc_output(0, d, {x.dims()[0], samples}));
  ref::RandomEngine rng = make_engine(ctx.node());
  if (!dispatch_float(x.dtype(), [&](auto tag) {
        using L = typename decltype(tag)::type;
        if (d == DType::kI32) {
          ref::multinomial(rng, x.data<L>(), x.dims()[0], x.dims()[1], samples, out->data<int32_t>());
        } else {
          ref::multinomial(rng, x.data<L>(), x.dims()[0], x.dims()[1], samples, out->data<int64_t>());
        }
      })) {
    return ctx.fail(std::string("input must be a float type, got ") + dtype_name(x.dtype()));
  }
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(RandomNormal, .infer = infer_random, .run = run_random);
INGOT_REGISTER_OP(RandomUniform, .infer = infer_random, .run = run_random);
INGOT_REGISTER_OP(RandomNormalLike, .infer = infer_random, .run = run_random);
INGOT_REGISTER_OP(RandomUniformLike, .infer = infer_random, .run = run_random);
INGOT_REGISTER_OP(Bernoulli, .infer = infer_bernoulli, .run = run_bernoulli);
INGOT_REGISTER_OP(Multinomial, .infer = infer_multinomial, .run = run_multinomial);

}  // namespace ingot::ops
