// Runtime dtype -> C++ type dispatch: f(TypeTag<T>{}) is called with the element type of `t`.
// Each returns false (and calls nothing) when the dtype is not in its family.
#pragma once

#include <cstdint>
#include <string>

#include "ingot/dtype.h"

namespace ingot {

template <typename T>
struct TypeTag {
  using type = T;
};

// float32, float64, float16, bfloat16.
template <typename F>
bool dispatch_float(DType t, F&& f) {
  switch (t) {
    case DType::kF32: f(TypeTag<float>{}); return true;
    case DType::kF64: f(TypeTag<double>{}); return true;
    case DType::kF16: f(TypeTag<Float16>{}); return true;
    case DType::kBF16: f(TypeTag<BFloat16>{}); return true;
    default: return false;
  }
}

// Every integer type (not bool).
template <typename F>
bool dispatch_integer(DType t, F&& f) {
  switch (t) {
    case DType::kI8: f(TypeTag<int8_t>{}); return true;
    case DType::kI16: f(TypeTag<int16_t>{}); return true;
    case DType::kI32: f(TypeTag<int32_t>{}); return true;
    case DType::kI64: f(TypeTag<int64_t>{}); return true;
    case DType::kU8: f(TypeTag<uint8_t>{}); return true;
    case DType::kU16: f(TypeTag<uint16_t>{}); return true;
    case DType::kU32: f(TypeTag<uint32_t>{}); return true;
    case DType::kU64: f(TypeTag<uint64_t>{}); return true;
    default: return false;
  }
}

// Floats and integers (not bool).
template <typename F>
bool dispatch_arith(DType t, F&& f) {
  return dispatch_float(t, f) || dispatch_integer(t, f);
}

// Floats, integers and bool.
template <typename F>
bool dispatch_numeric(DType t, F&& f) {
  if (t == DType::kBool) {
    f(TypeTag<bool>{});
    return true;
  }
  return dispatch_arith(t, f);
}

// Everything with a C++ element type, strings included.
template <typename F>
bool dispatch_all(DType t, F&& f) {
  if (t == DType::kString) {
    f(TypeTag<std::string>{});
    return true;
  }
  return dispatch_numeric(t, f);
}

}  // namespace ingot
