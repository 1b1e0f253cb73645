// Conv: N-D grouped convolution (depthwise included) with strides, dilations, pads / auto_pad and
// an optional bias. The kernel shape comes from W (kernel_shape, when given, must agree).
#include "kernels/reference/conv.h"
#include "core/dispatch.h"
#include "ops/conv_pool_common.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

std::string dim_str(const ir::Dim& d) { return d.is_static() ? std::to_string(d.value) : "?"; }

// Output shape of Conv from the shapes of X, W and B (B may be null); `attrs` receives the window
// attributes with auto_pad resolved. Unknown dims propagate as unknown. Shared by infer and run.
Expected<ir::SymShape> conv_output_shape(const ir::Node& node, const ir::SymShape& x, const ir::SymShape& w,
                                         const ir::SymShape* b, WindowAttrs* attrs) {
  auto fail = [&](const std::string& msg) { return invalid_argument(node.describe() + ": " + msg); };
  if (x.size() < 3) return fail("X must have rank >= 3 ([N, C, spatial...]), got " + ir::shape_to_string(x));
  if (w.size() != x.size()) {
    return fail("W " + ir::shape_to_string(w) + " must have the rank of X " + ir::shape_to_string(x));
  }
  const size_t nsp = x.size() - 2;
  const int64_t group = node.attr_int("group", 1);
  if (group < 1) return fail("group must be positive, got " + std::to_string(group));
  if (x[1].is_static() && w[1].is_static() && x[1].value != w[1].value * group) {
    return fail("X has " + std::to_string(x[1].value) + " channels but W " + ir::shape_to_string(w) +
                " with group " + std::to_string(group) + " expects " + std::to_string(w[1].value * group));
  }
  if (w[0].is_static() && w[0].value % group != 0) {
    return fail("W's " + std::to_string(w[0].value) + " output channels are not divisible by group " +
                std::to_string(group));
  }
  if (b) {
    if (b->size() != 1) return fail("B must be 1-D, got " + ir::shape_to_string(*b));
    if ((*b)[0].is_static() && w[0].is_static() && (*b)[0].value != w[0].value) {
      return fail("B has " + dim_str((*b)[0]) + " values for " + dim_str(w[0]) + " output channels");
    }
  }
  // Unknown kernel dims read as 1 for the attribute checks; their output dims stay unknown.
  std::vector<int64_t> kernel(nsp, 1);
  std::vector<bool> kernel_known(nsp, true);
  std::vector<int64_t> attr_kernel = node.attr_ints("kernel_shape");
  if (!attr_kernel.empty() && attr_kernel.size() != nsp) {
    return fail("kernel_shape has " + std::to_string(attr_kernel.size()) + " values for " +
                std::to_string(nsp) + " spatial dims");
  }
  for (size_t d = 0; d < nsp; ++d) {
    const ir::Dim& wd = w[d + 2];
    if (!attr_kernel.empty() && wd.is_static() && attr_kernel[d] != wd.value) {
      return fail("kernel_shape does not match W " + ir::shape_to_string(w));
    }
    if (wd.is_static())
      kernel[d] = wd.value;
    else if (!attr_kernel.empty())
      kernel[d] = attr_kernel[d];
    else
      kernel_known[d] = false;
    if (kernel_known[d] && kernel[d] < 1)
      return fail("kernel dims must be positive, W is " + ir::shape_to_string(w));
  }
  INGOT_ASSIGN_OR_RETURN(*attrs, read_window_attrs(node, nsp, kernel));
  ir::SymShape out(x.size());
  out[0] = x[0];
  out[1] = w[0];
  for (size_t d = 0; d < nsp; ++d) {
    if (!x[d + 2].is_static() || !kernel_known[d]) continue;
    INGOT_ASSIGN_OR_RETURN(int64_t size, window_output_size(*attrs, d, x[d + 2].value, node));
    out[d + 2] = size;
  }
  return out;
}

Status check_types(DType x, DType w, DType b, bool has_b,
                   const std::function<Status(const std::string&)>& fail) {
  if (!is_float_type(x)) return fail(std::string("unsupported type ") + dtype_name(x));
  if (w != x) return fail(std::string("W type ") + dtype_name(w) + " differs from X type " + dtype_name(x));
  if (has_b && b != x)
    return fail(std::string("B type ") + dtype_name(b) + " differs from X type " + dtype_name(x));
  return Status::Ok();
}

Status infer_conv(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and W");
  const bool has_b = ctx.has_input(2);
  INGOT_RETURN_IF_ERROR(check_types(ctx.input_dtype(0), ctx.input_dtype(1),
                                    has_b ? ctx.input_dtype(2) : DType::kUndefined, has_b,
                                    [&](const std::string& m) { return ctx.fail(m); }));
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0) && !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  // With one of X / W of unknown rank, the other gives the rank and the rest is unknown.
  const size_t rank = ctx.input_has_shape(0) ? ctx.input_shape(0).size() : ctx.input_shape(1).size();
  const ir::SymShape x = ctx.input_has_shape(0) ? ctx.input_shape(0) : ir::SymShape(rank);
  const ir::SymShape w = ctx.input_has_shape(1) ? ctx.input_shape(1) : ir::SymShape(rank);
  const ir::SymShape* b = ctx.input_has_shape(2) ? &ctx.input_shape(2) : nullptr;
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, conv_output_shape(ctx.node(), x, w, b, &attrs));
  ctx.set_output(0, dt, std::move(out));
  return Status::Ok();
}

Status run_conv(RunContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and W");
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const bool has_b = ctx.has_input(2);
  const Tensor* b = has_b ? &ctx.input(2) : nullptr;
  INGOT_RETURN_IF_ERROR(check_types(x.dtype(), w.dtype(), has_b ? b->dtype() : DType::kUndefined, has_b,
                                    [&](const std::string& m) { return ctx.fail(m); }));
  const ir::SymShape b_shape = has_b ? ir::to_sym_shape(b->dims()) : ir::SymShape{};
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out_shape,
                         conv_output_shape(ctx.node(), ir::to_sym_shape(x.dims()), ir::to_sym_shape(w.dims()),
                                           has_b ? &b_shape : nullptr, &attrs));
  const Dims out_dims = ir::to_dims(out_shape);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));

  ref::ConvShape s;
  s.batch = x.dim(0);
  s.in_channels = x.dim(1);
  s.out_channels = w.dim(0);
  s.group = ctx.node().attr_int("group", 1);
  s.in_spatial.assign(x.dims().begin() + 2, x.dims().end());
  s.out_spatial.assign(out_dims.begin() + 2, out_dims.end());
  s.kernel = attrs.kernel;
  s.strides = attrs.strides;
  s.dilations = attrs.dilations;
  s.pads_begin.assign(attrs.pads.begin(), attrs.pads.begin() + attrs.rank());

  dispatch_float(x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_same_v<T, ComputeType<T>>) {
      ref::conv(x.data<T>(), w.data<T>(), has_b ? b->data<T>() : nullptr, y->data<T>(), s);
    } else {
      const auto xf = widen<T>(x), wf = widen<T>(w);
      const auto bf = has_b ? widen<T>(*b) : std::vector<float>{};
      std::vector<float> yf(static_cast<size_t>(y->numel()));
      ref::conv(xf.data(), wf.data(), has_b ? bf.data() : nullptr, yf.data(), s);
      narrow(yf, y->data<T>());
    }
  });
  return Status::Ok();
}

// ConvInteger: int8/uint8 x and w, shifted by their zero points, accumulated in int32. Padding
// reads as x_zero_point, i.e. as 0 after the shift.
bool is_8bit(DType t) { return t == DType::kI8 || t == DType::kU8; }

Status infer_conv_integer(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs x and w");
  for (size_t i = 0; i < 4; ++i) {
    if (ctx.has_input(i) && !is_8bit(ctx.input_dtype(i))) {
      return ctx.fail(std::string("input ") + std::to_string(i) + " must be int8 or uint8, got " +
                      dtype_name(ctx.input_dtype(i)));
    }
  }
  if (ctx.has_input(2) && ctx.input_dtype(2) != ctx.input_dtype(0))
    return ctx.fail("x_zero_point type differs from x");
  if (ctx.has_input(3) && ctx.input_dtype(3) != ctx.input_dtype(1))
    return ctx.fail("w_zero_point type differs from w");
  if (!ctx.input_has_shape(0) && !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, DType::kI32);
    return Status::Ok();
  }
  const size_t rank = ctx.input_has_shape(0) ? ctx.input_shape(0).size() : ctx.input_shape(1).size();
  const ir::SymShape x = ctx.input_has_shape(0) ? ctx.input_shape(0) : ir::SymShape(rank);
  const ir::SymShape w = ctx.input_has_shape(1) ? ctx.input_shape(1) : ir::SymShape(rank);
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, conv_output_shape(ctx.node(), x, w, nullptr, &attrs));
  ctx.set_output(0, DType::kI32, std::move(out));
  return Status::Ok();
}

// t's elements as int32 minus zero point zp[i / group_size % zp.size()] (zp empty: 0).
std::vector<int32_t> shifted(const Tensor& t, const std::vector<int64_t>& zp, int64_t group_size) {
  std::vector<int32_t> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const int64_t z = zp.empty() ? 0 : zp[static_cast<size_t>(i / group_size) % zp.size()];
    v[i] = static_cast<int32_t>(t.get_i64(i) - z);
  }
  return v;
}

Status run_conv_integer(RunContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs x and w");
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  if (!is_8bit(x.dtype()) || !is_8bit(w.dtype())) return ctx.fail("x and w must be int8 or uint8");
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(
      ir::SymShape out_shape,
      conv_output_shape(ctx.node(), ir::to_sym_shape(x.dims()), ir::to_sym_shape(w.dims()), nullptr, &attrs));
  const std::vector<int64_t> x_zp = ctx.has_input(2) ? ctx.input(2).to_i64_vector() : std::vector<int64_t>{};
  const std::vector<int64_t> w_zp = ctx.has_input(3) ? ctx.input(3).to_i64_vector() : std::vector<int64_t>{};
  if (x_zp.size() > 1) return ctx.fail("x_zero_point must be a scalar");
  if (w_zp.size() > 1 && static_cast<int64_t>(w_zp.size()) != w.dim(0)) {
    return ctx.fail("w_zero_point has " + std::to_string(w_zp.size()) + " values for " +
                    std::to_string(w.dim(0)) + " output channels");
  }
  const Dims out_dims = ir::to_dims(out_shape);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, DType::kI32, out_dims));
  ref::ConvShape s;
  s.batch = x.dim(0);
  s.in_channels = x.dim(1);
  s.out_channels = w.dim(0);
  s.group = ctx.node().attr_int("group", 1);
  s.in_spatial.assign(x.dims().begin() + 2, x.dims().end());
  s.out_spatial.assign(out_dims.begin() + 2, out_dims.end());
  s.kernel = attrs.kernel;
  s.strides = attrs.strides;
  s.dilations = attrs.dilations;
  s.pads_begin.assign(attrs.pads.begin(), attrs.pads.begin() + attrs.rank());
  const std::vector<int32_t> xs = shifted(x, x_zp, 1);
  const std::vector<int32_t> ws = shifted(w, w_zp, w.dim(0) > 0 ? w.numel() / w.dim(0) : 1);
  ref::conv(xs.data(), ws.data(), static_cast<const int32_t*>(nullptr), y->data<int32_t>(), s);
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(Conv, .infer = infer_conv, .run = run_conv);
INGOT_REGISTER_OP(ConvInteger, .infer = infer_conv_integer, .run = run_conv_integer);

}  // namespace ingot::ops
