// The integer convolution QLinearConv builds on (ConvInteger itself is registered in conv.cc).
#include "ops/quant_integer.h"

#include "kernels/reference/conv.h"
#include "ops/conv_pool_common.h"
#include "ops/op_util.h"

namespace ingot::ops {

Expected<ir::SymShape> integer_conv_shape(const ir::Node& node, const ir::SymShape& x,
                                          const ir::SymShape& w) {
  auto fail = [&](const std::string& m) { return invalid_argument(node.describe() + ": " + m); };
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
    return fail("W's output channels are not divisible by group " + std::to_string(group));
  }
  std::vector<int64_t> kernel(nsp, 1);
  bool known = true;
  for (size_t d = 0; d < nsp; ++d) {
    if (w[d + 2].is_static())
      kernel[d] = w[d + 2].value;
    else
      known = false;
  }
  const std::vector<int64_t> attr_kernel = node.attr_ints("kernel_shape");
  if (!attr_kernel.empty() && known && attr_kernel != kernel) return fail("kernel_shape does not match W");
  INGOT_ASSIGN_OR_RETURN(WindowAttrs attrs, read_window_attrs(node, nsp, kernel));
  ir::SymShape out(x.size());
  out[0] = x[0];
  out[1] = w[0];
  for (size_t d = 0; d < nsp; ++d) {
    if (!x[d + 2].is_static() || !w[d + 2].is_static()) continue;
    INGOT_ASSIGN_OR_RETURN(int64_t size, window_output_size(attrs, d, x[d + 2].value, node));
    out[d + 2] = size;
  }
  return out;
}

Expected<Dims> integer_conv(const ir::Node& node, const Tensor& x, int32_t x_zero, const Tensor& w,
                            const std::vector<int32_t>& w_zero, std::vector<int32_t>* acc) {
  INGOT_ASSIGN_OR_RETURN(ir::SymShape shape,
                         integer_conv_shape(node, ir::to_sym_shape(x.dims()), ir::to_sym_shape(w.dims())));
  const Dims out = ir::to_dims(shape);
  const size_t nsp = x.dims().size() - 2;
  INGOT_ASSIGN_OR_RETURN(
      WindowAttrs attrs,
      read_window_attrs(node, nsp, std::vector<int64_t>(w.dims().begin() + 2, w.dims().end())));
  for (size_t d = 0; d < nsp; ++d) {
    INGOT_RETURN_IF_ERROR(window_output_size(attrs, d, x.dim(static_cast<int64_t>(d) + 2), node).status());
  }
  const int64_t M = w.dim(0);
  if (static_cast<int64_t>(w_zero.size()) != M) {
    return invalid_argument(node.describe() + ": expected one w zero point or one per output channel");
  }
  // Differences of 8-bit values and sums of their products are exact in double (|sum| < 2^53).
  auto widen = [](const Tensor& t, auto zero_of) {
    std::vector<double> v(static_cast<size_t>(t.numel()));
    const bool u8 = t.dtype() == DType::kU8;
    for (int64_t i = 0; i < t.numel(); ++i) {
      const int32_t q = u8 ? t.data<uint8_t>()[i] : t.data<int8_t>()[i];
      v[i] = static_cast<double>(q - zero_of(i));
    }
    return v;
  };
  const std::vector<double> xd = widen(x, [&](int64_t) { return x_zero; });
  const int64_t per_m = M > 0 ? w.numel() / M : 0;
  const std::vector<double> wd = widen(w, [&](int64_t i) { return w_zero[per_m ? i / per_m : 0]; });
  ref::ConvShape s;
  s.batch = x.dim(0);
  s.in_channels = x.dim(1);
  s.out_channels = M;
  s.group = node.attr_int("group", 1);
  s.in_spatial.assign(x.dims().begin() + 2, x.dims().end());
  s.out_spatial.assign(out.begin() + 2, out.end());
  s.kernel = attrs.kernel;
  s.strides = attrs.strides;
  s.dilations = attrs.dilations;
  s.pads_begin.assign(attrs.pads.begin(), attrs.pads.begin() + attrs.rank());
  INGOT_ASSIGN_OR_RETURN(int64_t n, checked_numel(out));
  std::vector<double> yd(static_cast<size_t>(n));
  if (n > 0) ref::conv(xd.data(), wd.data(), static_cast<const double*>(nullptr), yd.data(), s);
  acc->resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) (*acc)[i] = static_cast<int32_t>(yd[i]);
  return out;
}

}  // namespace ingot::ops
