// Linear (de)quantization: per-tensor, per-axis and blocked scales / zero points, to and from the
// integer (8, 16, 4-bit), float8 and float4 types ingot stores. Pure functions over pointers.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "ingot/dtype.h"

namespace ingot::ref {

// How an element of x finds its scale / zero point: x is viewed as [outer, n, inner] around the
// quantization axis. Per tensor: one parameter. Per axis: parameter a for axis index a. Blocked
// (block > 0): parameters shaped like x with ceil(n / block) on the axis.
struct QuantLayout {
  int64_t outer = 1, n = 1, inner = 1;
  bool per_tensor = true;
  int64_t block = 0;

  int64_t param_index(int64_t o, int64_t a, int64_t i) const {
    if (per_tensor) return 0;
    if (block <= 0) return a;
    return (o * ((n + block - 1) / block) + a / block) * inner + i;
  }
};

// True for the types QuantizeLinear can produce and DequantizeLinear read.
bool is_quant_type(DType t);
// The integer range of an integer quantized type.
void quant_range(DType t, double* lo, double* hi);

// Rounds x (already divided by the scale) and adds the zero point, saturating into type `to`, and
// returns the stored code (4-bit values one per byte; float8 / float4 as their bit patterns).
// Rounding is to nearest even; a NaN becomes the zero point.
int64_t quantize_value(double v, double zero_point, DType to, bool saturate);

// y (type `to`) = quantize(x / scale + zero_point). scale holds one value per parameter, zero_point
// (nullable) too, both converted to double. The quotient is computed in Q, the type numpy gives
// x / scale (float, double, or a half type whose quotient is rounded to it before the integer rounding).
template <typename T, typename Q>
void quantize_linear(const QuantLayout& q, const T* x, const double* scale, const double* zero_point,
                     DType to, bool saturate, void* y);

// Element i of a quantized buffer of type `from`, as a double (4-bit one per byte, float8 decoded).
double quant_load(DType from, const void* x, int64_t i);

// y = (x - zero_point) * scale, computed in float and rounded to T.
template <typename T>
void dequantize_linear(const QuantLayout& q, DType from, const void* x, const float* scale,
                       const float* zero_point, T* y);

// Stores code `c` (from quantize_value) as element i of a buffer of type `to`.
void quant_store(DType to, int64_t c, void* y, int64_t i);

template <typename T, typename Q>
void quantize_linear(const QuantLayout& q, const T* x, const double* scale, const double* zero_point,
                     DType to, bool saturate, void* y) {
  for (int64_t o = 0; o < q.outer; ++o) {
    for (int64_t a = 0; a < q.n; ++a) {
      const int64_t base = (o * q.n + a) * q.inner;
      for (int64_t i = 0; i < q.inner; ++i) {
        const int64_t p = q.param_index(o, a, i);
        const double xv = static_cast<double>(x[base + i]);
        double v;
        if constexpr (std::is_same_v<Q, double>) {
          v = xv / scale[p];
        } else {
          const float f = static_cast<float>(xv) / static_cast<float>(scale[p]);
          v = std::is_same_v<Q, float> ? f : static_cast<float>(Q(f));
        }
        quant_store(to, quantize_value(v, zero_point ? zero_point[p] : 0.0, to, saturate), y, base + i);
      }
    }
  }
}

template <typename T>
void dequantize_linear(const QuantLayout& q, DType from, const void* x, const float* scale,
                       const float* zero_point, T* y) {
  for (int64_t o = 0; o < q.outer; ++o) {
    for (int64_t a = 0; a < q.n; ++a) {
      const int64_t base = (o * q.n + a) * q.inner;
      for (int64_t i = 0; i < q.inner; ++i) {
        const int64_t p = q.param_index(o, a, i);
        const float xv = static_cast<float>(quant_load(from, x, base + i));
        const float v = (xv - (zero_point ? zero_point[p] : 0.0f)) * scale[p];
        if constexpr (std::is_same_v<T, float>) {
          y[base + i] = v;
        } else {
          y[base + i] = T(v);
        }
      }
    }
  }
}

}  // namespace ingot::ref
