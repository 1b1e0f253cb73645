#include "kernels/reference/unary_math.h"

#include <cmath>
#include <limits>

namespace ingot::ref {
namespace {

template <typename C>
C sign_of(C v) {
  if constexpr (std::is_floating_point_v<C>) {
    if (std::isnan(v)) return v;
  }
  if constexpr (std::is_unsigned_v<C>) {
    return v > 0 ? C(1) : C(0);
  } else {
    return v > 0 ? C(1) : (v < 0 ? C(-1) : C(0));
  }
}

// Two's complement negation without signed overflow: -INT_MIN wraps to INT_MIN.
template <typename C>
C wrapping_neg(C v) {
  using U = std::make_unsigned_t<C>;
  return static_cast<C>(static_cast<U>(U(0) - static_cast<U>(v)));
}

template <typename T>
void integer_math(UnaryMathOp op, const T* x, T* y, int64_t n) {
  switch (op) {
    case UnaryMathOp::kAbs:
      if constexpr (std::is_unsigned_v<T>) {
        map_math(x, y, n, [](T v) { return v; });
      } else {
        map_math(x, y, n, [](T v) { return v < 0 ? wrapping_neg(v) : v; });
      }
      return;
    case UnaryMathOp::kNeg:
      if constexpr (std::is_signed_v<T>) map_math(x, y, n, [](T v) { return wrapping_neg(v); });
      return;
    case UnaryMathOp::kSign:
      map_math(x, y, n, [](T v) { return sign_of(v); });
      return;
    default:
      return;
  }
}

template <typename T>
void float_math(UnaryMathOp op, const T* x, T* y, int64_t n) {
  using C = MathType<T>;
  switch (op) {
    case UnaryMathOp::kAbs:
      map_math(x, y, n, [](C v) { return std::fabs(v); });
      return;
    case UnaryMathOp::kNeg:
      map_math(x, y, n, [](C v) { return -v; });
      return;
    case UnaryMathOp::kSign:
      map_math(x, y, n, [](C v) { return sign_of(v); });
      return;
    case UnaryMathOp::kExp:
      map_math(x, y, n, [](C v) { return std::exp(v); });
      return;
    case UnaryMathOp::kLog:
      map_math(x, y, n, [](C v) { return std::log(v); });
      return;
    case UnaryMathOp::kSqrt:
      map_math(x, y, n, [](C v) { return std::sqrt(v); });
      return;
    case UnaryMathOp::kReciprocal:
      map_math(x, y, n, [](C v) { return C(1) / v; });
      return;
    case UnaryMathOp::kFloor:
      map_math(x, y, n, [](C v) { return std::floor(v); });
      return;
    case UnaryMathOp::kCeil:
      map_math(x, y, n, [](C v) { return std::ceil(v); });
      return;
    // nearbyint rounds in the current mode, which is round-to-nearest-even unless someone changed it.
    case UnaryMathOp::kRound:
      map_math(x, y, n, [](C v) { return std::nearbyint(v); });
      return;
    case UnaryMathOp::kSin:
      map_math(x, y, n, [](C v) { return std::sin(v); });
      return;
    case UnaryMathOp::kCos:
      map_math(x, y, n, [](C v) { return std::cos(v); });
      return;
    case UnaryMathOp::kTan:
      map_math(x, y, n, [](C v) { return std::tan(v); });
      return;
    case UnaryMathOp::kAsin:
      map_math(x, y, n, [](C v) { return std::asin(v); });
      return;
    case UnaryMathOp::kAcos:
      map_math(x, y, n, [](C v) { return std::acos(v); });
      return;
    case UnaryMathOp::kAtan:
      map_math(x, y, n, [](C v) { return std::atan(v); });
      return;
    case UnaryMathOp::kSinh:
      map_math(x, y, n, [](C v) { return std::sinh(v); });
      return;
    case UnaryMathOp::kCosh:
      map_math(x, y, n, [](C v) { return std::cosh(v); });
      return;
    case UnaryMathOp::kAsinh:
      map_math(x, y, n, [](C v) { return std::asinh(v); });
      return;
    case UnaryMathOp::kAcosh:
      map_math(x, y, n, [](C v) { return std::acosh(v); });
      return;
    case UnaryMathOp::kAtanh:
      map_math(x, y, n, [](C v) { return std::atanh(v); });
      return;
    case UnaryMathOp::kErf:
      map_math(x, y, n, [](C v) { return std::erf(v); });
      return;
  }
}

}  // namespace

template <typename T>
void unary_math(UnaryMathOp op, const T* x, T* y, int64_t n) {
  if constexpr (std::is_integral_v<T>) {
    integer_math(op, x, y, n);
  } else {
    float_math(op, x, y, n);
  }
}

template <typename T>
void is_nan(const T* x, bool* out, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = std::isnan(static_cast<MathType<T>>(x[i]));
}

template <typename T>
void is_inf(const T* x, bool* out, int64_t n, bool detect_negative, bool detect_positive) {
  for (int64_t i = 0; i < n; ++i) {
    const MathType<T> v = static_cast<MathType<T>>(x[i]);
    out[i] = std::isinf(v) && (v > 0 ? detect_positive : detect_negative);
  }
}

void logical_not(const bool* x, bool* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = !x[i];
}

template <typename T>
void bitwise_not(const T* x, T* y, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(~x[i]);
}

#define INGOT_UNARY_MATH_ALL(T) template void unary_math<T>(UnaryMathOp, const T*, T*, int64_t);
#define INGOT_UNARY_MATH_FLOAT(T)                    \
  template void is_nan<T>(const T*, bool*, int64_t); \
  template void is_inf<T>(const T*, bool*, int64_t, bool, bool);
#define INGOT_UNARY_MATH_INT(T) template void bitwise_not<T>(const T*, T*, int64_t);

INGOT_UNARY_MATH_ALL(float)
INGOT_UNARY_MATH_ALL(double)
INGOT_UNARY_MATH_ALL(Float16)
INGOT_UNARY_MATH_ALL(BFloat16)
INGOT_UNARY_MATH_ALL(int8_t)
INGOT_UNARY_MATH_ALL(int16_t)
INGOT_UNARY_MATH_ALL(int32_t)
INGOT_UNARY_MATH_ALL(int64_t)
INGOT_UNARY_MATH_ALL(uint8_t)
INGOT_UNARY_MATH_ALL(uint16_t)
INGOT_UNARY_MATH_ALL(uint32_t)
INGOT_UNARY_MATH_ALL(uint64_t)
INGOT_UNARY_MATH_FLOAT(float)
INGOT_UNARY_MATH_FLOAT(double)
INGOT_UNARY_MATH_FLOAT(Float16)
INGOT_UNARY_MATH_FLOAT(BFloat16)
INGOT_UNARY_MATH_INT(int8_t)
INGOT_UNARY_MATH_INT(int16_t)
INGOT_UNARY_MATH_INT(int32_t)
INGOT_UNARY_MATH_INT(int64_t)
INGOT_UNARY_MATH_INT(uint8_t)
INGOT_UNARY_MATH_INT(uint16_t)
INGOT_UNARY_MATH_INT(uint32_t)
INGOT_UNARY_MATH_INT(uint64_t)

}  // namespace ingot::ref
