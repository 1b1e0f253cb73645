#include "kernels/reference/quantize.h"

#include <algorithm>
#include <cmath>

#include "kernels/reference/cast.h"

namespace ingot::ref {

bool is_quant_type(DType t) {
  switch (t) {
    case DType::kI8:
    case DType::kU8:
    case DType::kI16:
    case DType::kU16:
    case DType::kI4:
    case DType::kU4:
    case DType::kF8E4M3FN:
    case DType::kF8E4M3FNUZ:
    case DType::kF8E5M2:
    case DType::kF8E5M2FNUZ:
    case DType::kF4E2M1:
      return true;
    default:
      return false;
  }
}

void quant_range(DType t, double* lo, double* hi) {
  switch (t) {
    case DType::kI8:
      *lo = -128;
      *hi = 127;
      return;
    case DType::kU8:
      *lo = 0;
      *hi = 255;
      return;
    case DType::kI16:
      *lo = -32768;
      *hi = 32767;
      return;
    case DType::kU16:
      *lo = 0;
      *hi = 65535;
      return;
    case DType::kI4:
      *lo = -8;
      *hi = 7;
      return;
    case DType::kU4:
      *lo = 0;
      *hi = 15;
      return;
    case DType::kI32:
      *lo = -2147483648.0;
      *hi = 2147483647.0;
      return;
    default:
      *lo = 0;
      *hi = 0;
      return;
  }
}

int64_t quantize_value(double v, double zero_point, DType to, bool saturate) {
  if (is_float8(to)) return float_to_float8(static_cast<float>(v), to, saturate);
  if (to == DType::kF4E2M1) return float_to_float4e2m1(static_cast<float>(v + zero_point));
  double lo, hi;
  quant_range(to, &lo, &hi);
  if (std::isnan(v)) return static_cast<int64_t>(std::clamp(zero_point, lo, hi));
  // nearbyint rounds half to even under the default rounding mode, as numpy's rint does.
  return static_cast<int64_t>(std::clamp(std::nearbyint(v) + zero_point, lo, hi));
}

void quant_store(DType to, int64_t c, void* y, int64_t i) {
  switch (to) {
    case DType::kI8:
    case DType::kI4:
      static_cast<int8_t*>(y)[i] = static_cast<int8_t>(c);
      return;
    case DType::kI16:
      static_cast<int16_t*>(y)[i] = static_cast<int16_t>(c);
      return;
    case DType::kU16:
      static_cast<uint16_t*>(y)[i] = static_cast<uint16_t>(c);
      return;
    case DType::kI32:
      static_cast<int32_t*>(y)[i] = static_cast<int32_t>(c);
      return;
    default:
      static_cast<uint8_t*>(y)[i] = static_cast<uint8_t>(c);
      return;
  }
}

double quant_load(DType from, const void* x, int64_t i) {
  switch (from) {
    case DType::kI8:
    case DType::kI4:
      return static_cast<const int8_t*>(x)[i];
    case DType::kU8:
    case DType::kU4:
      return static_cast<const uint8_t*>(x)[i];
    case DType::kI16:
      return static_cast<const int16_t*>(x)[i];
    case DType::kU16:
      return static_cast<const uint16_t*>(x)[i];
    case DType::kI32:
      return static_cast<const int32_t*>(x)[i];
    case DType::kF4E2M1:
      return float4e2m1_to_float(static_cast<const uint8_t*>(x)[i]);
    default:
      return float8_to_float(static_cast<const uint8_t*>(x)[i], from);
  }
}

}  // namespace ingot::ref
