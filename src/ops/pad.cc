// Pad: constant / reflect / edge / wrap; pads, constant_value and axes inputs (attributes before
// opset 11). Negative pads crop.
#include "kernels/reference/pad.h"
#include "core/dispatch.h"
#include "ops/movement_util.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

Status normalize_pad(NormalizeContext& ctx) {
  if (ctx.opset() >= 11) return Status::Ok();
  ir::Node& node = ctx.node();
  ctx.move_attr_to_input(node.has_attr("paddings") ? "paddings" : "pads", 1,
                         DType::kI64);  // "paddings" in Pad-1
  if (node.has_attr("value")) {
    // The value input takes the data's type; when that is not known yet it stays f32 and run converts it.
    DType dt = node.has_input(0) && node.inputs[0]->type.dtype != DType::kUndefined
                   ? node.inputs[0]->type.dtype
                   : DType::kF32;
    const float v = node.attr_float("value", 0.f);
    auto t = Tensor::create(dt, {});
    if (!t.ok() || !dispatch_float(dt, [&](auto tag) {
          using T = typename decltype(tag)::type;
          t->data<T>()[0] = static_cast<T>(v);
        })) {
      t = Tensor::scalar_f32(v);
    }
    node.attrs.erase("value");
    ctx.set_const_input(2, std::move(*t));
  }
  return Status::Ok();
}

Expected<ref::PadMode> pad_mode(const ir::Node& node) {
  const std::string m = node.attr_string("mode", "constant");
  if (m == "constant") return ref::PadMode::kConstant;
  if (m == "edge") return ref::PadMode::kEdge;
  if (m == "reflect") return ref::PadMode::kReflect;
  if (m == "wrap") return ref::PadMode::kWrap;
  return invalid_argument(node.describe() + ": unknown mode '" + m + "'");
}

// Per-dim begin and end pads from the pads input and the optional axes.
Status expand_pads(const std::vector<int64_t>& pads, const std::vector<int64_t>* axes, int64_t rank,
                   const ir::Node& node, std::vector<int64_t>& begin, std::vector<int64_t>& end) {
  begin.assign(rank, 0);
  end.assign(rank, 0);
  std::vector<int64_t> ax;
  if (axes) {
    for (int64_t a : *axes) {
      INGOT_ASSIGN_OR_RETURN(int64_t na, normalize_axis(a, rank, node));
      ax.push_back(na);
    }
  } else {
    for (int64_t i = 0; i < rank; ++i) ax.push_back(i);
  }
  if (pads.size() != 2 * ax.size()) {
    return invalid_argument(node.describe() + ": pads has " + std::to_string(pads.size()) +
                            " values, expected " + std::to_string(2 * ax.size()));
  }
  for (size_t i = 0; i < ax.size(); ++i) {
    begin[ax[i]] = pads[i];
    end[ax[i]] = pads[ax.size() + i];
  }
  return Status::Ok();
}

// The constant as a one-element tensor of `dt` (converting the f32 value an old opset left behind).
Expected<Tensor> pad_value(const RunContext& ctx, DType dt) {
  if (!ctx.has_input(2) || ctx.input(2).numel() == 0) return Tensor::create(dt, {});
  const Tensor& v = ctx.input(2);
  if (v.dtype() == dt) return v;
  if (ctx.opset() >= 11) return ctx.fail("constant_value type differs from the data type");
  INGOT_ASSIGN_OR_RETURN(Tensor t, Tensor::create(dt, {}));
  const double x = v.get_f64(0);
  if (!dispatch_numeric(dt, [&](auto tag) {
        using T = typename decltype(tag)::type;
        t.data<T>()[0] = static_cast<T>(static_cast<float>(x));
      })) {
    return ctx.fail("cannot convert the pad value to " + std::string(dtype_name(dt)));
  }
  return t;
}

Status run_pad(RunContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (!ctx.has_input(1)) return ctx.fail("missing pads input");
  INGOT_ASSIGN_OR_RETURN(auto mode, pad_mode(ctx.node()));
  INGOT_ASSIGN_OR_RETURN(auto pads, int_input(ctx, 1, "pads"));
  std::vector<int64_t> axes;
  if (ctx.has_input(3)) {
    INGOT_ASSIGN_OR_RETURN(axes, int_input(ctx, 3, "axes"));
  }
  std::vector<int64_t> begin, end;
  INGOT_RETURN_IF_ERROR(
      expand_pads(pads, ctx.has_input(3) ? &axes : nullptr, x.rank(), ctx.node(), begin, end));
  Dims out_dims(x.rank());
  for (int64_t i = 0; i < x.rank(); ++i) {
    if (__builtin_add_overflow(x.dim(i), begin[i], &out_dims[i]) ||
        __builtin_add_overflow(out_dims[i], end[i], &out_dims[i])) {
      return ctx.fail("pads overflow dim " + std::to_string(i));
    }
    if (out_dims[i] < 0) return ctx.fail("pads make dim " + std::to_string(i) + " negative");
    if (mode != ref::PadMode::kConstant && x.dim(i) == 0 && out_dims[i] > 0) {
      return ctx.fail("cannot pad an empty dim in " + ctx.node().attr_string("mode", "") + " mode");
    }
  }
  INGOT_ASSIGN_OR_RETURN(Tensor value, pad_value(ctx, x.dtype()));
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));
  bool ok = dispatch_by_size(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    ref::pad(x.data<T>(), x.dims(), begin, out_dims, mode, value.data<T>()[0], y->data<T>());
  });
  return ok ? Status::Ok() : ctx.fail(std::string("unsupported type ") + dtype_name(x.dtype()));
}

Status infer_pad(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects data and pads");
  INGOT_RETURN_IF_ERROR(pad_mode(ctx.node()).status());
  const DType dt = ctx.input_dtype(0);
  if (ctx.has_input(2) && ctx.opset() >= 11 && ctx.input_dtype(2) != dt) {
    return ctx.fail("constant_value type differs from the data type");
  }
  if (!ctx.input_has_shape(0)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const ir::SymShape& in = ctx.input_shape(0);
  auto pads = const_ints(ctx, 1);
  auto axes = ctx.has_input(3) ? const_ints(ctx, 3) : std::optional<std::vector<int64_t>>();
  if (!pads || (ctx.has_input(3) && !axes)) {
    ctx.set_output(0, dt, unknown_shape(in.size()));
    return Status::Ok();
  }
  std::vector<int64_t> begin, end;
  INGOT_RETURN_IF_ERROR(
      expand_pads(*pads, axes ? &*axes : nullptr, static_cast<int64_t>(in.size()), ctx.node(), begin, end));
  ir::SymShape out = in;
  for (size_t i = 0; i < in.size(); ++i) {
    if (begin[i] == 0 && end[i] == 0) continue;
    if (!in[i].is_static()) {
      out[i] = ir::Dim();
      continue;
    }
    int64_t d;
    if (__builtin_add_overflow(in[i].value, begin[i], &d) || __builtin_add_overflow(d, end[i], &d)) {
      return ctx.fail("pads overflow dim " + std::to_string(i));
    }
    if (d < 0) return ctx.fail("pads make dim " + std::to_string(i) + " negative");
    out[i] = d;
  }
  ctx.set_output(0, dt, out);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Pad, .infer = infer_pad, .run = run_pad, .normalize = normalize_pad);

}  // namespace ingot::ops
