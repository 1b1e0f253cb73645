// Dropout. Inference (the default, and every opset < 12) is the identity with an all-true mask.
// With training_mode = true (opset >= 12) elements are kept where u >= ratio, u uniform in
// [0, 1), and scaled by 1 / (1 - ratio). With a `seed` the draws are numpy's
// RandomState(seed).uniform(size=X.shape) — the generator onnx.reference and the ONNX test data
// use — so seeded runs reproduce them exactly.
#include <random>

#include "core/dispatch.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Opsets < 12 carry `ratio` as an attribute; only training reads it, but the canonical form keeps it.
Status normalize_dropout(NormalizeContext& ctx) {
  if (ctx.opset() < 12) ctx.move_attr_to_input("ratio", 1, DType::kF32);
  return Status::Ok();
}

// Opsets < 10 type the mask like the data; later ones make it bool.
DType mask_dtype(int opset, DType x) { return opset < 10 ? x : DType::kBool; }

Status infer_dropout(InferContext& ctx) {
  if (!ctx.has_input(0)) return ctx.fail("missing input data");
  const DType dt = ctx.input_dtype(0);
  if (!dtype_is_float(dt)) return ctx.fail(std::string("unsupported type ") + dtype_name(dt));
  if (ctx.has_input(2) && ctx.input_dtype(2) != DType::kBool) return ctx.fail("training_mode must be bool");
  INGOT_RETURN_IF_ERROR(infer_same_as_input(ctx));
  if (ctx.num_outputs() > 1) {
    ir::ValueType t = ctx.input_type(0);
    t.dtype = mask_dtype(ctx.opset(), dt);
    ctx.set_output(1, t);
  }
  return Status::Ok();
}

// numpy's legacy RandomState: MT19937 seeded with init_genrand (as std::mt19937 is), doubles
// from two draws with 53 random bits.
double numpy_random_double(std::mt19937& g) {
  const uint32_t a = g() >> 5, b = g() >> 6;
  return (a * 67108864.0 + b) / 9007199254740992.0;
}

Status run_dropout(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  bool training = false;
  if (ctx.has_input(2)) {
    const Tensor& tm = ctx.input(2);
    if (tm.dtype() != DType::kBool || tm.numel() != 1) return ctx.fail("training_mode must be a bool scalar");
    training = tm.data<bool>()[0];
  }
  double ratio = 0.5;
  if (ctx.has_input(1)) {
    const Tensor& r = ctx.input(1);
    if (!dtype_is_float(r.dtype()) || r.numel() != 1) return ctx.fail("ratio must be a float scalar");
    ratio = r.get_f64(0);
  }
  const bool want_mask = ctx.num_outputs() > 1 && ctx.has_output(1);
  if (!training || ratio == 0) {
    ctx.set_output(0, RtValue(x));
    if (want_mask) {
      INGOT_ASSIGN_OR_RETURN(Tensor * m, ctx.alloc_output(1, mask_dtype(ctx.opset(), x.dtype()), x.dims()));
      bool ok = dispatch_numeric(m->dtype(), [&](auto tag) {
        using M = typename decltype(tag)::type;
        for (int64_t i = 0; i < m->numel(); ++i) m->data<M>()[i] = static_cast<M>(1.0f);
      });
      if (!ok) return ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
    }
    return Status::Ok();
  }
  if (!(ratio >= 0 && ratio < 1)) return ctx.fail("ratio must be in [0, 1), got " + std::to_string(ratio));
  std::mt19937 gen;
  if (ctx.node().has_attr("seed")) {
    gen.seed(static_cast<uint32_t>(ctx.node().attr_int("seed", 0)));
  } else {
    gen.seed(std::random_device{}());
  }
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), x.dims()));
  Tensor* m = nullptr;
  if (want_mask) {
    INGOT_ASSIGN_OR_RETURN(m, ctx.alloc_output(1, DType::kBool, x.dims()));
  }
  const double scale = 1.0 / (1.0 - ratio);
  bool ok = dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* px = x.data<T>();
    T* py = y->data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      const bool keep = numpy_random_double(gen) >= ratio;
      py[i] = static_cast<T>(keep ? static_cast<double>(px[i]) * scale : 0.0);
      if (m) m->data<bool>()[i] = keep;
    }
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

}  // namespace

INGOT_REGISTER_OP(Dropout, .infer = infer_dropout, .run = run_dropout, .normalize = normalize_dropout);

}  // namespace ingot::ops
