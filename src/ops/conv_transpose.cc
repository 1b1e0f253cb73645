// ConvTranspose: N-D grouped transposed convolution with strides, dilations, pads / auto_pad,
// output_padding and output_shape, and an optional bias.
#include "kernels/reference/conv_transpose.h"
#include "core/dispatch.h"
#include "ops/conv_pool_common.h"
#include "ops/op.h"
#include "ops/op_util.h"

namespace ingot::ops {
namespace {

// Python-style floor(t / 2): the ONNX split of a negative total padding (output_shape larger than the
// natural size) puts the extra output at the end.
int64_t floor_half(int64_t t) { return t >= 0 ? t / 2 : -((-t + 1) / 2); }

// Output shape from the shapes of X, W and B (B may be null); `attrs` receives the pads actually
// applied (resolved from auto_pad / output_shape). Unknown dims propagate. Shared by infer and run.
Expected<ir::SymShape> conv_transpose_output_shape(const ir::Node& node, const ir::SymShape& x,
                                                   const ir::SymShape& w, const ir::SymShape* b,
                                                   WindowAttrs* attrs) {
  auto fail = [&](const std::string& msg) { return invalid_argument(node.describe() + ": " + msg); };
  if (x.size() < 3) return fail("X must have rank >= 3 ([N, C, spatial...]), got " + ir::shape_to_string(x));
  if (w.size() != x.size()) {
    return fail("W " + ir::shape_to_string(w) + " must have the rank of X " + ir::shape_to_string(x));
  }
  const size_t nsp = x.size() - 2;
  const int64_t group = node.attr_int("group", 1);
  if (group < 1) return fail("group must be positive, got " + std::to_string(group));
  if (x[1].is_static() && w[0].is_static() && x[1].value != w[0].value) {
    return fail("X has " + std::to_string(x[1].value) + " channels but W " + ir::shape_to_string(w) +
                " expects " + std::to_string(w[0].value));
  }
  if (w[0].is_static() && w[0].value % group != 0) {
    return fail("W's " + std::to_string(w[0].value) + " input channels are not divisible by group " +
                std::to_string(group));
  }
  ir::Dim m = w[1].is_static() ? ir::Dim(w[1].value * group) : ir::Dim();
  if (b) {
    if (b->size() != 1) return fail("B must be 1-D, got " + ir::shape_to_string(*b));
    if ((*b)[0].is_static() && m.is_static() && (*b)[0].value != m.value) {
      return fail("B has " + std::to_string((*b)[0].value) + " values for " + std::to_string(m.value) +
                  " output channels");
    }
  }
  std::vector<int64_t> kernel(nsp, 1);
  std::vector<bool> kernel_known(nsp, true);
  const std::vector<int64_t> attr_kernel = node.attr_ints("kernel_shape");
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
  WindowAttrs& a = *attrs;

  std::vector<int64_t> out_pad = node.attr_ints("output_padding", std::vector<int64_t>(nsp, 0));
  if (out_pad.size() != nsp) return fail("output_padding should have " + std::to_string(nsp) + " values");
  for (int64_t p : out_pad) {
    if (p < 0) return fail("output_padding must be non-negative");
  }
  std::vector<int64_t> out_shape = node.attr_ints("output_shape");
  if (out_shape.size() == nsp + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  if (!out_shape.empty() && out_shape.size() != nsp) {
    return fail("output_shape should have " + std::to_string(nsp) + " values");
  }
  for (int64_t v : out_shape) {
    if (v < 0) return fail("output_shape must be non-negative");
  }

  ir::SymShape out(x.size());
  out[0] = x[0];
  out[1] = m;
  const bool same = a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER";
  for (size_t d = 0; d < nsp; ++d) {
    if (!out_shape.empty()) out[d + 2] = out_shape[d];
    if (!x[d + 2].is_static() || !kernel_known[d]) continue;
    const int64_t in = x[d + 2].value;
    int64_t natural = 0, same_size = 0;
    if (in < 0 || __builtin_mul_overflow(a.strides[d], in - 1, &natural) ||
        __builtin_add_overflow(natural, out_pad[d], &natural) ||
        __builtin_add_overflow(natural, a.effective_kernel(d), &natural) ||
        __builtin_mul_overflow(in, a.strides[d], &same_size)) {
      return fail("output size in spatial dim " + std::to_string(d) + " overflows (input extent " +
                  std::to_string(in) + ", stride " + std::to_string(a.strides[d]) + ")");
    }
    int64_t size = 0;
    if (!out_shape.empty() || same) {
      size = !out_shape.empty() ? out_shape[d] : same_size;
      const int64_t total = natural - size;
      const bool upper = a.auto_pad == "SAME_UPPER";
      a.pads[d] = upper ? floor_half(total) : total - floor_half(total);
      a.pads[nsp + d] = upper ? total - floor_half(total) : floor_half(total);
    } else {
      if (a.auto_pad == "VALID") a.pads[d] = a.pads[nsp + d] = 0;
      size = natural - a.pads[d] - a.pads[nsp + d];
    }
    if (size < 0) {
      return fail("output size " + std::to_string(size) + " in spatial dim " + std::to_string(d) +
                  " is negative (pads larger than the output)");
    }
    out[d + 2] = size;
  }
  return out;
}

Status check_types(DType x, DType w, const DType* b, const std::function<Status(const std::string&)>& fail) {
  if (!is_float_type(x)) return fail(std::string("unsupported type ") + dtype_name(x));
  if (w != x) return fail(std::string("W type ") + dtype_name(w) + " differs from X type " + dtype_name(x));
  if (b && *b != x)
    return fail(std::string("B type ") + dtype_name(*b) + " differs from X type " + dtype_name(x));
  return Status::Ok();
}

Status infer_conv_transpose(InferContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and W");
  const DType b_type = ctx.has_input(2) ? ctx.input_dtype(2) : DType::kUndefined;
  INGOT_RETURN_IF_ERROR(check_types(ctx.input_dtype(0), ctx.input_dtype(1),
                                    ctx.has_input(2) ? &b_type : nullptr,
                                    [&](const std::string& m) { return ctx.fail(m); }));
  const DType dt = ctx.input_dtype(0);
  if (!ctx.input_has_shape(0) && !ctx.input_has_shape(1)) {
    ctx.set_output_rank_unknown(0, dt);
    return Status::Ok();
  }
  const size_t rank = ctx.input_has_shape(0) ? ctx.input_shape(0).size() : ctx.input_shape(1).size();
  const ir::SymShape x = ctx.input_has_shape(0) ? ctx.input_shape(0) : ir::SymShape(rank);
  const ir::SymShape w = ctx.input_has_shape(1) ? ctx.input_shape(1) : ir::SymShape(rank);
  const ir::SymShape* b = ctx.input_has_shape(2) ? &ctx.input_shape(2) : nullptr;
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(ir::SymShape out, conv_transpose_output_shape(ctx.node(), x, w, b, &attrs));
  ctx.set_output(0, dt, std::move(out));
  return Status::Ok();
}

Status run_conv_transpose(RunContext& ctx) {
  if (!ctx.has_input(0) || !ctx.has_input(1)) return ctx.fail("expects inputs X and W");
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* b = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const DType b_type = b ? b->dtype() : DType::kUndefined;
  INGOT_RETURN_IF_ERROR(check_types(x.dtype(), w.dtype(), b ? &b_type : nullptr,
                                    [&](const std::string& m) { return ctx.fail(m); }));
  const ir::SymShape b_shape = b ? ir::to_sym_shape(b->dims()) : ir::SymShape{};
  WindowAttrs attrs;
  INGOT_ASSIGN_OR_RETURN(
      ir::SymShape out_shape,
      conv_transpose_output_shape(ctx.node(), ir::to_sym_shape(x.dims()), ir::to_sym_shape(w.dims()),
                                  b ? &b_shape : nullptr, &attrs));
  const Dims out_dims = ir::to_dims(out_shape);
  INGOT_ASSIGN_OR_RETURN(Tensor * y, ctx.alloc_output(0, x.dtype(), out_dims));

  ref::ConvTransposeShape s;
  s.batch = x.dim(0);
  s.in_channels = x.dim(1);
  s.out_channels = out_dims[1];
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
      ref::conv_transpose(x.data<T>(), w.data<T>(), b ? b->data<T>() : nullptr, y->data<T>(), s);
    } else {
      const auto xf = widen<T>(x), wf = widen<T>(w);
      const auto bf = b ? widen<T>(*b) : std::vector<float>{};
      std::vector<float> yf(static_cast<size_t>(y->numel()));
      ref::conv_transpose(xf.data(), wf.data(), b ? bf.data() : nullptr, yf.data(), s);
      narrow(yf, y->data<T>());
    }
  });
  return Status::Ok();
}

}  // namespace

INGOT_REGISTER_OP(ConvTranspose, .infer = infer_conv_transpose, .run = run_conv_transpose);

}  // namespace ingot::ops
