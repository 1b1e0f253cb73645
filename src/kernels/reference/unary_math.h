// Elementwise math kernels (Abs, Exp, Sin, Erf ...): pure functions over pointers and counts.
#pragma once

#include <cstdint>
#include <type_traits>

#include "ingot/dtype.h"

namespace ingot::ref {

template <typename T>
inline constexpr bool kIsHalfFloat = std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// The type a kernel computes in: 16-bit floats widen to float and round back once per element, so
// results match a float computation rounded to the storage type.
template <typename T>
using MathType = std::conditional_t<kIsHalfFloat<T>, float, T>;

// y[i] = T(f(MathType<T>(x[i]))) for i < n.
template <typename T, typename F>
void map_math(const T* x, T* y, int64_t n, F&& f) {
  for (int64_t i = 0; i < n; ++i) y[i] = static_cast<T>(f(static_cast<MathType<T>>(x[i])));
}

enum class UnaryMathOp {
  // Every numeric type (Neg: signed ones; the op checks).
  kAbs,
  kNeg,
  kSign,
  // Floating point only.
  kExp,
  kLog,
  kSqrt,
  kReciprocal,
  kFloor,
  kCeil,
  kRound,  // half to even
  kSin,
  kCos,
  kTan,
  kAsin,
  kAcos,
  kAtan,
  kSinh,
  kCosh,
  kAsinh,
  kAcosh,
  kAtanh,
  kErf,
};

// True for the ops defined on integer element types.
constexpr bool unary_math_accepts_integers(UnaryMathOp op) {
  return op == UnaryMathOp::kAbs || op == UnaryMathOp::kNeg || op == UnaryMathOp::kSign;
}

// y = op(x) over n elements. T is any float type (float, double, Float16, BFloat16) or, for the ops
// unary_math_accepts_integers allows, any integer type; other (op, T) pairs leave y untouched.
// Integer Abs/Neg wrap on the most negative value, as two's complement hardware does.
template <typename T>
void unary_math(UnaryMathOp op, const T* x, T* y, int64_t n);

// IsNaN / IsInf over float types; out is one bool per element.
template <typename T>
void is_nan(const T* x, bool* out, int64_t n);
template <typename T>
void is_inf(const T* x, bool* out, int64_t n, bool detect_negative, bool detect_positive);

// Not over bool, BitwiseNot over integers.
void logical_not(const bool* x, bool* y, int64_t n);
template <typename T>
void bitwise_not(const T* x, T* y, int64_t n);

}  // namespace ingot::ref
