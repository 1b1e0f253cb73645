// Scalar semantics of the binary elementwise ops whose rules are not a single C++ operator (Pow, Mod,
// BitShift, Max/Min with NaN), and the dtype-agnostic Where. Broadcasting itself is in broadcast.h.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <type_traits>

#include "ingot/tensor.h"

namespace ingot::ref {

// float for the 16-bit float types, the type itself otherwise: where arithmetic on T happens.
template <typename T>
using WideT = std::conditional_t<std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>, float, T>;

template <typename T>
constexpr bool kIsFloat =
    std::is_floating_point_v<T> || std::is_same_v<T, Float16> || std::is_same_v<T, BFloat16>;

// Integer +, -, * that wrap as two's complement (onnxruntime's and numpy's answer; signed overflow is
// undefined in C++): the arithmetic happens in the unsigned type at least as wide as int, whose overflow
// is defined, and the conversion back to T is modular (C++20). Float types use their WideT arithmetic.
template <typename T>
using WrapT = std::make_unsigned_t<std::common_type_t<T, unsigned>>;

template <typename T>
T wrapping_add(T x, T y) {
  if constexpr (kIsFloat<T>) {
    return static_cast<T>(static_cast<WideT<T>>(x) + static_cast<WideT<T>>(y));
  } else {
    return static_cast<T>(static_cast<WrapT<T>>(x) + static_cast<WrapT<T>>(y));
  }
}
template <typename T>
T wrapping_sub(T x, T y) {
  if constexpr (kIsFloat<T>) {
    return static_cast<T>(static_cast<WideT<T>>(x) - static_cast<WideT<T>>(y));
  } else {
    return static_cast<T>(static_cast<WrapT<T>>(x) - static_cast<WrapT<T>>(y));
  }
}
template <typename T>
T wrapping_mul(T x, T y) {
  if constexpr (kIsFloat<T>) {
    return static_cast<T>(static_cast<WideT<T>>(x) * static_cast<WideT<T>>(y));
  } else {
    return static_cast<T>(static_cast<WrapT<T>>(x) * static_cast<WrapT<T>>(y));
  }
}

// double -> integer T without undefined behaviour: truncates toward zero, NaN -> 0, saturates out of range
// (C++ leaves those cases undefined; numpy gives platform garbage, so any defined answer will do).
template <typename T>
T saturate_cast(double v) {
  if constexpr (kIsFloat<T>) {
    return static_cast<T>(v);
  } else {
    if (std::isnan(v)) return T(0);
    if (v <= static_cast<double>(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    if (v >= static_cast<double>(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    return static_cast<T>(v);
  }
}

// Pow(x, e): the result has x's type. Integer powers of integers are exact (wrapping like numpy);
// anything involving a float goes through double.
template <typename T, typename E>
T pow_scalar(T x, E e) {
  if constexpr (!kIsFloat<T> && !kIsFloat<E>) {
    if constexpr (std::is_signed_v<E>) {
      if (e < 0) {  // only +-1 have integer reciprocals
        if (x == T(1)) return T(1);
        if constexpr (std::is_signed_v<T>) {
          if (x == T(-1)) return (e % 2) ? T(-1) : T(1);
        }
        return T(0);
      }
    }
    using U = std::make_unsigned_t<std::conditional_t<sizeof(T) < sizeof(int), int, T>>;
    U base = static_cast<U>(x), r = 1;
    auto n = static_cast<std::make_unsigned_t<E>>(e);
    while (n) {
      if (n & 1) r = static_cast<U>(r * base);
      base = static_cast<U>(base * base);
      n >>= 1;
    }
    return static_cast<T>(r);
  } else {
    return saturate_cast<T>(std::pow(static_cast<double>(x), static_cast<double>(e)));
  }
}

// Mod with fmod=1 (C fmod: sign of the dividend) or fmod=0 (sign of the divisor, Python's %). Integer
// modulo by zero gives 0, as numpy does; floats always follow fmod, with fmod=0 turning NaN into 0
// (onnx.reference's behaviour; the spec requires fmod=1 for floats).
template <typename T>
T mod_scalar(T a, T b, bool fmod) {
  if constexpr (kIsFloat<T>) {
    const double r = std::fmod(static_cast<double>(a), static_cast<double>(b));
    return static_cast<T>(!fmod && std::isnan(r) ? 0.0 : r);
  } else {
    if (b == 0) return T(0);
    if constexpr (std::is_signed_v<T>) {
      if (b == T(-1)) return T(0);  // also avoids lowest() % -1, which traps
    }
    T r = static_cast<T>(a % b);
    if constexpr (std::is_signed_v<T>) {
      if (!fmod && r != 0 && ((r < 0) != (b < 0))) r = static_cast<T>(r + b);
    }
    return r;
  }
}

// Shifts of unsigned integers; a shift by the width or more gives 0 (numpy's answer, UB in C++).
template <typename T>
T shift_left(T x, T n) {
  return n >= sizeof(T) * 8 ? T(0) : static_cast<T>(x << n);
}
template <typename T>
T shift_right(T x, T n) {
  return n >= sizeof(T) * 8 ? T(0) : static_cast<T>(x >> n);
}

// Max / Min propagating NaN (np.maximum / np.minimum).
template <typename T>
T max_scalar(T a, T b) {
  if constexpr (kIsFloat<T>) {
    const WideT<T> x = a, y = b;
    if (std::isnan(x)) return a;
    if (std::isnan(y)) return b;
    return x < y ? b : a;
  } else {
    return a < b ? b : a;
  }
}
template <typename T>
T min_scalar(T a, T b) {
  if constexpr (kIsFloat<T>) {
    const WideT<T> x = a, y = b;
    if (std::isnan(x)) return a;
    if (std::isnan(y)) return b;
    return y < x ? b : a;
  } else {
    return b < a ? b : a;
  }
}

// out = cond ? x : y with broadcasting, for any fixed-size element (1, 2, 4 or 8 bytes): the selection
// does not depend on the element type, so one instantiation per size serves every dtype.
void where_fixed(const bool* cond, const Dims& dc, const void* x, const Dims& dx, const void* y,
                 const Dims& dy, void* out, const Dims& dout, size_t elem_size);

}  // namespace ingot::ref
