// Reference N-D grouped transposed convolution (ONNX ConvTranspose): pure function over pointers.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::ref {

struct ConvTransposeShape {
  int64_t batch = 0;
  int64_t in_channels = 0;   // C, all groups
  int64_t out_channels = 0;  // M, all groups
  int64_t group = 1;
  std::vector<int64_t> in_spatial;
  std::vector<int64_t> out_spatial;
  std::vector<int64_t> kernel;
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;  // may be negative (an output_shape larger than the natural one)
};

// Every input element x[n, c, i...] scatters x * w[c, m, k...] onto y[n, g * M/group + m, o...] with
// o = i * stride - pad_begin + k * dilation (taps landing outside y are dropped); y starts at bias[M]
// (0 when `bias` is null). w is [C, M / group, kernel...]. T is float or double.
template <typename T>
void conv_transpose(const T* x, const T* w, const T* bias, T* y, const ConvTransposeShape& s);

}  // namespace ingot::ref
