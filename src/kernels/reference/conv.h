// Reference N-D grouped convolution (ONNX Conv), NC[spatial...] layout: pure function over pointers.
#pragma once

#include <cstdint>
#include <vector>

namespace ingot::ref {

struct ConvShape {
  int64_t batch = 0;
  int64_t in_channels = 0;   // C, all groups
  int64_t out_channels = 0;  // M, all groups
  int64_t group = 1;
  std::vector<int64_t> in_spatial;   // D1..Dn of x
  std::vector<int64_t> out_spatial;  // of y
  std::vector<int64_t> kernel;       // of w
  std::vector<int64_t> strides;
  std::vector<int64_t> dilations;
  std::vector<int64_t> pads_begin;  // the end pads only shape out_spatial
};

// y[N, M, out...] = sum over the group's input channels and kernel taps of x * w, plus bias[M]
// when `bias` is not null. w is [M, C / group, kernel...]. T is float or double (the accumulation
// type; half types are converted by the caller), or int32_t for ConvInteger on zero-point-shifted
// 8-bit data. Shapes must be consistent (the op checks them).
template <typename T>
void conv(const T* x, const T* w, const T* bias, T* y, const ConvShape& s);

}  // namespace ingot::ref
