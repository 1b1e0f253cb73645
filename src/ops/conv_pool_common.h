// Shared by the sliding-window ops (Conv, ConvTranspose, the pools): the window attributes
// (kernel_shape / strides / dilations / pads / auto_pad / ceil_mode), read and checked once, the
// output geometry, and the widening of half types into the float the reference kernels compute in.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "ingot/dtype.h"
#include "ingot/status.h"
#include "ingot/tensor.h"
#include "ir/graph.h"

namespace ingot::ops {

struct WindowAttrs {
  std::vector<int64_t> kernel;     // per spatial dim
  std::vector<int64_t> strides;    // per spatial dim, > 0
  std::vector<int64_t> dilations;  // per spatial dim, > 0
  std::vector<int64_t> pads;       // begin of every dim, then end of every dim (ONNX order), >= 0
  std::string auto_pad = "NOTSET";
  bool ceil_mode = false;

  size_t rank() const { return kernel.size(); }
  int64_t effective_kernel(size_t d) const { return dilations[d] * (kernel[d] - 1) + 1; }
};

// Reads the window attributes of `node` for `spatial_rank` spatial dims. `kernel` is the kernel
// shape when it comes from elsewhere (Conv's weight); empty means the node's kernel_shape attribute,
// which is then required. Checks sizes and signs; errors name the node.
Expected<WindowAttrs> read_window_attrs(const ir::Node& node, size_t spatial_rank,
                                        std::vector<int64_t> kernel);

// Output size of spatial dim `d` for input size `in` (a sliding window: Conv, pools), resolving
// auto_pad into a.pads[d] / a.pads[rank + d]. Fails when the window does not fit the padded input.
Expected<int64_t> window_output_size(WindowAttrs& a, size_t d, int64_t in, const ir::Node& node);

// The same for every spatial dim of a concrete input shape [N, C, spatial...].
Expected<std::vector<int64_t>> window_output_sizes(WindowAttrs& a, const std::vector<int64_t>& in_spatial,
                                                   const ir::Node& node);

// The type a reference kernel computes in for element type T: double for double, float otherwise.
template <typename T>
using ComputeType = std::conditional_t<std::is_same_v<T, double>, double, float>;

// Tensor t's elements converted to the compute type (only used for the half types).
template <typename T>
std::vector<ComputeType<T>> widen(const Tensor& t) {
  std::vector<ComputeType<T>> v(static_cast<size_t>(t.numel()));
  const T* p = t.data<T>();
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<ComputeType<T>>(static_cast<float>(p[i]));
  return v;
}

template <typename T, typename A>
void narrow(const std::vector<A>& v, T* out) {
  for (size_t i = 0; i < v.size(); ++i) out[i] = T(static_cast<float>(v[i]));
}

}  // namespace ingot::ops
