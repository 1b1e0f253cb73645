#include "ops/conv_pool_common.h"

#include <algorithm>

namespace ingot::ops {
namespace {

// Kernel sizes, strides, dilations and pads above 2^31 are refused, so the window arithmetic below
// (dilation * kernel, input + pads) stays within int64 for any input extent below 2^61.
constexpr int64_t kMaxWindowAttr = int64_t{1} << 31;
constexpr int64_t kMaxWindowInput = int64_t{1} << 61;

std::string join(const std::vector<int64_t>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + std::to_string(v[i]);
  return s + "]";
}

// Attribute `name` with `size` entries, each >= min_value; `dflt` fills it when absent.
Status read_ints(const ir::Node& node, const std::string& name, size_t size, int64_t dflt, int64_t min_value,
                 std::vector<int64_t>* out) {
  if (!node.has_attr(name)) {
    out->assign(size, dflt);
    return Status::Ok();
  }
  *out = node.attr_ints(name);
  if (out->size() != size) {
    return invalid_argument(node.describe() + ": " + name + " " + join(*out) + " should have " +
                            std::to_string(size) + " values");
  }
  for (int64_t v : *out) {
    if (v < min_value) {
      return invalid_argument(node.describe() + ": " + name + " " + join(*out) + " must be " +
                              (min_value > 0 ? "positive" : "non-negative"));
    }
    if (v > kMaxWindowAttr) {
      return invalid_argument(node.describe() + ": " + name + " " + join(*out) + " exceeds the limit " +
                              std::to_string(kMaxWindowAttr));
    }
  }
  return Status::Ok();
}

}  // namespace

Expected<WindowAttrs> read_window_attrs(const ir::Node& node, size_t spatial_rank,
                                        std::vector<int64_t> kernel) {
  WindowAttrs a;
  if (kernel.empty()) {
    if (!node.has_attr("kernel_shape"))
      return invalid_argument(node.describe() + ": kernel_shape is required");
    INGOT_RETURN_IF_ERROR(read_ints(node, "kernel_shape", spatial_rank, 1, 1, &a.kernel));
  } else {
    a.kernel = std::move(kernel);
    if (a.kernel.size() != spatial_rank) {
      return invalid_argument(node.describe() + ": kernel shape " + join(a.kernel) + " does not match " +
                              std::to_string(spatial_rank) + " spatial dims");
    }
    for (int64_t k : a.kernel) {
      if (k < 1)
        return invalid_argument(node.describe() + ": kernel shape " + join(a.kernel) + " must be positive");
      if (k > kMaxWindowAttr) {
        return invalid_argument(node.describe() + ": kernel shape " + join(a.kernel) + " exceeds the limit " +
                                std::to_string(kMaxWindowAttr));
      }
    }
  }
  INGOT_RETURN_IF_ERROR(read_ints(node, "strides", spatial_rank, 1, 1, &a.strides));
  INGOT_RETURN_IF_ERROR(read_ints(node, "dilations", spatial_rank, 1, 1, &a.dilations));
  INGOT_RETURN_IF_ERROR(read_ints(node, "pads", 2 * spatial_rank, 0, 0, &a.pads));
  a.auto_pad = node.attr_string("auto_pad", "NOTSET");
  if (a.auto_pad != "NOTSET" && a.auto_pad != "SAME_UPPER" && a.auto_pad != "SAME_LOWER" &&
      a.auto_pad != "VALID") {
    return invalid_argument(node.describe() + ": unknown auto_pad '" + a.auto_pad + "'");
  }
  a.ceil_mode = node.attr_int("ceil_mode", 0) != 0;
  return a;
}

Expected<int64_t> window_output_size(WindowAttrs& a, size_t d, int64_t in, const ir::Node& node) {
  const size_t r = a.rank();
  if (in < 0 || in > kMaxWindowInput) {
    return invalid_argument(node.describe() + ": spatial dim " + std::to_string(d) + " of extent " +
                            std::to_string(in) + " is out of range");
  }
  const int64_t stride = a.strides[d];
  const int64_t ek = a.effective_kernel(d);
  if (a.auto_pad == "SAME_UPPER" || a.auto_pad == "SAME_LOWER") {
    const int64_t out = (in + stride - 1) / stride;
    const int64_t total = std::max<int64_t>(0, (out - 1) * stride + ek - in);
    const int64_t small = total / 2, large = total - total / 2;
    // SAME_UPPER puts the odd pad at the end, SAME_LOWER at the beginning.
    a.pads[d] = a.auto_pad == "SAME_UPPER" ? small : large;
    a.pads[r + d] = a.auto_pad == "SAME_UPPER" ? large : small;
    return out;
  }
  if (a.auto_pad == "VALID") a.pads[d] = a.pads[r + d] = 0;
  const int64_t span = in + a.pads[d] + a.pads[r + d] - ek;
  if (span < 0) {
    return invalid_argument(node.describe() + ": kernel of extent " + std::to_string(ek) +
                            " in spatial dim " + std::to_string(d) + " is larger than the padded input (" +
                            std::to_string(in) + " + pads " + std::to_string(a.pads[d]) + "," +
                            std::to_string(a.pads[r + d]) + ")");
  }
  if (!a.ceil_mode) return span / stride + 1;
  int64_t out = (span + stride - 1) / stride + 1;
  // The last window must start inside the input or its leading pad, not in the trailing pad.
  if ((out - 1) * stride >= in + a.pads[d]) --out;
  return out;
}

Expected<std::vector<int64_t>> window_output_sizes(WindowAttrs& a, const std::vector<int64_t>& in_spatial,
                                                   const ir::Node& node) {
  std::vector<int64_t> out(in_spatial.size());
  for (size_t d = 0; d < in_spatial.size(); ++d) {
    INGOT_ASSIGN_OR_RETURN(out[d], window_output_size(a, d, in_spatial[d], node));
  }
  return out;
}

}  // namespace ingot::ops
